"""CPU time per drawn example, per property family, for two versions of gptspec side by side.

    python benchmarks/draw_examples.py [--before REV] [-n 200] [--rounds 3] [--per-property]

For every property of the catalogue (``gptspec.properties.registry.properties()``) a Hypothesis
test with an empty body is run over its ``strategy()`` with ``settings(max_examples=N,
database=None, derandomize=True, phases=[generate])``: what is measured is exactly what a
verdict pays to draw examples (Hypothesis's engine, the strategies, NumPy's fills), and nothing
of the property itself. The figure is process CPU time over the number of examples the body saw.

"before" is the source tree of git revision REV (default: ``main``), exported with ``git archive``
into a temporary directory; "after" is this working tree's ``src``. Each is measured in a fresh
interpreter of its own (``PYTHONPATH`` set to its ``src``), rounds alternating before/after so a
machine that slows down slows both; the table shows the minimum over rounds. Prints figures only;
asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(n: int, only: str | None) -> dict[str, tuple[str, int, float]]:
    """{property: (family, examples drawn, CPU seconds)} for the gptspec on sys.path."""
    import numpy as np
    from hypothesis import HealthCheck, Phase, given, settings

    from gptspec.properties.catalogue import properties

    drawn_settings = settings(
        max_examples=n, database=None, derandomize=True, deadline=None, phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    out: dict[str, tuple[str, int, float]] = {}
    for prop in properties():
        if only and only not in prop.name:
            continue
        seen = [0]

        @drawn_settings
        @given(prop.strategy())
        def draw(example: object) -> None:
            seen[0] += 1

        with np.errstate(all="ignore"):
            draw()  # warm-up: imports, strategy construction, NumPy's first calls
            seen[0] = 0
            started = time.process_time()
            draw()
            cpu = time.process_time() - started
        out[prop.name] = (prop.family, seen[0], cpu)
    return out


def worker(src: str, n: int, only: str | None) -> dict[str, tuple[str, int, float]]:
    env = dict(os.environ, PYTHONPATH=src)
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import draw_examples as d; "
        "print(json.dumps(d.measure(int(sys.argv[2]), sys.argv[3] or None)))"
    )
    done = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent), str(n), only or ""],
                          env=env, capture_output=True, text=True, check=True)
    check = subprocess.run([sys.executable, "-c", "import gptspec; print(gptspec.__file__)"], env=env,
                           capture_output=True, text=True, check=True)
    assert check.stdout.strip().startswith(src), f"{src} is not the gptspec imported: {check.stdout}"
    return {k: tuple(v) for k, v in json.loads(done.stdout.splitlines()[-1]).items()}  # type: ignore[misc]


def export(rev: str, into: Path) -> str:
    """``rev``'s src/ exported into ``into``; returns the path of that src."""
    archive = into / "src.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", "-o", str(archive), rev, "src"], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return str(into / "src")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="main", help="git revision measured as 'before' (default main)")
    parser.add_argument("-n", type=int, default=200, help="examples per property (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the minimum is shown (default 3)")
    parser.add_argument("--only", default=None, help="only properties whose name contains this")
    parser.add_argument("--per-property", action="store_true", help="also print one row per property")
    args = parser.parse_args()

    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.before], capture_output=True,
                         text=True, check=True).stdout.strip()
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "src"], capture_output=True,
                           text=True, check=True).stdout.strip()
    runs: dict[str, list[dict[str, tuple[str, int, float]]]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory() as tmp:
        before_src = export(args.before, Path(tmp))
        for _ in range(args.rounds):
            runs["before"].append(worker(before_src, args.n, args.only))
            runs["after"].append(worker(str(ROOT / "src"), args.n, args.only))

    def best(which: str) -> dict[str, tuple[str, int, float]]:
        """Per property: the round with the least CPU per example."""
        rounds = runs[which]
        return {name: min((r[name] for r in rounds), key=lambda v: v[2] / max(v[1], 1)) for name in rounds[0]}

    before, after = best("before"), best("after")
    print(f"CPU ms per drawn example; before = {args.before} ({rev}), after = working tree (HEAD {head}"
          f"{', src modified' if dirty else ''}); {args.n} examples per property, min of {args.rounds} rounds")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    rows = []
    families: dict[str, list[str]] = collections.defaultdict(list)
    for name, (family, _, _) in after.items():
        families[family].append(name)

    def per_example(result: dict[str, tuple[str, int, float]], names: list[str]) -> tuple[float, int]:
        present = [result[n] for n in names if n in result]
        drawn = sum(v[1] for v in present)
        return 1e3 * sum(v[2] for v in present) / max(drawn, 1), drawn

    width = max(len(n) for n in after) if args.per_property else 12
    header = f"{'family':<{width}} {'props':>5} {'before ms':>10} {'after ms':>9} {'after/before':>13}"
    print(header)
    print("-" * len(header))
    for family, names in list(families.items()) + [("all", list(after))]:
        b, _ = per_example(before, names)
        a, _ = per_example(after, names)
        rows.append((family, len(names), b, a))
        print(f"{family:<{width}} {len(names):>5} {b:>10.3f} {a:>9.3f} {a / b if b else float('nan'):>12.2f}×")
        if args.per_property and family != "all":
            for name in names:
                b1, _ = per_example(before, [name])
                a1, _ = per_example(after, [name])
                print(f"  {name:<{width - 2}} {'':>5} {b1:>10.3f} {a1:>9.3f} {a1 / b1 if b1 else float('nan'):>12.2f}×")
    total_b = sum(v[2] for v in before.values())
    total_a = sum(v[2] for v in after.values())
    print(f"CPU s to draw {args.n} examples of every property: before {total_b:.2f} s, after {total_a:.2f} s")


if __name__ == "__main__":
    main()
