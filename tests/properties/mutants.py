"""Planted bugs: the reference with one deliberate mistake each, and the property meant to catch it.

``derive(**replacements)`` copies every function of :mod:`gptspec.impl` into one shared namespace
and swaps in the replacements, so a bug planted low (the causal mask, GELU, the pattern's softmax)
reaches every function that calls it (attention_head, block, forward, ...), as it would in a
user's code. The copies are the unchecked functions (the run-time shape checks would otherwise
stop some bugs before a property sees them).

``VERDICTS`` says which of them ``gptspec verify`` calls fragile rather than failed (the rest fail).
``PLANTED`` maps every property name to the planted bugs it must find, each marked with what the
search needs to find it: ``"extremes"`` (large magnitudes: scores of 1e5 and beyond), ``"near_ties"``
(logits 1e-9..1e-5 apart), ``"extremes|near_ties"`` (either one suffices), or nothing (found at unit
scale with well-separated values).
"""

from __future__ import annotations

import dataclasses
import math
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from gptspec import impl
from gptspec.impl.cache import block_cached, empty_cache
from gptspec.properties.causes import derive  # the diagnosis's known causes are built the same way
from gptspec.spec import SIGNATURES

from .padded import PADDED_MUTANTS, padded_model


# ---------------------------------------------------------------------------------------------
# softmax and temperature


def softmax_no_max_subtraction(x, temperature=1.0, axis=-1):
    """exp(x / T) / Σ exp(x / T) straight from the formula: overflows once x / T > ~88 (float32)."""
    z = np.exp(x / temperature)
    return z / z.sum(axis=axis, keepdims=True)


def softmax_log(x, temperature=1.0, axis=-1):
    """Returns log-softmax (x − logsumexp x), the log of the distribution."""
    return np.log(impl.softmax(x, temperature, axis))


def softmax_axis_zero(x, temperature=1.0, axis=-1):
    """Ignores ``axis`` and normalises along axis 0."""
    return impl.softmax(x, temperature, 0)


def softmax_plus_one(x, temperature=1.0, axis=-1):
    """exp(x) / (1 + Σ exp(x)) ('softmax-one'): a phantom logit 0 that absorbs mass."""
    top = np.maximum(np.max(x, axis=axis, keepdims=True), 0)
    z = np.exp((x - top) / temperature)
    return z / (np.exp(-top / temperature) + z.sum(axis=axis, keepdims=True))


def softmax_negated(x, temperature=1.0, axis=-1):
    """softmax(−x): the largest logit gets the smallest probability."""
    return impl.softmax(-x, temperature, axis)


def softmax_smoothed(x, temperature=1.0, axis=-1):
    """(z + 1e-9) / Σ (z + 1e-9): a floor 'to avoid log 0' that gives −∞ a probability."""
    z = impl.softmax(x, temperature, axis) + x.dtype.type(1e-9)
    return z / z.sum(axis=axis, keepdims=True)


def softmax_neg_inf_as_minus_1e4(x, temperature=1.0, axis=-1):
    """Clips logits at −1e4 (a finite stand-in for −∞): leaks once the other logits are near −1e4."""
    return impl.softmax(np.maximum(x, x.dtype.type(-1e4)), temperature, axis)


def softmax_times_T(x, temperature=1.0, axis=-1):
    """Temperature applied as x · T instead of x / T."""
    return impl.softmax(x * x.dtype.type(temperature), 1.0, axis)


def softmax_exp2(x, temperature=1.0, axis=-1):
    """2^((x − max)/T) in place of e^(...): a base-2 kernel without the log2(e) factor."""
    z = np.exp2((x - np.max(x, axis=axis, keepdims=True)) / temperature)
    return z / z.sum(axis=axis, keepdims=True)


def softmax_cold_shortcut_half(x, temperature=1.0, axis=-1):
    """For T < 0.1 returns one-hot at the argmax of the logits rounded to float16."""
    if temperature >= 0.1:
        return impl.softmax(x, temperature, axis)
    top = np.expand_dims(np.argmax(x.astype(np.float16), axis=axis), axis)
    p = np.zeros_like(x)
    np.put_along_axis(p, top, 1.0, axis=axis)
    return p


def softmax_abs_T(x, temperature=1.0, axis=-1):
    """Uses |T| (and T = 0 as 1) instead of rejecting T <= 0."""
    return impl.softmax(x, abs(float(temperature)) or 1.0, axis)


