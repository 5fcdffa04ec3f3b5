"""Pictures of the reference: temperature, one attention pattern, several heads side by side.

matplotlib is an optional extra (``pip install gptspec[plot]``), imported only when a figure is
drawn, and only through its object API on the Agg canvas: no pyplot, no global backend change.
Each ``*_figure`` function returns a ``matplotlib.figure.Figure``; ``save`` writes it to a PNG.
Patterns are drawn as the spec orients them: keys down the rows, queries across the columns,
the masked lower-left in its own colour.
"""

from __future__ import annotations

import math
import os
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import impl
from .spec import Config
from .spec.types import Embeddings, LogitVector, Pattern

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.image import AxesImage

__all__ = [
    "MissingExtraError", "TEMPERATURES", "PLOT_CONFIG", "WORDS",
    "demo_logits", "demo_embeddings", "head_patterns",
    "temperature_figure", "pattern_figure", "heads_figure", "save",
]

TEMPERATURES = (0.25, 0.5, 1.0, 2.0)
PLOT_CONFIG = Config(vocab=12, d_model=32, n_heads=4, d_head=8, n_ctx=16, n_layers=1, d_mlp=64, name="plot")
"""A config small enough to read every cell of a pattern."""
WORDS = ("a", "fluffy", "blue", "creature", "roamed", "the", "verdant", "forest")
"""Labels for the positions of the pattern pictures (the chapter's example phrase)."""
MASKED_COLOUR = "#d9d9d9"
SCORE_STD = 3.0
"""Std of the random heads' scores KᵀQ/√d_head: large enough that their patterns are visibly peaked."""


class MissingExtraError(ImportError):
    """matplotlib is not installed: the plots need the ``plot`` extra."""


def _matplotlib() -> Any:
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401 - the Agg canvas
    except ImportError as exc:
        raise MissingExtraError(
            f"gptspec plots need matplotlib ({exc}); install it with: pip install gptspec[plot]"
        ) from None
    return matplotlib


def _figure(width: float, height: float) -> Figure:
    _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save(fig: Figure, path: str | os.PathLike[str], dpi: int = 110) -> None:
    """Write ``fig`` as a PNG through the Agg canvas."""
    fig.savefig(os.fspath(path), dpi=dpi, format="png")


# ---------------------------------------------------------------------------------------------
# Demo data from the reference


def demo_logits(vocab: int, seed: int = 0) -> LogitVector:
    """One logit vector: standard normal scaled by 2, so a few tokens stand out."""
    return 2.0 * np.random.default_rng(seed).standard_normal(vocab)


def demo_embeddings(config: Config, ctx: int, seed: int = 0) -> Embeddings:
    """E: ctx random columns of d_model, one per position."""
    return np.random.default_rng(seed).standard_normal((config.d_model, ctx))


def head_patterns(config: Config, ctx: int, seed: int = 0) -> list[Pattern]:
    """A_h = attention_pattern(W_Q[h] E, W_K[h] E) for every head of one block's random weights.

    With E ~ N(0, 1) and weights ~ N(0, s²), a score has std s²·d_model; s is chosen so it is SCORE_STD.
    """
    E = demo_embeddings(config, ctx, seed)
    rng = np.random.default_rng(seed + 1)
    w = impl.random_block_weights(config, rng, dtype=np.float64, scale=math.sqrt(SCORE_STD / config.d_model))
    return [impl.attention_pattern(w.W_Q[h] @ E, w.W_K[h] @ E) for h in range(config.n_heads)]


# ---------------------------------------------------------------------------------------------
# Figures


def temperature_figure(logits: LogitVector, temperatures: Sequence[float] = TEMPERATURES) -> Figure:
    """softmax(logits / T) as bars, one panel per T, tokens sorted by logit (highest first)."""
    order = np.argsort(-logits, kind="stable")
    fig = _figure(3.0 * len(temperatures), 3.4)
    axes = fig.subplots(1, len(temperatures), sharey=True)
    for ax, T in zip(np.atleast_1d(axes), temperatures):
        p = impl.softmax(logits, T)[order]
        entropy = float(-(p[p > 0] * np.log2(p[p > 0])).sum())
        ax.bar(np.arange(len(p)), p, color="#3b75af")
        ax.set_title(f"T = {T:g}\nmax p = {p[0]:.2f}, entropy {entropy:.2f} bits", fontsize=10)
        ax.set_xlabel("token, by logit (high → low)")
        ax.set_xticks(np.arange(len(p)), [str(i) for i in order], fontsize=7)
    np.atleast_1d(axes)[0].set_ylabel("probability")
    fig.suptitle(f"softmax(logits / T) of one logit vector over {len(logits)} tokens "
                 f"(uniform would be {1 / len(logits):.3f})")
    return fig


def _draw_pattern(ax: Any, A: Pattern, labels: Sequence[str], title: str) -> AxesImage:
    """A heatmap of A with keys down, queries across; exact zeros of the mask in their own colour."""
    matplotlib = _matplotlib()
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad=MASKED_COLOUR)
    ctx_k, ctx_q = A.shape
    masked = ~impl.causal_mask(ctx_q) if ctx_k == ctx_q else np.zeros(A.shape, bool)
    image = ax.imshow(np.ma.masked_array(A, mask=masked), cmap=cmap, vmin=0.0, vmax=1.0)
    ax.set_xticks(np.arange(ctx_q), labels[:ctx_q], rotation=60, fontsize=8)
    ax.set_yticks(np.arange(ctx_k), labels[:ctx_k], fontsize=8)
    ax.set_xlabel("queries →")
    ax.set_ylabel("keys ↓")
    ax.set_title(title, fontsize=10)
    return image


