"""Expectations that raise :class:`PropertyFailure` saying what was expected and what came back.

Messages describe shapes and the one or two entries that matter (the worst one, with its index),
never whole arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .registry import PropertyFailure

__all__ = ["fmt", "fmt_pair", "at", "where", "array", "shape", "close", "within", "equal", "rejects", "fail"]


def fail(message: str, *, expected: Any = None, got: Any = None, at: tuple[int, ...] | None = None) -> PropertyFailure:
    return PropertyFailure(message, expected=expected, got=got, at=at)


def fmt(x: Any, digits: int = 6) -> str:
    """A number in 6 significant digits."""
    return f"{float(x):.{digits}g}"


def fmt_pair(a: Any, b: Any) -> tuple[str, str]:
    """Two numbers with just enough digits (6 to 17) to tell them apart."""
    for digits in (6, 10, 17):
        x, y = fmt(a, digits), fmt(b, digits)
        if x != y:
            break
    return x, y


def at(index: tuple[int, ...] | int) -> str:
    """``[1, 0]`` for an index tuple."""
    if isinstance(index, (int, np.integer)):
        return f"[{int(index)}]"
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def where(index: tuple[int, ...]) -> str:
    """`` at [1, 0]`` for an entry of an array, nothing for a scalar."""
    return f" at {at(index)}" if index else ""


def array(what: str, value: Any) -> np.ndarray:
    """``value`` as a NumPy array (adapters may hand back tensors or lists)."""
    try:
        return np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - anything that is not array-like
        raise fail(f"{what}: expected an array, got {type(value).__name__} ({exc})") from None


def shape(what: str, got: Any, expected: tuple[int, ...]) -> np.ndarray:
    """``got`` as an array of shape ``expected``."""
    a = array(what, got)
    if a.shape != tuple(expected):
        raise fail(f"{what}: expected shape {tuple(expected)}, got {a.shape}")
    return a


def _worst(excess: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(excess)), excess.shape)) if excess.ndim else ()


def close(what: str, got: Any, want: Any, tol: Any, *, note: str = "") -> None:
    """|got − want| <= tol everywhere (tol a number or per-entry array); NaN never passes."""
    want = np.asarray(want, dtype=np.float64)
    g = shape(what, got, want.shape).astype(np.float64)
    diff = np.abs(g - want)
    bad = ~(diff <= tol)  # NaN compares False, so NaN is bad
    if not bad.any():
        return
    excess = np.where(np.isnan(diff), np.inf, diff - tol)
    i = _worst(excess)
    t = np.broadcast_to(np.asarray(tol, dtype=np.float64), want.shape)[i]
    n = int(bad.sum())
    extra = f"; {note}" if note else ""
    expected, got_ = fmt_pair(want[i], g[i])
    raise fail(
        f"{what}{where(i)}: expected {expected}, got {got_} "
        f"(|Δ| = {fmt(diff[i])} > tolerance {t:.2g}; {n} of {want.size} entries off, shape {want.shape}){extra}",
        expected=want, got=g, at=i)


def within(what: str, got: Any, low: float, high: float, *, note: str = "") -> None:
    """low <= got <= high everywhere; NaN never passes."""
    g = array(what, got)
    bad = ~((g >= low) & (g <= high))
    if not bad.any():
        return
    i = _worst(bad.astype(np.int8))
    extra = f"; {note}" if note else ""
    raise fail(
        f"{what}{where(i)}: expected a value in [{fmt(low)}, {fmt(high)}], got {fmt(g[i])} "
        f"({int(bad.sum())} of {g.size} entries outside, shape {g.shape}){extra}", got=g, at=i)


def equal(what: str, got: Any, want: Any, *, note: str = "") -> None:
    """got == want exactly, entry by entry."""
    want = np.asarray(want)
    g = shape(what, got, want.shape)
    same = (g == want) | (np.isnan(g) & np.isnan(want)) if g.dtype.kind == "f" else g == want
    if np.all(same):
        return
    bad = ~np.asarray(same)
    i = _worst(bad.astype(np.int8))
    extra = f"; {note}" if note else ""
    if want.dtype.kind == "f" and g.dtype.kind == "f":
        expected, got_ = fmt_pair(want[i], g[i])
    else:
        expected, got_ = str(want[i].item()), str(g[i].item())
    raise fail(
        f"{what}{where(i)}: expected exactly {expected}, got {got_} "
        f"({int(bad.sum())} of {want.size} entries differ, shape {want.shape}){extra}", expected=want, got=g, at=i)


def rejects(what: str, call: Callable[[], Any]) -> None:
    """``call()`` must raise (any exception counts as a rejection; a returned value does not)."""
    try:
        value = call()
    except Exception:  # noqa: BLE001 - the property is that it refuses, however it refuses
        return
    if isinstance(value, (tuple, list)):  # (logits, cache), (ΔE, K, V)
        got = f"a {type(value).__name__} of {len(value)} items"
    else:
        got = f"an array of shape {np.shape(value)}" if np.ndim(value) else f"{value!r}"
    raise fail(f"{what}: expected an exception, got {got}")