def sample_T0_as_tiny(logits, temperature, rng):
    """T = 0 handled as T = 1e-6 and drawn: near-tied maxima are then picked almost at random."""
    return impl.sample(logits, temperature or 1e-6, rng)


def sample_argmax_half(logits, temperature, rng):
    """Greedy argmax taken on the logits rounded to float16."""
    if temperature == 0:
        return int(np.argmax(logits.astype(np.float16)))
    return impl.sample(logits, temperature, rng)


def sample_times_T(logits, temperature, rng):
    """Draws from softmax(logits · T) instead of softmax(logits / T)."""
    if temperature == 0:
        return impl.sample(logits, 0.0, rng)
    return impl.sample(logits * logits.dtype.type(temperature * temperature), temperature, rng)


def sample_divides_first(logits, temperature, rng):
    """Draws from softmax(logits / T) with T divided in before the max is subtracted (nanoGPT's and
    HF's ``torch.softmax(logits / T)``): logits / T overflows at a subnormal T, the draw gets NaN."""
    if temperature == 0:
        return impl.sample(logits, 0.0, rng)
    z = logits / temperature
    cdf = np.cumsum(np.exp(z - np.max(z)))
    return int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))  # NaN: an id past the vocab


def sample_no_upper_bound(logits, temperature, rng):
    """Accepts T > 2 (clamps it to 2) instead of rejecting it."""
    return impl.sample(logits, min(temperature, 2.0), rng)


# ---------------------------------------------------------------------------------------------
# causality


def mask_wrong_triangle(ctx):
    """mask[k, q] = (k >= q): queries see the future and not the past."""
    return np.tril(np.ones((ctx, ctx), dtype=bool))


def _finite_mask(constant: float) -> Callable[..., np.ndarray]:
    def masked_pattern(scores, causal, fn):
        if causal:
            scores = np.where(impl.causal_mask(scores.shape[-1]), scores, scores.dtype.type(constant))
        return impl.softmax(scores, 1.0, -2)

    masked_pattern.__doc__ = f"Masked scores set to {constant:g} instead of −∞: leaks once |scores| ≳ {-constant:g}."
    return masked_pattern


def mask_finfo_min(scores, causal, fn):
    """Masked scores set to finfo(dtype).min (HF's choice since transformers 4.21): not a bug, finite or not.

    No score a property draws reaches it, and exp(min − s) is 0 for every score s ≤ 0 below the
    dtype's range, so the masked entries get exactly 0 as with −∞."""
    if causal:
        scores = np.where(impl.causal_mask(scores.shape[-1]), scores, np.finfo(scores.dtype).min)
    return impl.softmax(scores, 1.0, -2)


def pattern_softmax_over_queries(scores, causal, fn):
    """The pattern's softmax runs along each row (over queries) instead of down each column."""
    if causal:
        scores = np.where(impl.causal_mask(scores.shape[-1]), scores, -np.inf)
    return np.nan_to_num(impl.softmax(np.where(np.isneginf(scores).all(-1, keepdims=True), 0, scores), 1.0, -1))


def cross_attention_masked(E_q, E_kv, W_Q, W_K, W_V_down, W_V_up):
    """Cross-attention with the causal triangle (k <= q) applied to its keys."""
    scores = (W_K @ E_kv).T @ (W_Q @ E_q) / math.sqrt(W_Q.shape[0])
    allowed = np.triu(np.ones(scores.shape, dtype=bool))
    A = impl.softmax(np.where(allowed, scores, -np.inf), 1.0, -2)
    return W_V_up @ (W_V_down @ E_kv @ A)


def pattern_missing_sqrt(Q, K, causal=True):
    """Scores KᵀQ without the 1/√d_head."""
    return impl.attention_pattern(Q * Q.dtype.type(math.sqrt(Q.shape[0])), K, causal)


# ---------------------------------------------------------------------------------------------
# multi-head attention


def mha_heads_interleaved(E, W_Q, W_K, W_V_down, W_O, causal=True):
    """Concatenates the heads' rows d_head-major (head index fastest) instead of head by head."""
    n_heads, d_head, _ = W_Q.shape
    W_O_as_read = W_O.reshape(-1, d_head, n_heads).transpose(0, 2, 1).reshape(W_O.shape)
    return impl.multi_head_attention(E, W_Q, W_K, W_V_down, W_O_as_read, causal)


