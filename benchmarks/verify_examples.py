"""How long ``gptspec verify`` takes on each example, default profile, as a user runs it.

Each example is verified in a fresh process (``python -m gptspec verify EXAMPLE --layout rows
--seed S --json F``), so the figure includes start-up (importing NumPy, Hypothesis, torch for
the torch example, the catalogue). The target for a complete implementation is at most 20 s on
the 2-core machine; the last column is the wall time as a fraction of that target.

    python benchmarks/verify_examples.py [--profile default] [--seed 0] [EXAMPLE ...]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

from rich.console import Console
from rich.table import Table

ROOT = pathlib.Path(__file__).resolve().parents[1]
TARGET_SECONDS = 20.0


def examples(names: list[str]) -> list[pathlib.Path]:
    folder = ROOT / "examples"
    if names:
        return [pathlib.Path(n) if pathlib.Path(n).exists() else folder / n for n in names]
    correct = [folder / "numpy_rows.py", folder / "torch_sdpa.py"]
    return correct + sorted(p for p in folder.glob("bug_*.py") if "--layout rows" in p.read_text())


def time_one(example: pathlib.Path, profile: str, seed: int) -> tuple[float, dict]:
    """Wall seconds of one verify run in a fresh interpreter, and its JSON report."""
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "report.json"
        command = [sys.executable, "-m", "gptspec", "verify", str(example), "--layout", "rows",
                   "--profile", profile, "--seed", str(seed), "--json", str(out)]
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        return wall, json.loads(out.read_text()) if out.exists() else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="EXAMPLE")
    parser.add_argument("--profile", default="default")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    table = Table(title=f"gptspec verify, profile {args.profile}, seed {args.seed} (wall time, fresh process)")
    for col in ("example", "exit", "passed", "failed", "error", "not provided", "search s", "wall s", "wall / 20 s"):
        table.add_column(col, justify="left" if col == "example" else "right")
    for example in examples(args.names):
        wall, report = time_one(example, args.profile, args.seed)
        counts = report.get("counts", {})
        table.add_row(
            example.name, str(report.get("exit_code", "?")),
            *(str(counts.get(s, 0)) for s in ("passed", "failed", "error", "not provided")),
            f"{report.get('seconds', float('nan')):.1f}", f"{wall:.1f}", f"{wall / TARGET_SECONDS:.2f}",
        )
    Console(width=140).print(table)
    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"command: python -m gptspec verify examples/EXAMPLE --layout rows --profile {args.profile} --seed {args.seed}")


if __name__ == "__main__":
    main()
