"""Arrays drawn as code bytes: one Hypothesis choice per array, decoded by NumPy.

How an array is drawn, cheaply. Drawing entry by entry (``hypothesis.extra.numpy.arrays`` with
an element strategy) costs Hypothesis a few choices per entry — about 400 for one multi-head
example — and its engine's time grows with the choices (mutating, tracking, replaying them).
Here an array is one choice whatever its size: one ``st.binary`` of one code byte per entry.
NumPy decodes the codes through 256-entry tables (see ``_KINDS``): codes 0..127 are
the integers 0, 1, −1, 2, −2, 3, −3 in runs of ~18, in that order; codes 128..255 are floats in
(−4, 4), the sign alternating with the code and the size growing with it, the fraction within a
code's step read from a fixed table of uniforms at a place set by the entry's position and code
(an array once cost a second choice, a seed for the fractions: ~1/3 of an example's choices, and
Hypothesis's engine costs ~50 µs a choice). Random codes make half
the entries integers, half floats, as the entry-wise strategy did. Shrinking keeps what made the
entry-wise strategy readable: Hypothesis shrinks a bytes choice byte by byte (all zero first,
then each byte towards 0, equal bytes together), so a counterexample ends on few non-zero entries
that are small integers, floats only where a float is needed. Sizes shrink too: the code buffer
has room for larger sizes (:func:`_room`) and entry (i, j, …) reads the same byte whatever the sizes,
so a smaller config keeps every remaining entry (a buffer whose length followed the shape would
be replaced by zeros in every array whose shape changed, and the sizes would stay). Logits use quarters (0, ±0.25 … ±3) for the integer codes;
``softmax_inputs(any_finite=True)`` gives half its codes to ±2^e up to the dtype's largest finite
value (and that value itself); −∞ holes and token ids are code bytes too.
``benchmarks/draw_examples.py`` measures the cost per example, ``benchmarks/shrunk_examples.py``
the size of the planted bugs' counterexamples.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from hypothesis import strategies as st

__all__ = ["UNIT", "arrays", "coded", "draw_codes", "integers", "permutations", "sampled"]

UNIT = 1.0
"""The unit magnitude: where every drawn magnitude shrinks to."""


# Strategies a draw builds on every example, built once per argument tuple: Hypothesis's own
# cache of strategy objects costs ~15 µs a lookup (st.integers(1, 6)), and a verdict draws a few
# hundred thousand of them. The same strategy objects, so the same choices and examples.

@functools.lru_cache(maxsize=4096)
def integers(lo: int, hi: int) -> st.SearchStrategy[int]:
    """``st.integers(lo, hi)``, built once."""
    return st.integers(lo, hi)


@functools.lru_cache(maxsize=256)
def sampled(values: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    """``st.sampled_from(values)``, built once."""
    return st.sampled_from(values)


@functools.lru_cache(maxsize=256)
def permutations(n: int) -> st.SearchStrategy[list[int]]:
    """``st.permutations(range(n))``, built once."""
    return st.permutations(range(n))


@functools.lru_cache(maxsize=1024)
def _buffer(total: int) -> st.SearchStrategy[bytes]:
    return st.binary(min_size=total, max_size=total)


# Arrays are drawn as one code byte per entry (one ``st.binary`` choice for the whole array);
# NumPy decodes them through 256-entry tables, vectorised. Low codes are the simple values, in
# the order shrinking should prefer them; a float entry's fraction comes from the table of
# uniforms, at a place set by its position and its code.

_SIMPLE_INTEGERS = (0.0, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0)
_QUARTERS = (0.0, *(sign * k / 4 for k in range(1, 13) for sign in (1, -1)))  # 0, ±0.25 … ±3
_UNIFORMS = np.random.default_rng(0).random(65537)  # a prime count: positions and codes never alias
_STRIDE = 7919  # per buffer position
_CODE_STRIDE = 3271  # per code: the same position with another code reads another fraction


def _runs(table: tuple[float, ...], lo: int, hi: int) -> dict[int, float]:
    """Codes lo..hi−1 in len(table) runs of (nearly) equal length, run r standing for table[r]."""
    return {c: table[(c - lo) * len(table) // (hi - lo)] for c in range(lo, hi)}


def _ramp(lo: int, hi: int, top: float) -> dict[int, tuple[float, float]]:
    """Codes lo..hi−1 as ±top·(k//2 + u)/((hi − lo)/2), k = code − lo, u in [0, 1): the sign
    alternates with the code and the size falls with it, so shrinking a code shrinks the value."""
    half = (hi - lo + 1) // 2
    return {c: ((-1.0 if (c - lo) % 2 else 1.0) * top * ((c - lo) // 2) / half,
                (-1.0 if (c - lo) % 2 else 1.0) * top / half) for c in range(lo, hi)}


def _tables(constant: dict[int, float], linear: dict[int, tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """(A, B) with value = A[code] + B[code]·u: constants where given, else the linear ramps."""
    A, B = np.zeros(256), np.zeros(256)
    for c, v in constant.items():
        A[c] = v
    for c, (a, b) in linear.items():
        A[c], B[c] = a, b
    return A, B


_KINDS: dict[str, tuple[np.ndarray, np.ndarray]] = {
    # integers 0, 1, −1, 2, −2, 3, −3 from codes 0..127 (runs of ~18), floats in (−4, 4) from 128..255
    "simple": _tables(_runs(_SIMPLE_INTEGERS, 0, 128), _ramp(128, 256, 4.0)),
    # 0, ±0.25, … ±3 from every code
    "quarters": _tables(_runs(_QUARTERS, 0, 256), {}),
    # quarters from 0..127, floats in (−4, 4) from 128..255
    "quarters_floats": _tables(_runs(_QUARTERS, 0, 128), _ramp(128, 256, 4.0)),
    # integers from 0..63, floats in (−4, 4) from 64..127; 128..255: see _any_finite
    "any_finite": _tables(_runs(_SIMPLE_INTEGERS, 0, 64), _ramp(64, 128, 4.0)),
}


def _any_finite(codes: np.ndarray, u: np.ndarray, dtype: np.dtype, x: np.ndarray) -> np.ndarray:
    """Codes 128..247: ±2^e, e = log2(dtype max)·(k//2 + u)/60, so from 1 up to the dtype's largest
    finite value, the size growing with the code; 248..255: ±(dtype max) exactly."""
    top = float(np.finfo(dtype).max)
    k = np.clip(codes, 128, 247) - 128
    sign = np.where(codes % 2 == 1, -1.0, 1.0)
    huge = sign * np.minimum(np.exp2((k // 2 + u) / 60 * np.log2(top)), top)
    return np.where(codes < 128, x, np.where(codes < 248, huge, sign * top))


def _decode(codes: np.ndarray, where: np.ndarray, dtype: np.dtype, *, kind: str) -> np.ndarray:
    """Entries (float64) from code bytes (0..255) at buffer positions ``where``; see ``_KINDS`` for
    what each code means (a float's fraction: the uniform at its position and code)."""
    A, B = _KINDS[kind]
    if kind == "quarters":
        return A[codes]
    u = _UNIFORMS[(_STRIDE * where + _CODE_STRIDE * codes) % _UNIFORMS.size]
    x = A[codes] + B[codes] * u
    return _any_finite(codes, u, dtype, x) if kind == "any_finite" else x


def _room(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The code buffer's extent along each axis: 4 up to 4 entries, else the next power of two."""
    return tuple(4 if n <= 4 else 1 << (n - 1).bit_length() for n in shape)


def draw_codes(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """One code byte (0..255) per entry of ``shape`` and its position in the buffer, drawn as one
    ``st.binary`` choice.

    The buffer has room for a larger shape (``_room``), so shrinking a size up to 8 keeps the
    choice's length and every remaining entry's code: entry (i, j, …) reads the same byte
    whatever the sizes. (A length that changed with the shape would make Hypothesis replace all
    the codes of every array whose shape changed, and sizes would not shrink.) Entry (0, 0, …)
    reads the buffer's last byte: Hypothesis moves non-zero bytes to the end when it shrinks, so
    they land on the first rows and columns, which survive sizes shrinking.
    """
    total, where = _positions(tuple(shape))
    buffer = np.frombuffer(draw(_buffer(total)), dtype=np.uint8)
    return buffer[where].astype(np.int64), where


@functools.lru_cache(maxsize=4096)
def _positions(shape: tuple[int, ...]) -> tuple[int, np.ndarray]:
    """The buffer's length for ``shape`` and each entry's position in it (read-only: shared by every draw)."""
    room = _room(shape)
    total = int(np.prod(room, dtype=np.int64))
    where = (total - 1 - np.arange(total)).reshape(room)[tuple(slice(0, n) for n in shape)]
    where.setflags(write=False)
    return total, where


@st.composite
def _draw_coded(draw: st.DrawFn, dtype: np.dtype, shape: tuple[int, ...], kind: str, magnitude: float) -> np.ndarray:
    codes, where = draw_codes(draw, shape)
    with np.errstate(over="ignore"):
        return (_decode(codes, where, dtype, kind=kind) * magnitude).astype(dtype)


@functools.lru_cache(maxsize=4096)
def coded(dtype: np.dtype, shape: tuple[int, ...], kind: str, magnitude: float = UNIT) -> st.SearchStrategy[np.ndarray]:
    """Arrays of ``shape`` decoded from code bytes (see :func:`_decode`), times ``magnitude``.

    One strategy object per argument tuple: Hypothesis validates a strategy once, so building
    a fresh one on every draw would cost more than drawing from it.
    """
    return _draw_coded(np.dtype(dtype), tuple(shape), kind, float(magnitude))


def arrays(dtype: np.dtype, shape: tuple[int, ...], magnitude: float = UNIT) -> st.SearchStrategy[np.ndarray]:
    """An array of simple values times ``magnitude``: each entry an integer −3..3 (half the entries,
    and where shrinking goes: 0 first) or a float in (−4, 4)."""
    return coded(np.dtype(dtype), tuple(int(n) for n in shape), "simple", float(magnitude))