def mha_missing_sqrt(E, W_Q, W_K, W_V_down, W_O, causal=True):
    """Multi-head scores without the 1/√d_head (attention_head keeps it)."""
    scale = W_Q.dtype.type(math.sqrt(W_Q.shape[1]))
    return impl.multi_head_attention(E, W_Q * scale, W_K, W_V_down, W_O, causal)


def head_adds_residual(E, W_Q, W_K, W_V_down, W_V_up, causal=True):
    """Returns E + ΔE (the block's residual add folded into the head)."""
    return E + impl.attention_head(E, W_Q, W_K, W_V_down, W_V_up, causal)


def mha_adds_residual(E, W_Q, W_K, W_V_down, W_O, causal=True):
    """Returns E + ΔE (the block's residual add folded into multi-head attention)."""
    return E + impl.multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal)


# ---------------------------------------------------------------------------------------------
# embedding, prediction, model


def embed_off_by_one(tokens, W_E):
    """Reads column id + 1 (1-based ids), wrapping at vocab."""
    return W_E[:, (tokens + 1) % W_E.shape[1]]


def embed_unchecked(tokens, W_E):
    """W_E[:, tokens] with no range check: id −1 silently reads the last column."""
    return W_E[:, tokens]


def unembed_softmaxed(E, W_U):
    """Returns probabilities softmax(W_U E) instead of logits."""
    return impl.softmax(W_U @ E, 1.0, 0)


def unembed_reversed_positions(E, W_U):
    """Logits with the positions in reverse order."""
    return (W_U @ E)[:, ::-1]


def next_token_first_column(tokens, weights, temperature=1.0):
    """Predicts from the first column of the logits instead of the last."""
    return impl.softmax(impl.forward(tokens, weights)[:, 0], temperature)


def gelu_erf(x):
    """GELU in its exact erf form, where the spec (as GPT-2/3) says the tanh form."""
    return 0.5 * x * (1.0 + np.vectorize(math.erf, otypes=[x.dtype])(x / math.sqrt(2.0)))


def layer_norm_unbiased(E, gain, bias):
    """Divides by the unbiased (n − 1) variance, as torch.var does by default."""
    var = E.var(axis=0, ddof=1, keepdims=True) if E.shape[0] > 1 else E.var(axis=0, keepdims=True)
    return (E - E.mean(axis=0, keepdims=True)) / np.sqrt(var + 1e-5) * gain[:, None] + bias[:, None]


def block_post_ln(E, weights):
    """Post-layer-norm (the 2017 Transformer) instead of the spec's pre-layer-norm."""
    w = weights
    E = impl.layer_norm(E + impl.multi_head_attention(E, w.W_Q, w.W_K, w.W_V_down, w.W_O), w.ln1_gain, w.ln1_bias)
    return impl.layer_norm(E + impl.mlp(E, w.W_up, w.b_up, w.W_down, w.b_down), w.ln2_gain, w.ln2_bias)


def forward_no_positions(tokens, weights):
    """Forgets the position embedding W_pos."""
    return impl.forward(tokens, dataclasses.replace(weights, W_pos=np.zeros_like(weights.W_pos)))


# ---------------------------------------------------------------------------------------------
# decode: the KV cache (each replaces one piece of gptspec.impl.cache; derive() reaches every caller)


def cache_positions_restart(tokens, weights, cache=None):
    """Positions restart at 0 in every call: W_pos[:, :ctx_new], not W_pos[:, ctx_past:ctx_past+ctx_new]."""
    layers = empty_cache(weights) if cache is None or len(cache) == 0 else cache
    ctx_past = layers[0][0].shape[-1] if layers else 0
    restarted = dataclasses.replace(weights, W_pos=np.roll(weights.W_pos, ctx_past, axis=1))  # column ctx_past is 0's
    return impl.forward_cached(tokens, restarted, cache)


def cached_mask_top_left(ctx_past, ctx_new):
    """The new queries' mask aligned top-left (SDPA's is_causal with L < S): query i sees keys 0 … i only."""
    return np.tri(ctx_new, ctx_past + ctx_new, dtype=bool).T  # mask[k, i] = (k <= i)


