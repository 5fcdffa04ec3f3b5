"""The ordinary domain: the magnitudes and temperatures real models meet.

A property that fails on an ordinary example is a bug every user can hit: ``gptspec verify``
calls it **failed**. One that holds on every ordinary example and fails only beyond — scores of
1e10, a temperature of 5e-324 — is **fragile**: reported with its onset (where along the example's
own scale it starts to fail) and not counted as failed unless ``--strict``. The strategies keep
drawing both (half the examples at unit scale, the rest small or large, temperatures down to the
smallest subnormal), so the search finds fragility too; this module says where ordinary ends.

The bounds, and why:

- **Attention scores** ``|KᵀQ| / √d_head`` up to ``SCORES_MAX = 1e6``. Pythia-70m's scores on
  real text fell below −1e5 (TransformerLens issue 318, fixed by masking with −∞ in PR 366), so
  −1e5 is a magnitude trained models reach; ×10 is the margin. A mask constant of −1e4 (Hugging
  Face transformers issues 9594, 15199) or −1e5 (TransformerLens) therefore **fails**; one of
  −1e10 (picoGPT) is fragile, with its onset at |scores| ≈ 1e10; ``finfo(dtype).min`` and −∞ hold.
- **Softmax inputs** (logits, and the scores a pattern's softmax takes) up to ``LOGITS_MAX =
  1e6``: the same bound, since one softmax serves both. Trained GPTs' logits are in the tens to
  hundreds; a softmax without max-subtraction overflows float32 at 89 and float64 at 710, inside
  the ordinary domain, so it **fails**. Beyond 1e6 lie inputs near the dtype's limits (up to
  ±3.4e38 and ±1.8e308), which ``softmax.finite_for_finite_input`` searches on purpose.
- **Effective logits** ``|x / T|`` of a tempered softmax up to ``LOGITS_MAX`` too: a softmax
  exponentiates x / T, and its ordinary size is what an ordinary softmax input is.
- **Sampling temperatures** from ``T_MIN = 0.01`` to ``T_MAX = 2``, and T = 0 (greedy). Sampling
  APIs accept T in [0, 2] (OpenAI's; the spec's ``sample`` too). Below 0.01 sampling is greedy for
  every practical purpose — a logit gap of 0.1 already weighs e^10 ≈ 22,000 : 1 — and vLLM raises
  any 0 < T < 0.01 to 0.01 with the warning that smaller ones "may cause numerical errors NaN or
  inf". T = 1e-300 or a subnormal T (5e-324, which the strategies draw) is absurd: ``logits / T``
  overflows, so ``torch.softmax(logits / T)`` (nanoGPT, HF's TemperatureLogitsWarper) is fragile
  there, not failed.

How a property takes part: ``@prop(..., scale=Scale(...))`` declares, as a field of the property, the one
quantity that decides whether an example is ordinary — how to measure it on an example, the
ordinary range, how to move an example along its own scale to a given value of the quantity
(scale Q and K, or W_Q and W_K; scale the logits; set T), and optionally a likely cause for an
onset. A property without a declaration is never fragile: its failures are failures
(:func:`gptspec.verification.fragility.assess` does the search).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "SCORES_MAX", "LOGITS_MAX", "T_MIN", "T_MAX", "Scale",
    "scores_size", "head_scores_size", "finite_size", "times", "with_rows", "short", "mask_cause", "overflow_cause",
    "divide_first_cause", "temperature_argument",
]

SCORES_MAX = 1e6
"""Largest ordinary |attention score| KᵀQ/√d_head: 10× the −1e5 Pythia-70m's scores went below."""

LOGITS_MAX = 1e6
"""Largest ordinary |softmax input| (logits, scores, x / T): the scores' bound, one softmax serving both."""

T_MIN = 1e-2
"""Smallest ordinary sampling temperature above 0 (vLLM raises smaller ones to it)."""

T_MAX = 2.0
"""Largest sampling temperature (sampling APIs, and the spec's ``sample``, accept T in [0, 2])."""


@dataclasses.dataclass(frozen=True)
class Scale:
    """The quantity that decides whether a property's example is ordinary, and how to move along it.

    ``measure(example)`` is the quantity (e.g. max |scores|); the example is ordinary while it
    lies in [``low``, ``high``]. ``at(example, value)`` is the example moved along its own scale so
    that its quantity is about ``value`` (e.g. Q and K times √(value / measure)); the onset search
    re-measures what comes out, so ``at`` need not be exact. ``cause(example, holds, fails)`` may
    name a likely cause for an onset between ``holds`` and ``fails``.
    """

    quantity: str  # "|scores|", "|x|", "|x/T|", "T"
    measure: Callable[[Any], float]
    at: Callable[[Any, float], Any]
    low: float = 0.0
    high: float = math.inf
    cause: Callable[[Any, float, float], str | None] = lambda example, holds, fails: None

    def ordinary(self, value: float) -> bool:
        return self.low <= value <= self.high

    @property
    def bounds(self) -> str:
        """The ordinary range in words: "|scores| ≤ 1e6", "0.01 ≤ T ≤ 2"."""
        if self.low > 0:
            return f"{short(self.low)} ≤ {self.quantity} ≤ {short(self.high)}"
        return f"{self.quantity} ≤ {short(self.high)}"


