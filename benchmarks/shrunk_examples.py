"""How small and readable the shrunk counterexamples of the planted bugs are, for two versions side by side.

    python benchmarks/shrunk_examples.py [--before REV] [--per-bug] [--only TEXT]

For every planted bug of ``tests/properties/mutants.py`` (``PLANTED``: property -> bugs) the
property is searched and shrunk with the settings ``tests/properties/test_strategies.py`` uses
(300 examples, derandomized, generate + shrink), and the last example Hypothesis ran (the shrunk
counterexample) is measured: the entries of its arrays, how many are non-zero, and how many of
those are simple — a small integer or quarter (|k| <= 12) times a magnitude the strategies use
(1, 1e-3, 1e1, 1e2, 1e3, 1e5). Arrays of weights containers (``Weights``, ``BlockWeights``) are
left out: both versions fill them from the same seeded recipe. Also the CPU seconds spent.

"before" is git revision REV (default ``main``) exported with ``git archive``; "after" is this
working tree's ``src``; the planted bugs are this tree's ``tests/properties/mutants.py`` in
both. Each version runs in a fresh interpreter of its own. Prints figures only.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from draw_examples import ROOT, export  # noqa: E402

MAGNITUDES = (1.0, 1e-3, 1e1, 1e2, 1e3, 1e5)


def arrays_of(value: Any) -> list[Any]:
    """Every ndarray inside ``value`` (dataclasses, tuples, lists), except weights containers'."""
    import numpy as np

    from gptspec.spec import BlockWeights, Weights

    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, (Weights, BlockWeights)):
        return []
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [a for f in dataclasses.fields(value) for a in arrays_of(getattr(value, f.name))]
    if isinstance(value, (tuple, list)):
        return [a for v in value for a in arrays_of(v)]
    return []


def simple(v: float) -> bool:
    import math

    if not math.isfinite(v):
        return True  # −∞ planted on purpose
    return any(abs(v / m) <= 12 and (4 * v / m).is_integer() for m in MAGNITUDES)


def measure(only: str | None) -> dict[str, dict[str, float]]:
    import numpy as np
    from hypothesis import HealthCheck, Phase, settings

    sys.path.insert(0, str(ROOT))
    from gptspec.properties.catalogue import get
    from tests.properties.mutants import MUTANTS, PLANTED

    shrink = settings(max_examples=300, database=None, derandomize=True, deadline=None,
                      suppress_health_check=list(HealthCheck), phases=[Phase.generate, Phase.shrink],
                      print_blob=False, report_multiple_bugs=False)
    out: dict[str, dict[str, float]] = {}
    for name, bugs in PLANTED.items():
        for bug, _ in bugs:
            key = f"{name} / {bug}"
            if only and only not in key:
                continue
            seen: list[Any] = []
            test = get(name).hypothesis_test(MUTANTS[bug], settings=shrink, on_example=seen.append)
            started = time.process_time()
            try:
                test()
                found = False
            except Exception:
                found = True
            cpu = time.process_time() - started
            arrays = arrays_of(seen[-1]) if found and seen else []
            flat = [float(v) for a in arrays if a.dtype.kind in "fiu" for v in np.asarray(a, np.float64).ravel()]
            nonzero = [v for v in flat if v != 0]
            out[key] = dict(found=float(found), arrays=len(arrays), entries=len(flat), nonzero=len(nonzero),
                            simple=sum(simple(v) for v in nonzero), cpu=cpu)
    return out


def worker(src: str, only: str | None) -> dict[str, dict[str, float]]:
    env = dict(os.environ, PYTHONPATH=src)
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import shrunk_examples as s; "
        "print(json.dumps(s.measure(sys.argv[2] or None)))"
    )
    done = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent), only or ""], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="main", help="git revision measured as 'before' (default main)")
    parser.add_argument("--only", default=None, help="only 'property / bug' keys containing this")
    parser.add_argument("--per-bug", action="store_true", help="one row per planted bug")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        before_src = export(args.before, Path(tmp))
        with ThreadPoolExecutor(2) as pool:  # both versions at once, one core each
            b_future = pool.submit(worker, before_src, args.only)
            a_future = pool.submit(worker, str(ROOT / "src"), args.only)
            before, after = b_future.result(), a_future.result()

    print(f"shrunk counterexamples of the planted bugs: before = {args.before}, after = working tree")
    print(f"{'':<58} {'before':>30}   {'after':>30}")
    cols = f"{'found':>6} {'entries':>8} {'nonzero':>8} {'simple':>7}"
    print(f"{'property / bug':<58} {cols}   {cols}")

    def row(r: dict[str, float]) -> str:
        return f"{int(r['found']):>6} {int(r['entries']):>8} {int(r['nonzero']):>8} {int(r['simple']):>7}"

    if args.per_bug:
        for key in after:
            print(f"{key[:58]:<58} {row(before[key])}   {row(after[key])}")

    def total(r: dict[str, dict[str, float]]) -> dict[str, float]:
        return {k: sum(v[k] for v in r.values()) for k in ("found", "arrays", "entries", "nonzero", "simple", "cpu")}

    tb, ta = total(before), total(after)
    print(f"{'total over ' + str(len(after)) + ' planted bugs':<58} {row(tb)}   {row(ta)}")
    for label, t in (("before", tb), ("after", ta)):
        n = max(t["found"], 1)
        print(f"{label}: mean per counterexample {t['entries'] / n:.1f} entries, {t['nonzero'] / n:.2f} non-zero, "
              f"{100 * t['simple'] / max(t['nonzero'], 1):.1f}% of non-zero entries simple; "
              f"CPU {t['cpu']:.0f} s to find and shrink all")
    worse = [k for k in after if after[k]["nonzero"] > before[k]["nonzero"] or after[k]["entries"] > before[k]["entries"]]
    print(f"counterexamples larger after than before (entries or non-zero): {len(worse)}")
    for k in worse:
        print(f"  {k}: entries {int(before[k]['entries'])} -> {int(after[k]['entries'])}, "
              f"non-zero {int(before[k]['nonzero'])} -> {int(after[k]['nonzero'])}")


if __name__ == "__main__":
    main()