def _mha_cached_with(order):
    """multi_head_attention_cached whose keys and value-downs come as ``order(past, new)`` (a bug in the concat)."""
    def mutant(E, W_Q, W_K, W_V_down, W_O, K_past, V_past):
        n_heads, d_head, _ = W_Q.shape
        ctx_past, ctx_new = K_past.shape[-1], E.shape[1]
        K = order(K_past, W_K @ E)
        V = order(V_past, W_V_down @ E)
        scores = K.swapaxes(-1, -2) @ (W_Q @ E) / math.sqrt(d_head)
        A = impl.softmax(np.where(impl.causal_mask(ctx_past + ctx_new)[:, ctx_past:], scores, -np.inf), axis=-2)
        return W_O @ (V @ A).reshape(n_heads * d_head, ctx_new), K, V

    return mutant


def cache_stale(E, W_Q, W_K, W_V_down, W_O, K_past, V_past):
    """Attends over the cache and the new keys, but returns the cache it was given: the new keys are never kept."""
    delta, _, _ = impl.multi_head_attention_cached(E, W_Q, W_K, W_V_down, W_O, K_past, V_past)
    return delta, K_past, V_past


def cache_mutated(E, W_Q, W_K, W_V_down, W_O, K_past, V_past):
    """Right numbers, but the cache passed in is overwritten (its buffers reused as scratch)."""
    delta, K, V = impl.multi_head_attention_cached(E, W_Q, W_K, W_V_down, W_O, K_past, V_past)
    K_past[...] = 0
    V_past[...] = 0
    return delta, K, V


def cache_wraps_past_n_ctx(tokens, weights, cache=None):
    """No ctx_past + ctx_new <= n_ctx check: positions wrap around W_pos (column p % n_ctx)."""
    layers = empty_cache(weights) if cache is None or len(cache) == 0 else cache
    ctx_past, n_ctx = layers[0][0].shape[-1], weights.W_pos.shape[1]
    E = impl.embed(tokens, weights.W_E) + weights.W_pos[:, (ctx_past + np.arange(tokens.shape[0])) % n_ctx]
    after = []
    for w, (K_past, V_past) in zip(weights.blocks, layers):
        E, K, V = block_cached(E, w, K_past, V_past)
        after.append((K, V))
    return impl.unembed(impl.layer_norm(E, weights.lnf_gain, weights.lnf_bias), weights.W_U), tuple(after)


def cache_ignored(E, W_Q, W_K, W_V_down, W_O, K_past, V_past):
    """Appends the new keys to the cache but attends over the new ones only (the cache never read)."""
    delta = impl.multi_head_attention(E, W_Q, W_K, W_V_down, W_O)
    return delta, np.concatenate([K_past, W_K @ E], axis=-1), np.concatenate([V_past, W_V_down @ E], axis=-1)


# ---------------------------------------------------------------------------------------------
# shapes: each function returns the right numbers in the wrong shape


def _wrong_shape(result: Any) -> Any:
    if isinstance(result, tuple):  # (ΔE, K, V), (logits, cache): the first item in the wrong shape
        return (_wrong_shape(result[0]), *result[1:])
    if isinstance(result, (int, np.integer)):
        return np.array([result])  # an array where the spec promises an int
    if result.dtype == np.bool_:
        return np.vstack([result, result[-1:]])  # ctx + 1 rows of keys for ctx queries
    if result.ndim == 1:
        return result[:, None]  # a column where the spec promises a vector
    return np.swapaxes(result, -1, -2)  # rows layout where the spec promises columns


def wrong_shape(fn_name: str) -> Callable[..., Any]:
    reference = getattr(impl, fn_name)

    def mutant(*args: Any) -> Any:
        return _wrong_shape(reference(*args))

    mutant.__doc__ = f"{fn_name} returns its result transposed / as a column / one row too long / as an array."
    return mutant


# ---------------------------------------------------------------------------------------------
# Kernels of the sdpa convention (tests/properties/kernels.py): seen as the properties see them


