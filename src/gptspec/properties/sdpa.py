"""The sdpa family: what a kernel with ``scaled_dot_product_attention``'s signature owes.

    out = softmax(query · keyᵀ · scale + bias) · value,   scale = 1/√E when None

(query ``[batch heads L E]``, key ``[batch heads S E]``, value ``[batch heads S Ev]``). The bias
of a bool ``attn_mask`` is 0 where True (True = attend) and −∞ where False; a float mask is the
bias itself; ``is_causal=True`` is the bool mask ``tril(ones(L, S))``. So the kernel must agree
with itself across the ways of saying the same thing: no scale and 1/√E; a scale s and queries
multiplied by s·√E; a bool mask and its additive −∞ form; ``is_causal`` and the explicit causal
mask; and ``dropout_p=0`` is no dropout at all, so two calls give the same output bit for bit
(on at least 2 · 2 · 4 · 4 weights and values >= 1, so that a dropout that happens is seen
in every call: a dropping kernel then fails on replay too, instead of looking flaky).

The properties call the kernel itself, through the entry point ``sdpa_kernel(query, key, value,
**keywords)`` that only the ``sdpa`` convention provides (``gptspec verify K.py:NAME --convention
sdpa``): for every other target they are "not provided". Two calls of a correct kernel may take
different paths (a fused causal kernel, a masked one), so they are compared within the
tolerance of :func:`.tolerance.batched_tolerance`, except for determinism, which is exact.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from . import expect
from .registry import prop
from .strategies import UNIT, Batched, batched_inputs
from .tolerance import batched_tolerance

NEEDS = ("sdpa_kernel",)

SCALES = (0.5, 2.0, 0.125, 1 / 3, 3.0)
"""Explicit scales a kernel is called with (powers of two are exact; 1/3 is not; none is 1, which
with E = 1 is the default)."""


def kernel(impl: Any, b: Batched, what: str, **keywords: Any) -> np.ndarray:
    """The kernel's output on ``b`` with ``keywords``, checked to be ``[batch heads L Dv]``."""
    want = (*b.query.shape[:-1], b.value.shape[-1])
    return expect.shape(f"{what} (query {b.query.shape}, value {b.value.shape})",
                        impl.sdpa_kernel(*b.args, **keywords), want)


@prop("sdpa.default_scale", needs=NEEDS,
      statement="scale=None is scale = 1/√E: kernel(q, k, v) = kernel(q, k, v, scale=1/√E), E = query.shape[-1]",
      strategy=lambda: batched_inputs(min_keys=2))
def default_scale(impl: Any, b: Batched) -> None:
    e = b.query.shape[-1]
    want = kernel(impl, b, f"kernel(q, k, v, scale=1/√{e})", scale=1 / math.sqrt(e))
    expect.close("kernel(q, k, v) with scale=None", kernel(impl, b, "kernel(q, k, v)"), want,
                 batched_tolerance(*b.args), note=f"compared with an explicit scale=1/√{e}")


@st.composite
def scaled(draw: st.DrawFn) -> tuple[Batched, float]:
    return draw(batched_inputs(min_keys=2)), draw(st.sampled_from(SCALES))


@prop("sdpa.scale_multiplies_scores", needs=NEEDS,
      statement="an explicit scale s multiplies the scores: kernel(q, k, v, scale=s) = kernel(q · s√E, k, v)",
      strategy=scaled)
def scale_multiplies_scores(impl: Any, example: tuple[Batched, float]) -> None:
    b, s = example
    e = b.query.shape[-1]
    q = (b.query * b.query.dtype.type(s * math.sqrt(e))).astype(b.query.dtype)
    stretched = Batched(q, b.key, b.value, b.causal, b.magnitude)
    want = kernel(impl, stretched, f"kernel(q · {s:.4g}·√{e}, k, v)")
    expect.close(f"kernel(q, k, v, scale={s:.4g})", kernel(impl, b, f"kernel(q, k, v, scale={s:.4g})", scale=s), want,
                 batched_tolerance(*b.args, scale=s), note="compared with the queries multiplied by s·√E, no scale")