def _labels(ctx: int) -> list[str]:
    return [f"{i}:{WORDS[i]}" if i < len(WORDS) else str(i) for i in range(ctx)]


def pattern_figure(A: Pattern) -> Figure:
    """One causal attention pattern: keys ↓, queries →, each column sums to 1, lower-left grey."""
    fig = _figure(6.2, 5.2)
    ax = fig.subplots()
    image = _draw_pattern(ax, A, _labels(A.shape[1]), "attention pattern A: keys ↓, queries →")
    bar = fig.colorbar(image, ax=ax, shrink=0.85)
    bar.set_label("attention weight (each column sums to 1)")
    ax.text(0.02, 0.03, "masked: key after query", transform=ax.transAxes, fontsize=8,
            bbox={"facecolor": MASKED_COLOUR, "edgecolor": "none"})
    return fig


def heads_figure(patterns: Sequence[Pattern]) -> Figure:
    """Several heads' patterns side by side with one shared colour bar."""
    n = len(patterns)
    fig = _figure(3.2 * n + 0.6, 3.9)
    axes = np.atleast_1d(fig.subplots(1, n))
    labels = _labels(patterns[0].shape[1])
    images = [_draw_pattern(ax, A, labels, f"head {h}") for h, (ax, A) in enumerate(zip(axes, patterns))]
    for ax in axes[1:]:
        ax.set_ylabel("")
    fig.colorbar(images[-1], ax=list(axes), shrink=0.8, pad=0.01, label="attention weight")
    fig.suptitle(f"{n} heads of one layer, same tokens, different W_Q[h], W_K[h]: keys ↓, queries → "
                 "(grey: masked)")
    return fig


# ---------------------------------------------------------------------------------------------
# A failed attention property: the expected and the target's pattern side by side (``verify --plots``)

WRONG_RTOL = 1e-6
"""Entries marked wrong in a failure's picture: |got − expected| above this times max(1, max |expected|)."""


def as_array(value: Any) -> np.ndarray | None:
    """An array of a --json report ({"shape", "dtype", "data"}, non-finite entries as strings), or None."""
    if not isinstance(value, dict) or set(value) != {"shape", "dtype", "data"}:
        return None
    floats = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}

    def entry(x: Any) -> Any:
        return [entry(v) for v in x] if isinstance(x, list) else floats.get(x, x) if isinstance(x, str) else x

    return np.array(entry(value["data"]), dtype=np.float64).reshape(value["shape"])


def failure_figure(title: str, expected: np.ndarray, got: np.ndarray, at: Sequence[int] | None = None) -> Figure:
    """The expected and the target's attention pattern side by side (keys ↓, queries →), the wrong
    entries crossed in red on the target's and the worst one ringed."""
    matplotlib = _matplotlib()
    fig = _figure(3.0 * 2 + 1.4, 4.0)
    axes = fig.subplots(1, 2)
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad=MASKED_COLOUR)
    finite = np.concatenate([a[np.isfinite(a)] for a in (expected, got)])
    low, high = (min(0.0, float(finite.min())), max(1.0, float(finite.max()))) if finite.size else (0.0, 1.0)
    with np.errstate(invalid="ignore"):
        wrong = ~(np.abs(got - expected) <= WRONG_RTOL * max(1.0, float(np.nanmax(np.abs(expected), initial=0.0))))
    for ax, A, name in ((axes[0], expected, "expected"), (axes[1], got, "your code")):
        image = ax.imshow(np.ma.masked_invalid(A), cmap=cmap, vmin=low, vmax=high)
        ax.set_xticks(np.arange(A.shape[1]))
        ax.set_yticks(np.arange(A.shape[0]))
        ax.set_xlabel("queries →")
        ax.set_ylabel("keys ↓")
        ax.set_title(name, fontsize=10)
    rows, cols = np.nonzero(wrong)
    axes[1].scatter(cols, rows, marker="x", color="red", s=60, label=f"{rows.size} wrong")
    if at is not None and len(at) == 2:
        axes[1].scatter([at[1]], [at[0]], marker="o", facecolors="none", edgecolors="red", s=220, linewidths=1.5)
    axes[1].legend(loc="upper right", fontsize=8, framealpha=0.8)
    fig.colorbar(image, ax=list(axes), shrink=0.85, pad=0.02, label="attention weight")
    fig.suptitle(textwrap.fill(title, 90), fontsize=9)
    return fig


def failure_plots(report: dict[str, Any], folder: str | os.PathLike[str]) -> list[str]:
    """One PNG per failed (or fragile) attention property of a --json report (``Report.to_dict()``)
    that compared two patterns, in ``folder``: the paths written."""
    written = []
    for result in report.get("results", []):
        failure = result.get("failure") or {}
        if result.get("status") not in ("failed", "fragile") or failure.get("function") != "attention_pattern":
            continue
        expected, got = as_array(failure.get("expected")), as_array(failure.get("got"))
        if expected is None or got is None or expected.ndim != 2 or expected.shape != got.shape:
            continue
        _matplotlib()  # without it: MissingExtraError before anything is made
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"{result['name']}.png")
        cause = failure.get("cause")
        title = f"{result['name']}: " + (f"likely cause: {cause['sentence']}" if cause else failure.get("kind", ""))
        save(failure_figure(title, expected, got, failure.get("at")), path)
        written.append(path)
    return written