# ---------------------------------------------------------------------------------------------
# Measures and moves shared by the families


def scores_size(Q: np.ndarray, K: np.ndarray) -> float:
    """max |KᵀQ| / √d_head over every key, query (and head: stacked [..., d_head, ctx] works), in float64."""
    Q64, K64 = np.asarray(Q, dtype=np.float64), np.asarray(K, dtype=np.float64)
    with np.errstate(all="ignore"):
        s = np.abs(np.swapaxes(K64, -1, -2) @ Q64) / math.sqrt(max(Q64.shape[-2], 1))
    return float(np.max(np.nan_to_num(s, nan=np.inf), initial=0.0))


def head_scores_size(E: np.ndarray, W_Q: np.ndarray, W_K: np.ndarray) -> float:
    """max |scores| of the head(s) W_Q, W_K ([d_head d_model] or stacked) on E [d_model ctx]."""
    with np.errstate(all="ignore"):
        E64 = np.asarray(E, dtype=np.float64)
        return scores_size(np.asarray(W_Q, dtype=np.float64) @ E64, np.asarray(W_K, dtype=np.float64) @ E64)


def finite_size(x: np.ndarray) -> float:
    """max |x| over its finite entries (0 if none): −∞ holes are not magnitudes."""
    a = np.abs(np.asarray(x, dtype=np.float64))
    return float(np.max(np.where(np.isfinite(a), a, 0.0), initial=0.0))


def times(a: np.ndarray, c: float) -> np.ndarray:
    """``a`` times ``c``, computed in float64 and rounded back to a's dtype (−∞ stays −∞)."""
    with np.errstate(all="ignore"):
        return (np.asarray(a, dtype=np.float64) * c).astype(a.dtype)


def with_rows(example: Any, c: float, *fields: str) -> Any:
    """The dataclass ``example`` with each of ``fields`` times ``c``."""
    return dataclasses.replace(example, **{f: times(getattr(example, f), c) for f in fields})


# ---------------------------------------------------------------------------------------------
# Likely causes


def short(value: float) -> str:
    """3 significant digits, exponents without "+" or leading zeros: 9.99e5, 1e10, 0.01."""
    text = f"{value:.3g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def _round_power(value: float) -> float | None:
    """10^k when ``value`` lies within a factor 2 of it (how an onset points at a round constant)."""
    if not (value > 0 and math.isfinite(value)):
        return None
    k = round(math.log10(value))
    return 10.0**k if abs(math.log10(value) - k) <= math.log10(2) else None


def mask_cause(example: Any, holds: float, fails: float) -> str | None:
    """Attention that fails once |scores| reach some 1e4 or more: a finite mask constant."""
    if not fails >= 1e3:
        return None
    p = _round_power(fails)
    near = f"−{short(p)}?" if p is not None else f"of the order of −{short(fails)}"
    return f"the mask is likely a finite constant ({near}) instead of −∞: masked keys get weight once scores reach it"


def overflow_cause(dtype: Any, fails: float) -> str | None:
    """A quantity failing near the dtype's largest value: something overflows."""
    if dtype is None:
        return None
    top = float(np.finfo(dtype).max)
    if fails >= top / 64:
        return f"an intermediate overflows {np.dtype(dtype)} (largest {short(top)}) near the top of its range"
    p = _round_power(fails)
    if p is not None and p >= 1e3:
        return f"a finite constant of about ±{short(p)} stands in for ±∞"
    return None


def divide_first_cause(logits: np.ndarray, T: float) -> str | None:
    """A temperature that fails once logits / T overflows: the division comes before the max-subtraction."""
    top = float(np.finfo(logits.dtype).max)
    size = finite_size(logits)
    fix = f"divide (logits − max logits) by T, or treat T below {T_MIN:g} as greedy"
    if logits.dtype.type(T) == 0:
        return f"T rounds to 0 in {logits.dtype}, so logits / T is ±∞ or 0/0 = NaN: {fix}"
    if size == 0 or size / T < top / 16:
        return None
    return f"logits / T overflows {logits.dtype} (|logits / T| > {short(top)}) before the softmax subtracts its max: {fix}"


def temperature_argument(index: int) -> Scale:
    """The scale of an argument tuple whose entry ``index`` is ``sample``'s temperature (and entry 0 its logits)."""

    def at(args: tuple[Any, ...], value: float) -> tuple[Any, ...]:
        return (*args[:index], float(value), *args[index + 1:])

    return Scale("T", lambda args: float(args[index]), at, low=T_MIN, high=T_MAX,
                 cause=lambda args, holds, fails: divide_first_cause(args[0], fails))