class KernelMutant:
    """A planted-bug kernel of :mod:`.kernels` behind the ``sdpa`` convention's adapter, in this
    process: the spec's attention functions, ``sdpa_kernel`` and ``batched_attention``. Built on
    first use, so that importing the catalogue of mutants does not import torch."""

    def __init__(self, name: str) -> None:
        self.__name__ = name
        self._adapted: Any = None

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") or attr == "_adapted":
            raise AttributeError(attr)
        if self._adapted is None:
            from gptspec.verification.conventions import adapt_convention

            from . import kernels

            self._adapted = adapt_convention("sdpa", getattr(kernels, self.__name__), label=self.__name__,
                                             framework="torch", guard=lambda name, fn: fn)
        return getattr(self._adapted, attr)


class ModuleMutant:
    """A planted-bug factory of tests/verification/targets/module_bugs.py behind its module convention,
    in this process (built on first use: importing the mutants imports no torch)."""

    def __init__(self, name: str, factory: str, convention: str) -> None:
        self.__name__, self._factory, self._convention = name, factory, convention
        self._adapted: Any = None

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        if self._adapted is None:
            from .conventions import module_convention

            self._adapted = module_convention(f"module_bugs.py:{self._factory}", self._convention, self.__name__)
        return getattr(self._adapted, attr)


MODULE_MUTANTS = {"module_batch_cross_talk": ("batch_cross_talk", "fused-linear")}

KERNEL_MUTANTS = (
    "kernel_scale_by_length", "kernel_ignores_scale", "kernel_bool_mask_added", "kernel_mask_transposed",
    "kernel_causal_off_by_one", "kernel_dropout_by_default", "kernel_batch_cross_talk", "kernel_heads_share_keys",
    "kernel_mask_cropped_top_left",
)


# ---------------------------------------------------------------------------------------------
# The catalogue of planted bugs


# ---------------------------------------------------------------------------------------------
# generate (a model family's entry point): a NumPy generator over the reference, and its bugs


def _next_tokens(logits: np.ndarray, temperature: float, top_k: int | None, rng: np.random.Generator,
                 batch: int) -> np.ndarray:
    """``batch`` draws from softmax(logits / T) over the top_k largest (T = 0: the argmax)."""
    if temperature == 0:
        return np.full(batch, int(np.argmax(logits)))
    if top_k is not None:
        logits = np.where(logits >= np.sort(logits)[::-1][min(top_k, logits.shape[0]) - 1], logits, -np.inf)
    z = np.exp((logits - logits.max()) / temperature)
    return rng.choice(logits.shape[0], size=batch, p=z / z.sum())


def generator(name: str, *, logits_of: Callable[..., np.ndarray] | None = None,
              next_tokens: Callable[..., np.ndarray] = _next_tokens) -> types.SimpleNamespace:
    """An implementation of ``generate`` on the reference's forward (``logits_of(logits [vocab ctx])``:
    the column it reads, the last by default; ``next_tokens``: how it draws)."""
    column = logits_of or (lambda L: L[:, -1])

    def generate(tokens, weights, n_new, temperature, top_k, rng, batch=1):
        def logits(seq):
            return column(impl.forward(np.array(seq), weights)).astype(np.float64)

        out = np.empty((batch, n_new), np.int64)
        rows = [list(map(int, tokens)) for _ in range(batch)]
        for i in range(n_new):
            if any(r != rows[0] for r in rows):  # continuations differ: one forward each
                new = [next_tokens(logits(r), temperature, top_k, rng, 1)[0] for r in rows]
            else:  # the same sequence: one forward, batch draws
                new = list(next_tokens(logits(rows[0]), temperature, top_k, rng, batch))
            for b, t in enumerate(new):
                rows[b].append(int(t))
                out[b, i] = int(t)
        return out

    return types.SimpleNamespace(__name__=name, generate=generate)


def generate_times_T(logits, temperature, top_k, rng, batch):
    """Multiplies the logits by T instead of dividing."""
    return _next_tokens(logits * temperature**2 if temperature else logits, temperature, top_k, rng, batch)


def generate_top_k_plus_one(logits, temperature, top_k, rng, batch):
    """Keeps the k + 1 largest logits."""
    return _next_tokens(logits, temperature, None if top_k is None else top_k + 1, rng, batch)


def generate_greedy_samples(logits, temperature, top_k, rng, batch):
    """At T = 0 samples from softmax(logits) instead of taking the argmax (minGPT's do_sample left on)."""
    return _next_tokens(logits, temperature or 1.0, top_k, rng, batch)


