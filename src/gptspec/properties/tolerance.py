"""Tolerances, one per dtype, in one place, with the reason for each number.

Properties that compare two computations of the same value (a per-head sum with a concatenation,
a prefix with the whole, an implementation with the reference) allow

    |got − want| <= atol + rtol · scale

where ``scale`` is the size of the terms that were summed (|W_V_up| |W_V_down| |E| A for an
attention output), not the size of the result, so cancellation never makes the test flaky.
Attention adds one more term: a score rounded by δ moves at most 2δ of a column's probability
mass, so outputs computed from scores of size S may differ by 2 · score_rtol · S · value scale.
Properties stated exactly (masked entries are 0, the future does not change the past, ids in
range) use no tolerance at all.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

__all__ = ["Tolerance", "TOLERANCES", "tolerance", "head_tolerance", "batched_tolerance"]


@dataclasses.dataclass(frozen=True)
class Tolerance:
    dtype: np.dtype
    rtol: float
    atol: float
    score_rtol: float
    reason: str

    @property
    def eps(self) -> float:
        """Machine epsilon of the dtype: the spacing of floats just above 1."""
        return float(np.finfo(self.dtype).eps)

    def of(self, scale: Any) -> Any:
        """atol + rtol · scale (scale a number or an array of per-entry scales)."""
        return self.atol + self.rtol * np.asarray(scale, dtype=np.float64)

    def normalisation(self, n: int) -> float:
        """How far Σ p may be from 1 over n probabilities.

        Each p = z / Σz is rounded once (eps/2) and Σz adds n − 1 roundings (eps/2 each); summing
        the n p's adds n − 1 more. 4 (n + 1) eps covers all three with room for exp's own error.
        """
        return 4 * (n + 1) * self.eps

    def logits_shift(self, size: float) -> float:
        """How much softmax may move when logits of size ``size`` are rounded once more (x + c)."""
        return 2 * self.eps * size + self.normalisation(8)

    def attention(self, value_scale: Any, score_scale: float) -> Any:
        """Two computations of an attention output: value path plus the scores' rounding."""
        return self.atol + np.asarray(value_scale, np.float64) * (self.rtol + 2 * self.score_rtol * score_scale)


SCORE_EPS = 16
"""Scores are dot products of ≤ 8 terms: each is within 16 eps of its size |K|ᵀ|Q|, in any dtype."""


def _of_dtype(dtype: Any, rtol: float, atol: float, reason: str) -> Tolerance:
    """The tolerance of ``dtype``: rtol and atol as given, score_rtol = SCORE_EPS · eps."""
    dt = np.dtype(dtype)
    return Tolerance(dt, rtol=rtol, atol=atol, score_rtol=SCORE_EPS * float(np.finfo(dt).eps), reason=reason)


TOLERANCES: dict[np.dtype, Tolerance] = {
    t.dtype: t
    for t in (
        _of_dtype(np.float64, rtol=1e-10, atol=1e-300, reason=(
            "eps 2.2e-16. Two orders of a sum of ≤ 8 terms in a chain of ≤ 10 operations differ by "
            "≲ 100 eps; the model's layer norms divide by σ ≥ √1e-5 and so amplify by ≤ 316: "
            "1e-10 covers both and still sees any real bug, which moves values by ≥ 1e-3. "
            "Scores are dot products of ≤ 8 terms: ≤ 16 eps relative to |K|ᵀ|Q|. atol only keeps "
            "exact zeros comparable."
        )),
        _of_dtype(np.float32, rtol=1e-4, atol=1e-35, reason=(
            "eps 1.2e-7. The same ≲ 100 eps of reordered sums is 1e-5; float32 BLAS kernels may also "
            "block and fuse (FMA) differently per shape, so allow 10× that. A planted bug moves values "
            "by ≥ 1e-2. Scores: ≤ 16 eps relative to |K|ᵀ|Q|, as for float64."
        )),
    )
}


def tolerance(dtype: Any) -> Tolerance:
    """The tolerance for arrays of ``dtype`` (float16 and other floats use float32's)."""
    dt = np.dtype(dtype)
    if dt in TOLERANCES:
        return TOLERANCES[dt]
    return TOLERANCES[np.dtype(np.float32)] if dt.kind == "f" and dt.itemsize < 8 else TOLERANCES[np.dtype(np.float64)]


def _abs64(a: Any) -> np.ndarray:
    return np.abs(np.asarray(a, dtype=np.float64))


def head_tolerance(E_q: Any, E_kv: Any, W_Q: Any, W_K: Any, W_V_down: Any, W_V_up: Any) -> float:
    """How far two correct computations of one head's ΔE may be apart, for the inputs' dtype.

    value scale = max |W_V_up| |W_V_down| |E_kv| (every ΔE entry is a convex mix of its columns);
    score scale = max (|W_K| |E_kv|)ᵀ (|W_Q| |E_q|) / √d_head (what a score's rounding is relative to).
    """
    value_scale = float(np.max(_abs64(W_V_up) @ _abs64(W_V_down) @ _abs64(E_kv), initial=0.0))
    score_scale = float(np.max((_abs64(W_K) @ _abs64(E_kv)).T @ (_abs64(W_Q) @ _abs64(E_q)), initial=0.0))
    d_head = np.shape(W_Q)[0]
    return float(tolerance(np.asarray(E_q).dtype).attention(value_scale, score_scale / np.sqrt(d_head)))


def batched_tolerance(query: Any, key: Any, value: Any, scale: float | None = None) -> float:
    """How far two correct computations of SDPA's output (``[batch heads L Dv]``) may be apart.

    value scale = max |value| (every output is a convex mix of value rows); score scale =
    max |query| |key|ᵀ · scale, scale = 1/√D when None (what a score's rounding is relative to).
    """
    q, k = _abs64(query), _abs64(key)
    s = 1 / np.sqrt(np.shape(query)[-1]) if scale is None else abs(scale)
    score_scale = float(np.max(q @ k.swapaxes(-1, -2), initial=0.0)) * s
    value_scale = float(np.max(_abs64(value), initial=0.0))
    return float(tolerance(np.asarray(query).dtype).attention(value_scale, score_scale))
