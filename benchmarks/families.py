"""Each model family's whole-model verdict against its floor: bare Hypothesis drawing the same examples.

For each family's correct test file (tests/ecosystem/targets: nanoGPT, minGPT, picoGPT), for
``hf:gpt2``, and for a complete cached implementation a user writes (examples/numpy_kv_cache.py, rows:
every spec function and the KV cache; "kv decode" is its decode family alone), this runs
``verify(TARGET, profile, seed, jobs)`` (the target in its own processes,
start-up included) and, side by side, the floor: every property that ran, its strategy drawn as
many times as the verdict ran it (inside the same declared domain, with a body that does
nothing), in this one process. The ratio is verdict wall time / floor; the floor is what no
verifier built on Hypothesis can go below.

    python benchmarks/families.py [--profile quick] [--seed 0] [--jobs 2] [--rounds 1] [--cases kv-cache,...]
"""

from __future__ import annotations

import argparse
import os
import pathlib
import time

from hypothesis import HealthCheck, Phase, given, settings

from gptspec.properties import domain
from gptspec.properties.catalogue import get
from gptspec.verification import verify

ROOT = pathlib.Path(__file__).resolve().parents[1]
TARGETS = ROOT / "tests" / "ecosystem" / "targets"
KV_CACHE = ROOT / "examples" / "numpy_kv_cache.py"
CASES: dict[str, tuple[object, dict[str, object]]] = {
    "nanoGPT": (TARGETS / "nanogpt_model.py", {}), "minGPT": (TARGETS / "mingpt" / "model.py", {}),
    "picoGPT": (TARGETS / "picogpt_gpt2.py", {}), "hf:gpt2": ("hf:gpt2", {}),
    "kv-cache": (KV_CACHE, {"layout": "rows"}), "kv decode": (KV_CACHE, {"layout": "rows", "only": ["decode"]}),
}
"""label: (target, verify's options)."""


def floor(results: list, assume: tuple[str, ...]) -> float:
    """Seconds Hypothesis takes to draw each property's examples (as many as it ran) and do nothing."""
    declared = domain.parse(assume)
    total = 0.0
    for r in results:
        if r.status not in ("passed", "failed", "fragile") or not r.examples:
            continue
        prop = get(r.name)
        with domain.scoped(declared, prop.needs):
            @settings(max_examples=r.examples, database=None, derandomize=True, deadline=None,
                      phases=[Phase.generate], suppress_health_check=list(HealthCheck))
            @given(prop.strategy())
            def draw(example: object) -> None:
                pass

            start = time.perf_counter()
            draw()
            total += time.perf_counter() - start
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1, help="keep the fastest of N verdicts per family")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of: {', '.join(CASES)}")
    parser.add_argument("--by-family", action="store_true",
                        help="also each property family's search time (Σ of its properties', start-up excluded) "
                             "against its floor")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    print(f"profile {args.profile}, seed {args.seed}, {args.jobs} jobs")
    print(f"{'family':9} {'properties':>10} {'examples':>9} {'verdict s':>10} {'floor s':>8} {'ratio':>6}  verdict")
    for label in args.cases.split(","):
        target, options = CASES[label]
        best = None
        for _ in range(args.rounds):
            start = time.perf_counter()
            report = verify(str(target), profile=args.profile, seed=args.seed, jobs=args.jobs, **options)
            wall = time.perf_counter() - start
            best = (wall, report) if best is None or wall < best[0] else best
        assert best is not None
        wall, report = best
        ran = [r for r in report.results if r.status not in ("not provided", "not applicable")]
        low = floor(ran, report.assumptions)
        verdict = {0: "PASS", 1: "FAIL"}.get(report.exit_code, f"exit {report.exit_code}")
        print(f"{label:9} {len(ran):10d} {sum(r.examples for r in ran):9d} {wall:10.1f} {low:8.2f} "
              f"{wall / low:6.1f}  {verdict}")
        if args.by_family:
            for family in dict.fromkeys(r.family for r in ran):
                mine = [r for r in ran if r.family == family]
                spent, least = sum(r.seconds for r in mine), floor(mine, report.assumptions)
                print(f"  {family:12} {len(mine):5d} {sum(r.examples for r in mine):9d} {spent:10.2f} {least:8.2f} "
                      f"{spent / least:6.1f}  (search only)")


if __name__ == "__main__":
    main()