GENERATORS = {
    "generate": generator("generate"),
    "generate_first_column": generator("generate_first_column", logits_of=lambda L: L[:, 0]),
    "generate_times_T": generator("generate_times_T", next_tokens=generate_times_T),
    "generate_top_k_plus_one": generator("generate_top_k_plus_one", next_tokens=generate_top_k_plus_one),
    "generate_greedy_samples": generator("generate_greedy_samples", next_tokens=generate_greedy_samples),
}
"""The reference generator (``"generate"``, not a bug) and four planted bugs."""


MUTANTS: dict[str, types.SimpleNamespace] = {
    m.__name__: m
    for m in (
        derive("softmax_no_max_subtraction", softmax=softmax_no_max_subtraction),
        derive("softmax_log", softmax=softmax_log),
        derive("softmax_axis_zero", softmax=softmax_axis_zero),
        derive("softmax_plus_one", softmax=softmax_plus_one),
        derive("softmax_negated", softmax=softmax_negated),
        derive("softmax_smoothed", softmax=softmax_smoothed),
        derive("softmax_neg_inf_as_minus_1e4", softmax=softmax_neg_inf_as_minus_1e4),
        derive("softmax_times_T", softmax=softmax_times_T),
        derive("softmax_exp2", softmax=softmax_exp2),
        derive("softmax_cold_shortcut_half", softmax=softmax_cold_shortcut_half),
        derive("softmax_abs_T", softmax=softmax_abs_T),
        derive("sample_T0_as_tiny", sample=sample_T0_as_tiny),
        derive("sample_argmax_half", sample=sample_argmax_half),
        derive("sample_times_T", sample=sample_times_T),
        derive("sample_divides_first", sample=sample_divides_first),
        derive("sample_no_upper_bound", sample=sample_no_upper_bound),
        derive("mask_wrong_triangle", causal_mask=mask_wrong_triangle),
        derive("mask_minus_1e4", masked_pattern=_finite_mask(-1e4)),
        derive("mask_minus_1e5", masked_pattern=_finite_mask(-1e5)),
        derive("mask_minus_1e10", masked_pattern=_finite_mask(-1e10)),
        derive("pattern_softmax_over_queries", masked_pattern=pattern_softmax_over_queries),
        derive("cross_attention_masked", cross_attention_head=cross_attention_masked),
        derive("pattern_missing_sqrt", attention_pattern=pattern_missing_sqrt),
        derive("mha_heads_interleaved", multi_head_attention=mha_heads_interleaved),
        derive("mha_missing_sqrt", multi_head_attention=mha_missing_sqrt),
        derive("head_adds_residual", attention_head=head_adds_residual),
        derive("mha_adds_residual", multi_head_attention=mha_adds_residual),
        derive("embed_off_by_one", embed=embed_off_by_one),
        derive("embed_unchecked", embed=embed_unchecked),
        derive("unembed_softmaxed", unembed=unembed_softmaxed),
        derive("unembed_reversed_positions", unembed=unembed_reversed_positions),
        derive("next_token_first_column", next_token_probs=next_token_first_column),
        derive("gelu_erf", gelu=gelu_erf),
        derive("layer_norm_unbiased", layer_norm=layer_norm_unbiased),
        derive("block_post_ln", block=block_post_ln),
        derive("forward_no_positions", forward=forward_no_positions),
        derive("cache_positions_restart", forward_cached=cache_positions_restart),
        derive("cache_mask_top_left", cached_mask=cached_mask_top_left),
        derive("cache_keys_prepended", multi_head_attention_cached=_mha_cached_with(
            lambda past, new: np.concatenate([new, past], axis=-1))),
        derive("cache_stale", multi_head_attention_cached=cache_stale),
        derive("cache_mutated", multi_head_attention_cached=cache_mutated),
        derive("cache_wraps_past_n_ctx", forward_cached=cache_wraps_past_n_ctx),
        derive("cache_ignored", multi_head_attention_cached=cache_ignored),
        *(derive(f"{fn}_wrong_shape", **{fn: wrong_shape(fn)}) for fn in SIGNATURES),
    )
}
MUTANTS.update({name: g for name, g in GENERATORS.items() if name != "generate"})
MUTANTS.update({name: KernelMutant(name) for name in KERNEL_MUTANTS})
MUTANTS.update({name: ModuleMutant(name, factory, convention) for name, (factory, convention) in MODULE_MUTANTS.items()})
MUTANTS.update({name: padded_model(**bug) for name, bug in PADDED_MUTANTS.items()})

