"""`gptspec plot temperature|pattern|heads --out FILE.png`: each writes a readable PNG."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from gptspec import plots
from gptspec.cli import main

matplotlib_image = pytest.importorskip("matplotlib.image")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def written_png(path) -> np.ndarray:
    """The image at ``path``, after checking it is a PNG with more than one colour."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    pixels = matplotlib_image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert np.ptp(pixels[..., :3]) > 0.5, "the image is (almost) one colour"
    return pixels


def pixels_of(pixels: np.ndarray, hex_colour: str) -> int:
    rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    return int(np.all(np.abs(pixels[..., :3] - rgb) < 1 / 255 + 1e-6, axis=-1).sum())


@pytest.mark.parametrize("kind", ["temperature", "pattern", "heads"])
def test_each_command_writes_a_valid_png(kind, tmp_path, capsys):
    out = tmp_path / f"{kind}.png"
    assert main(["plot", kind, "--out", str(out), "--seed", "3"]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    written_png(out)


def test_the_masked_lower_left_has_its_own_colour(tmp_path):
    out = tmp_path / "pattern.png"
    assert main(["plot", "pattern", "--out", str(out), "--ctx", "6"]) == 0
    pixels = written_png(out)
    # 15 masked cells of 6 × 6: a sizeable share of the picture is the masked grey
    assert pixels_of(pixels, plots.MASKED_COLOUR) > 0.05 * pixels.shape[0] * pixels.shape[1]


def test_without_matplotlib_the_error_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    out = tmp_path / "t.png"
    assert main(["plot", "temperature", "--out", str(out)]) == 2
    assert "pip install gptspec[plot]" in capsys.readouterr().err
    assert not out.exists()


def test_bad_sizes_and_unwritable_paths_are_clear_errors(tmp_path, capsys):
    assert main(["plot", "heads", "--heads", "0", "--out", str(tmp_path / "h.png")]) == 2
    assert "--heads must be at least 1, got 0" in capsys.readouterr().err
    assert main(["plot", "temperature", "--out", str(tmp_path / "missing" / "t.png")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_the_pictured_patterns_are_causal_distributions():
    patterns = plots.head_patterns(plots.PLOT_CONFIG, 7, seed=1)
    assert len(patterns) == plots.PLOT_CONFIG.n_heads
    for A in patterns:
        assert A.shape == (7, 7)
        np.testing.assert_allclose(A.sum(axis=0), 1.0)
        assert np.all(A[np.tril_indices(7, -1)] == 0.0)
    # peaked enough to see: some head puts most of a column on one key
    assert max(float(A.max(axis=0).mean()) for A in patterns) > 0.5
