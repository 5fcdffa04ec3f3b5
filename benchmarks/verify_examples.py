"""How long ``gptspec verify`` takes on each example, as a user runs it, at one job and on every core.

Each example is verified in a fresh process (``python -m gptspec verify EXAMPLE --layout rows
--seed S --jobs J --json F``), so the figure includes start-up (importing NumPy, Hypothesis, the
catalogue, and the target's own processes: torch for the torch example). For each example the
two job counts run side by side in this one run, and the table gives the verdict's wall time,
the examples per applicable property and the examples per second, and the ratio between the two
job counts; the verdicts must be equal (a seed reproduces a verdict for any number of jobs). The
targets on the 2-core machine: at most 20 s for a complete correct implementation, 30 s for a
failing one. A second table measures the process boundary itself: one call of a target function
in its own process against the same call in this process (with ``--before``, the before tree's
boundary beside this one's, measured in alternation).

CPU seconds are those of the whole run: the verifier and every process it started (workers and
the target's processes), read with ``getrusage(RUSAGE_CHILDREN)`` around each run. With
``--before REV`` each example is also verified by git revision REV's ``src`` (exported with ``git
archive``), before and after alternating at each job count so a machine that slows down slows
both, and a second table gives CPU and wall seconds side by side and per example.

    python benchmarks/verify_examples.py [--profile default] [--seed 0] [--calls 2000] [--before REV] [--rounds N]
        [--boundary-only] [EXAMPLE ...]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

ROOT = pathlib.Path(__file__).resolve().parents[1]
CORRECT_SECONDS, FAILING_SECONDS = 20.0, 30.0


def examples(names: list[str]) -> list[pathlib.Path]:
    folder = ROOT / "examples"
    if names:
        return [pathlib.Path(n) if pathlib.Path(n).exists() else folder / n for n in names]
    correct = [folder / "numpy_rows.py", folder / "torch_sdpa.py"]
    return correct + sorted(p for p in folder.glob("bug_*.py") if "--layout rows" in p.read_text())


@dataclasses.dataclass
class Run:
    """One verify run: wall and CPU seconds (the verifier and all its child processes), its JSON report."""

    wall: float
    cpu: float
    report: dict[str, Any]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_one(example: pathlib.Path, profile: str, seed: int, jobs: int, src: str | None = None) -> Run:
    """One verify run in a fresh interpreter (``src``: the gptspec source tree to run, default this one)."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = src
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "report.json"
        command = [sys.executable, "-m", "gptspec", "verify", str(example), "--layout", "rows",
                   "--profile", profile, "--seed", str(seed), "--jobs", str(jobs), "--json", str(out)]
        cpu, started = _children_cpu(), time.perf_counter()
        subprocess.run(command, capture_output=True, text=True, check=False, env=env)
        wall, cpu = time.perf_counter() - started, _children_cpu() - cpu
        return Run(wall, cpu, json.loads(out.read_text()) if out.exists() else {})


def fastest(kept: Run | None, new: Run) -> Run:
    """The fastest wall and the least CPU of the runs of one case so far (the report: the newest)."""
    if kept is None:
        return new
    return Run(min(kept.wall, new.wall), min(kept.cpu, new.cpu), new.report)


def export(rev: str, into: pathlib.Path) -> str:
    """``rev``'s src/ exported into ``into``; returns the path of that src."""
    archive = into / "src.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", "-o", str(archive), rev, "src"], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return str(into / "src")


def examples_run(report: dict[str, Any]) -> tuple[int, float]:
    """Examples over the run (generated and shrink steps) and per applicable property."""
    ran = [r["examples"] for r in report.get("results", []) if r["status"] != "not provided"]
    return sum(ran), (sum(ran) / len(ran) if ran else 0.0)


def verdict(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(r["name"], r["status"], r["examples"], (r["failure"] or {}).get("counterexample"))
            for r in report.get("results", [])]


BOUNDARY_CASES = ("softmax, 4 × 5 float64", "multi_head_attention, d_model 6, 3 × 4 heads, ctx 5",
                  "multi_head_attention, GPT-2 small sizes, ctx 64 float32")