@st.composite
def masked(draw: st.DrawFn) -> tuple[Batched, np.ndarray]:
    """Inputs and a bool mask (True = attend) with at least one key per query row and at least
    one key masked (an all-True mask says nothing), shaped [L S] (broadcast over batch and
    heads) or [batch heads L S]."""
    b = draw(batched_inputs(min_keys=2))
    batch, heads, length, keys = (*b.query.shape[:3], b.key.shape[2])
    shape = draw(st.sampled_from(((length, keys), (batch, heads, length, keys))))
    mask = np.array(draw(st.lists(st.booleans(), min_size=int(np.prod(shape)), max_size=int(np.prod(shape)))),
                    dtype=bool).reshape(shape)
    rows = np.arange(length)
    empty = ~mask.any(axis=-1)
    mask[..., rows, rows % keys] |= empty  # a row with no key allowed gets one: all-masked rows are not SDPA's question
    if mask.all():
        mask[..., 0, keys - 1] = False  # keys >= 2: row 0 still sees key 0
    return b, mask


def _mask_text(mask: np.ndarray) -> str:
    return f"attn_mask {mask.shape} ({int(mask.sum())} of {mask.size} True)"


@prop("sdpa.bool_mask_equals_additive", needs=NEEDS,
      statement="a bool attn_mask (True = attend) equals the additive mask 0 where True, −∞ where False",
      strategy=masked)
def bool_mask_equals_additive(impl: Any, example: tuple[Batched, np.ndarray]) -> None:
    b, mask = example
    additive = np.where(mask, 0.0, -np.inf).astype(b.query.dtype)
    want = kernel(impl, b, "kernel with the additive mask", attn_mask=additive)
    expect.close(f"kernel with the bool {_mask_text(mask)}", kernel(impl, b, "kernel with the bool mask", attn_mask=mask),
                 want, batched_tolerance(*b.args), note="compared with the same mask as 0 / −∞ added to the scores")


@prop("sdpa.is_causal_equals_causal_mask", needs=NEEDS,
      statement="is_causal=True equals attn_mask = tril(ones(L, L)), True = attend: query l sees keys s <= l",
      strategy=lambda: batched_inputs(causal=True, min_keys=2))
def is_causal_equals_causal_mask(impl: Any, b: Batched) -> None:
    length = b.query.shape[2]
    causal = np.tril(np.ones((length, length), dtype=bool))
    want = kernel(impl, b, "kernel with attn_mask=tril(ones(L, L))", attn_mask=causal)
    expect.close(f"kernel(q, k, v, is_causal=True), L = {length}", kernel(impl, b, "kernel with is_causal", is_causal=True),
                 want, batched_tolerance(*b.args), note="compared with the explicit bool mask tril(ones(L, L))")


@st.composite
def dropout_inputs(draw: st.DrawFn) -> Batched:
    """Unit-scale inputs with at least 2 · 2 · 4 · 4 weights, every one of which moves the output
    (values >= 1): a dropout that happens shows in each call, so a failure replays as one."""
    b = draw(batched_inputs(causal=None, min_batch=2, min_heads=2, min_keys=4, min_length=4, magnitude=UNIT))
    return Batched(b.query, b.key, (np.abs(b.value) + 1).astype(b.value.dtype), b.causal, b.magnitude)


@prop("sdpa.dropout_zero_deterministic", needs=NEEDS,
      statement="dropout_p=0 drops nothing: two calls on the same inputs return the same output bit for bit",
      strategy=dropout_inputs)
def dropout_zero_deterministic(impl: Any, b: Batched) -> None:
    first = kernel(impl, b, "kernel(q, k, v, dropout_p=0.0)", dropout_p=0.0, is_causal=b.causal)
    second = kernel(impl, b, "kernel(q, k, v, dropout_p=0.0)", dropout_p=0.0, is_causal=b.causal)
    expect.equal(f"a second call of kernel(q, k, v, dropout_p=0.0, is_causal={b.causal})", second, first,
                 note="compared with the first call on the same inputs")
