"""What the diagnosis adds to a failing verdict's wall time: each buggy example verified with and
without it, side by side in one run, as ``gptspec verify`` runs it (one job: the properties run in
this process, each target in its own), the fastest of ``--rounds`` interleaved runs per case (the
order alternating between rounds, so neither side always runs second on warm caches); the last line
gives the largest ratio and the ratio of the summed times.

Without diagnosis means ``runner.diagnose_into`` replaced by a no-op for that run; the verdicts
(statuses) must be equal either way, and with diagnosis each failure's cause is listed.

    python benchmarks/diagnosis.py [--profile default] [--seed 0] [--rounds 2] [EXAMPLE ...]
"""

from __future__ import annotations

import argparse
import contextlib
import pathlib
import sys
import time
from collections.abc import Iterator
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = ("examples/bug_missing_scale.py", "examples/bug_heads_merged_wrong_order.py", "examples/bug_mask_constant.py",
            "examples/bug_softmax_wrong_axis.py", "tests/examples/picogpt_bug_qk_swapped.py",
            "examples/bug_cache_positions_restart.py")


@contextlib.contextmanager
def diagnosis(on: bool) -> Iterator[None]:
    from gptspec.verification import runner

    kept = runner.diagnose_into
    if not on:
        runner.diagnose_into = lambda *args, **kwargs: None  # type: ignore[assignment]
    try:
        yield
    finally:
        runner.diagnose_into = kept


def run(example: str, on: bool, profile: str, seed: int) -> tuple[float, Any]:
    from gptspec import verify

    layout = "rows" if "--layout rows" in (ROOT / example).read_text() else "columns"
    with diagnosis(on):
        start = time.perf_counter()
        report = verify(str(ROOT / example), layout=layout, profile=profile, seed=seed, jobs=1)
        return time.perf_counter() - start, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("examples", nargs="*", default=list(EXAMPLES))
    parser.add_argument("--profile", default="default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(f"{'example':45s} {'without':>9s} {'with':>9s} {'ratio':>7s}  causes")
    ratios, totals = [], {True: 0.0, False: 0.0}
    for example in args.examples:
        best = {True: float("inf"), False: float("inf")}
        reports: dict[bool, Any] = {}
        for i in range(args.rounds):
            for on in ((False, True) if i % 2 == 0 else (True, False)):  # ABBA: neither side always goes second
                seconds, reports[on] = run(example, on, args.profile, args.seed)
                best[on] = min(best[on], seconds)
        statuses = [[r.status for r in reports[on].results] for on in (False, True)]
        assert statuses[0] == statuses[1], f"{example}: the verdict changed with diagnosis"
        causes = sorted({r.failure.cause.name for r in reports[True].results
                         if r.failure is not None and r.failure.cause is not None})
        ratio = best[True] / best[False]
        ratios.append(ratio)
        totals[True] += best[True]
        totals[False] += best[False]
        print(f"{example:45s} {best[False]:8.2f}s {best[True]:8.2f}s {ratio:7.3f}  {', '.join(causes) or '-'}",
              flush=True)
    print(f"{'largest ratio':45s} {'':9s} {'':9s} {max(ratios):7.3f}")
    print(f"{'all examples':45s} {totals[False]:8.2f}s {totals[True]:8.2f}s {totals[True] / totals[False]:7.3f}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