def measure_boundary(calls: int) -> dict[str, dict[str, list[float]]]:
    """Per-call cost of the process boundary, in this interpreter's gptspec: for each case and each
    placement of the target's process (``same core`` as this process, as verify runs it, or ``any
    core``), [min in this process, min in the target's process, median in the target's process] in µs."""
    from gptspec import impl
    from gptspec.target import address
    from gptspec.verification.affinity import one_core
    from gptspec.verification.isolation import Setup, TargetProcess

    rng = np.random.default_rng(0)
    small, mha, gpt2 = BOUNDARY_CASES
    cases = {
        small: ("softmax", (rng.standard_normal((4, 5)),)),
        mha: ("multi_head_attention", (
            rng.standard_normal((6, 5)), rng.standard_normal((3, 4, 6)), rng.standard_normal((3, 4, 6)),
            rng.standard_normal((3, 4, 6)), rng.standard_normal((6, 12)))),
        gpt2: ("multi_head_attention", tuple(
            a.astype(np.float32) for a in (rng.standard_normal((768, 64)), rng.standard_normal((12, 64, 768)),
                                           rng.standard_normal((12, 64, 768)), rng.standard_normal((12, 64, 768)),
                                           rng.standard_normal((768, 768))))),
    }
    found: dict[str, dict[str, list[float]]] = {label: {} for label in cases}
    for placement in ("same core", "any core"):
        with one_core() if placement == "same core" else contextlib.nullcontext(), \
                TargetProcess(Setup(address("gptspec.impl"), timeout=None)) as process:
            for label, (name, args) in cases.items():
                n = calls if args[0].size < 10_000 else max(calls // 20, 20)
                here, there = [], []
                for _ in range(n):  # interleaved, so drift hits both sides alike
                    started = time.perf_counter()
                    process.call(name, args, {})
                    there.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    getattr(impl, name)(*args)
                    here.append(time.perf_counter() - started)
                found[label][placement] = [min(here) * 1e6, min(there) * 1e6, statistics.median(there) * 1e6]
    return found


def boundary_in(src: str, calls: int) -> dict[str, dict[str, list[float]]]:
    """:func:`measure_boundary` run by the gptspec in ``src``, in a fresh interpreter."""
    env = dict(os.environ, PYTHONPATH=src)
    out = subprocess.run([sys.executable, __file__, "--measure-boundary", "--calls", str(calls)],
                         capture_output=True, text=True, check=True, env=env).stdout
    return json.loads(out)


def boundary(calls: int, rounds: int, src: str, before_src: str | None) -> Table:
    """The boundary table: this tree's cost per call and, with a before tree, both side by side
    (measured in alternation, ``rounds`` times each; the least min and the least median kept)."""
    sides = [("after", src)] if before_src is None else [("before", before_src), ("after", src)]
    kept: dict[str, dict[str, dict[str, list[float]]]] = {}
    for _ in range(rounds):
        for side, side_src in sides:
            run = boundary_in(side_src, calls)
            old = kept.setdefault(side, run)
            for label in run:
                for placement, values in run[label].items():
                    old[label][placement] = [min(a, b) for a, b in zip(old[label][placement], values)]
    table = Table(title=f"the process boundary: one call (µs), min and median over {calls} calls, best of "
                        f"{rounds} round(s); the target's process on this process's core (as verify runs it) "
                        "and on any core" + ("; before / after side by side" if before_src else ""))
    table.add_column("call", justify="left")
    for column in ("where", "in this process") + tuple(
            f"{c}{' ' + side if before_src else ''}" for side, _ in sides for c in ("own process", "cost", "median")):
        table.add_column(column, justify="right")
    if before_src:
        table.add_column("cost after/before", justify="right")
    for label in BOUNDARY_CASES:
        for placement in ("same core", "any core"):
            local = kept["after"][label][placement][0]
            row = [label, placement, f"{local:.0f}"]
            costs = []
            for side, _ in sides:
                _, remote, middle = kept[side][label][placement]
                costs.append(remote - local)
                row += [f"{remote:.0f}", f"+{remote - local:.0f} ({remote / local:.2f}×)", f"{middle:.0f}"]
            if before_src:
                row.append(f"{costs[1] / costs[0]:.2f}×")
            table.add_row(*row)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="EXAMPLE")
    parser.add_argument("--profile", default="default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--calls", type=int, default=2000, help="calls per case in the boundary table")
    parser.add_argument("--boundary-only", action="store_true", help="only the boundary table (no verify runs)")
    parser.add_argument("--measure-boundary", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--before", default=None, metavar="REV", help="also run git revision REV, side by side")
    parser.add_argument("--rounds", type=int, default=1,
                        help="runs of each case, interleaved (before, after, before, ...); the fastest is shown "
                             "(a shared machine's speed drifts by 10-20%% between runs)")
    args = parser.parse_args()
    if args.measure_boundary:  # one side of the boundary table, run in the tree on PYTHONPATH
        print(json.dumps(measure_boundary(args.calls)))
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    src = str(ROOT / "src")

    table = Table(title=f"gptspec verify, profile {args.profile}, seed {args.seed} (fresh process): "
                        f"--jobs 1 vs --jobs {cores}")
    for col in ("example", "exit", "failed", "examples / property", "wall 1 job", f"wall {cores} jobs",
                "1 job / all", "CPU 1 job", f"CPU {cores} jobs", "examples/s (1 job)", "examples/s (all)", "wall / target", "same verdict"):
        table.add_column(col, justify="left" if col == "example" else "right")
    side = Table(title=f"before ({args.before}) / after (this tree): CPU s (verifier + its processes) and wall s, "
                       "and per example (ms)")
    for col in ("example", "jobs", "CPU before", "CPU after", "after/before", "wall before", "wall after",
                "after/before ", "CPU ms/example before", "after", "same verdict"):
        side.add_column(col, justify="left" if col == "example" else "right")
    with tempfile.TemporaryDirectory() as tmp:
        before_src = export(args.before, pathlib.Path(tmp)) if args.before else None
        for example in [] if args.boundary_only else examples(args.names):
            runs: dict[tuple[str, int], Run] = {}
            for _ in range(args.rounds):
                for jobs in (1, cores):
                    sides = (("before", before_src), ("after", src)) if before_src is not None else (("after", src),)
                    for side_name, side_src in sides:
                        run = time_one(example, args.profile, args.seed, jobs, side_src)
                        runs[side_name, jobs] = fastest(runs.get((side_name, jobs)), run)
            one, every = runs["after", 1], runs["after", cores]
            total, per_property = examples_run(every.report)
            target = CORRECT_SECONDS if every.report.get("exit_code") == 0 else FAILING_SECONDS
            table.add_row(
                example.name, str(every.report.get("exit_code", "?")), str(every.report.get("counts", {}).get("failed", "?")),
                f"{per_property:.0f}", f"{one.wall:.1f} s", f"{every.wall:.1f} s", f"{one.wall / every.wall:.2f}×",
                f"{one.cpu:.1f} s", f"{every.cpu:.1f} s", f"{examples_run(one.report)[0] / one.wall:.0f}",
                f"{total / every.wall:.0f}", f"{every.wall / target:.2f}",
                "yes" if verdict(one.report) == verdict(every.report) else "NO",
            )
            if before_src is None:
                continue
            for jobs in (1, cores):
                b, a = runs["before", jobs], runs["after", jobs]
                nb, na = examples_run(b.report)[0] or 1, examples_run(a.report)[0] or 1
                side.add_row(example.name, str(jobs), f"{b.cpu:.1f}", f"{a.cpu:.1f}", f"{a.cpu / b.cpu:.2f}×",
                             f"{b.wall:.1f}", f"{a.wall:.1f}", f"{a.wall / b.wall:.2f}×", f"{b.cpu / nb * 1e3:.2f}",
                             f"{a.cpu / na * 1e3:.2f}", "yes" if verdict(b.report) == verdict(a.report) else "NO")
        crossing = boundary(args.calls, args.rounds, src, before_src)
    console = Console(width=200)
    if not args.boundary_only:
        console.print(table)
        if args.before:
            console.print(side)
    console.print(crossing)
    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"command: python -m gptspec verify examples/EXAMPLE --layout rows --profile {args.profile} "
          f"--seed {args.seed} --jobs 1|{cores}; fastest of {args.rounds} interleaved run(s) per case")


if __name__ == "__main__":
    main()