# property name -> [(planted bug, what the search needs to find it: "", "extremes", "near_ties")]
PLANTED: dict[str, list[tuple[str, str]]] = {
    "softmax.non_negative": [("softmax_log", "")],
    "softmax.sums_to_one": [("softmax_axis_zero", ""), ("softmax_plus_one", "")],
    "softmax.shift_invariant": [("softmax_plus_one", "")],
    "softmax.keeps_order": [("softmax_negated", "")],
    "softmax.finite_for_finite_input": [("softmax_no_max_subtraction", "extremes")],
    "softmax.neg_inf_gets_zero": [("softmax_smoothed", ""), ("softmax_neg_inf_as_minus_1e4", "extremes")],
    "temperature.one_is_plain": [("softmax_exp2", "")],
    "temperature.divides_logits": [("softmax_times_T", "")],
    "temperature.entropy_non_decreasing": [("softmax_times_T", "")],
    "temperature.top_prob_non_increasing": [("softmax_times_T", "")],
    "temperature.argmax_unchanged": [("softmax_cold_shortcut_half", "extremes|near_ties")],
    "temperature.cold_is_one_hot": [("softmax_times_T", "")],
    "temperature.hot_is_uniform": [("softmax_times_T", "")],
    "temperature.invalid_rejected": [("softmax_abs_T", "")],
    "temperature.sample_greedy_at_zero": [("sample_T0_as_tiny", "near_ties"), ("sample_argmax_half", "extremes|near_ties")],
    "temperature.sample_follows_softmax": [("sample_times_T", ""), ("sample_divides_first", "")],
    "temperature.sample_rejects_out_of_range": [("sample_no_upper_bound", "")],
    "causality.mask_is_upper_triangle": [("mask_wrong_triangle", "")],
    "causality.masked_entries_zero": [
        ("mask_wrong_triangle", ""), ("mask_minus_1e4", "extremes"), ("mask_minus_1e5", "extremes"),
        ("mask_minus_1e10", "extremes"),
    ],
    "causality.columns_sum_to_one": [("pattern_softmax_over_queries", ""), ("kernel_causal_off_by_one", "")],
    "causality.head_future_independent": [
        ("mask_wrong_triangle", ""), ("mask_minus_1e5", "extremes"), ("mask_minus_1e10", "extremes"),
    ],
    "causality.mha_future_independent": [("mask_wrong_triangle", ""), ("mask_minus_1e4", "extremes")],
    "causality.block_future_independent": [("mask_wrong_triangle", ""), ("mask_minus_1e4", "extremes")],
    "causality.forward_future_independent": [("mask_wrong_triangle", ""), ("mask_minus_1e4", "extremes")],
    "causality.next_token_sees_only_prefix": [("mask_wrong_triangle", "")],
    "causality.prefix_same_columns": [("mask_wrong_triangle", "")],
    "causality.cross_attention_unmasked": [("cross_attention_masked", "")],
    "causality.cross_attention_key_permutation": [("cross_attention_masked", "")],
    "head_concat.sum_of_heads": [("mha_heads_interleaved", ""), ("mha_missing_sqrt", "")],
    "head_concat.concat_equals_sum": [("mha_heads_interleaved", ""), ("mha_missing_sqrt", "")],
    "head_concat.head_permutation": [("mha_heads_interleaved", "")],
    "head_concat.one_head": [("mha_missing_sqrt", "")],
    "embedding.embed_is_onehot_product": [("embed_off_by_one", "")],
    "embedding.unembed_linear": [("unembed_softmaxed", "")],
    "embedding.next_token_last_column": [("next_token_first_column", ""), ("unembed_reversed_positions", "")],
    "embedding.plural_direction": [("unembed_reversed_positions", "")],
    "embedding.invalid_tokens_rejected": [("embed_unchecked", "")],
    "value.head_rank_at_most_d_head": [("head_adds_residual", "")],
    "value.mha_rank_at_most_heads_times_d_head": [("mha_adds_residual", "")],
    **{f"shapes.{fn}": [(f"{fn}_wrong_shape", "")] for fn in SIGNATURES},
    "agreement.embed": [("embed_off_by_one", "")],
    "agreement.unembed": [("unembed_reversed_positions", "")],
    "agreement.softmax": [("softmax_exp2", "")],
    "agreement.causal_mask": [("mask_wrong_triangle", "")],
    "agreement.attention_pattern": [("pattern_missing_sqrt", "")],
    "agreement.attention_head": [("pattern_missing_sqrt", "")],
    "agreement.cross_attention_head": [("cross_attention_masked", "")],
    "agreement.multi_head_attention": [("mha_heads_interleaved", "")],
    "agreement.mlp": [("gelu_erf", "")],
    "agreement.sample": [("sample_argmax_half", "extremes|near_ties")],
    "agreement.layer_norm": [("layer_norm_unbiased", "")],
    "agreement.block": [("block_post_ln", "")],
    "agreement.forward": [("forward_no_positions", "")],
    "agreement.next_token_probs": [("next_token_first_column", "")],
    "decode.chunks_equal_forward": [
        ("cache_positions_restart", ""), ("cache_mask_top_left", ""), ("cache_keys_prepended", ""), ("cache_stale", ""),
        ("cache_ignored", ""),
    ],
    "decode.cache_equals_one_call": [("cache_keys_prepended", ""), ("cache_stale", "")],
    "decode.positions_continue": [("cache_positions_restart", "")],
    "decode.mha_split_equals_whole": [("cache_mask_top_left", ""), ("cache_keys_prepended", ""), ("cache_ignored", "")],
    "decode.cache_not_modified": [("cache_mutated", "")],
    "decode.past_n_ctx_rejected": [("cache_wraps_past_n_ctx", "")],
    "decode.greedy_generation_same": [("cache_positions_restart", ""), ("cache_stale", ""), ("cache_ignored", "")],
    "agreement.multi_head_attention_cached": [("cache_mask_top_left", "")],
    "agreement.forward_cached": [("cache_positions_restart", "")],
    "sdpa.default_scale": [("kernel_scale_by_length", "")],
    "sdpa.scale_multiplies_scores": [("kernel_ignores_scale", "")],
    "sdpa.bool_mask_equals_additive": [("kernel_bool_mask_added", "")],
    "sdpa.is_causal_equals_causal_mask": [("kernel_mask_transposed", ""), ("kernel_causal_off_by_one", "")],
    "sdpa.query_block_after_cache": [("kernel_mask_cropped_top_left", "")],
    "sdpa.dropout_zero_deterministic": [("kernel_dropout_by_default", "")],
    "batch.entries_independent": [("kernel_batch_cross_talk", "")],
    "batch.heads_independent": [("kernel_heads_share_keys", "")],
    "batch.mha_entries_independent": [("module_batch_cross_talk", "")],
    "generation.greedy_is_argmax_chain": [("generate_first_column", ""), ("generate_greedy_samples", "")],
    "generation.sample_follows_softmax": [("generate_times_T", "")],
    "generation.top_k_keeps_k_largest": [("generate_top_k_plus_one", "")],
    "padding.batch_equals_alone": [("padded_positions_ignore_padding", ""), ("padded_pad_keys_unmasked", "")],
    "padding.cached_step_after_left_padding": [("padded_step_counts_pads", ""),
                                               ("padded_positions_ignore_padding", "")],
}

VERDICTS: dict[tuple[str, str], str] = {
    ("causality.masked_entries_zero", "mask_minus_1e10"): "fragile",
    ("causality.head_future_independent", "mask_minus_1e10"): "fragile",
    ("temperature.sample_follows_softmax", "sample_divides_first"): "fragile",
}
"""What ``gptspec verify`` calls each planted bug it finds: "failed" (it fails on an ordinary
input) unless listed here as "fragile" (it fails only beyond the ordinary domain of
:mod:`gptspec.properties.ordinary`: scores past 1e6, T below 0.01). −1e4 and −1e5 masks fail:
real scores reach 1e5 (TransformerLens issue 318); a −1e10 mask is fragile, with its onset at
|scores| ≈ 1e10; a softmax without max-subtraction fails (float32 overflows at 89)."""

NOT_BUGS: dict[str, types.SimpleNamespace] = {
    m.__name__: m for m in (derive("mask_finfo_min", masked_pattern=mask_finfo_min),)
}
"""Variants of the reference that look like bugs and are none: every property passes on them
(a mask of finfo(dtype).min). Not planted: nothing is to be found."""
