"""gptspec type-checks cleanly: mypy, configured in pyproject.toml's [tool.mypy], reports no error."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_reports_no_errors():
    pytest.importorskip("mypy", reason="mypy comes with the test extra: pip install -e .[test]")
    # cwd = the repository: mypy reads pyproject.toml there and keeps its cache in .mypy_cache/
    done = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, f"mypy exited {done.returncode}:\n{done.stdout}{done.stderr}"
    assert "Success: no issues found" in done.stdout, done.stdout
