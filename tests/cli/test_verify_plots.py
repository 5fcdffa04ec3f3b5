"""`gptspec verify --plots DIR`: each failed attention property drawn, expected beside the target's
pattern with the wrong entries marked; nothing for what passed; a note, not a failure, without matplotlib."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest

from gptspec import plots
from gptspec.cli import main
from gptspec.cli.verify import _plots
from gptspec.verification.describe import as_data

from .test_plot import pixels_of, written_png

pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[2]
RED = "#ff0000"


def _report(status: str, got: np.ndarray, function: str = "attention_pattern") -> dict:
    expected = np.tril(np.ones((4, 4))).T / np.arange(1, 5)  # keys ↓ queries →: column q spreads over keys 0 … q
    failure = None if status == "passed" else {
        "kind": "does not hold", "function": function, "expected": as_data(expected), "got": as_data(got),
        "at": [3, 0], "cause": {"sentence": "the mask is on the wrong triangle"}}
    return {"results": [{"name": "agreement.attention_pattern", "status": status, "failure": failure}]}


def test_a_failed_pattern_is_drawn_with_its_wrong_entries_marked_and_a_pass_is_not(tmp_path: Path) -> None:
    wrong = np.tril(np.ones((4, 4))) / np.arange(4, 0, -1)[:, None]  # the wrong triangle
    written = plots.failure_plots(_report("failed", wrong), tmp_path / "bad")
    assert written == [str(tmp_path / "bad" / "agreement.attention_pattern.png")]
    marked = pixels_of(written_png(Path(written[0])), RED)
    nearly = np.tril(np.ones((4, 4))).T / np.arange(1, 5)
    nearly[0, 3] += 0.5  # one wrong entry: fewer marks
    one = plots.failure_plots(_report("failed", nearly), tmp_path / "one")
    assert 0 < pixels_of(written_png(Path(one[0])), RED) < marked
    assert plots.failure_plots(_report("passed", wrong), tmp_path / "ok") == []
    assert plots.failure_plots(_report("failed", wrong, "multi_head_attention"), tmp_path / "mha") == []
    assert not (tmp_path / "ok").exists()


def test_verify_plots_writes_the_picture_of_a_real_failure(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = tmp_path / "plots"
    code = main(["verify", str(ROOT / "examples" / "bug_missing_scale.py"), "--layout", "rows", "--profile", "quick",
                 "--seed", "0", "--only", "agreement.attention_pattern", "--plots", str(folder)])
    assert code == 1
    png = folder / "agreement.attention_pattern.png"
    assert f"wrote {png}" in capsys.readouterr().out
    assert pixels_of(written_png(png), RED) > 0


def test_without_matplotlib_plots_are_skipped_with_a_note(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    report = types.SimpleNamespace(to_dict=lambda: _report("failed", np.zeros((4, 4))))
    _plots(report, str(tmp_path / "plots"))
    err = capsys.readouterr().err
    assert "--plots skipped" in err and "pip install gptspec[plot]" in err
    assert not (tmp_path / "plots").exists()
