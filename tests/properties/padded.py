"""A padded batch in NumPy, as a user would write it over the reference: the padding family's entry points
``forward_padded`` and ``forward_padded_cached`` (gptspec.properties.padding), and their planted bugs.

Row by row: every column gets the position cumsum(mask) − 1 of its row (what HF's ``generate`` passes),
a query sees the keys up to itself that the mask keeps, and a pad query with no real key before it
attends to nothing (ΔE = 0: its logits are never read). ``padded_model(**bugs)`` plants one mistake.
"""

from __future__ import annotations

import types

import numpy as np

from gptspec import impl
from gptspec.impl.model import mlp_residual


def _attend(E, w, K_past, V_past, keys_kept, query_at):
    """One block's attention on the new columns of one row: (ΔE, K, V); ``keys_kept`` [ctx_k] bool,
    ``query_at`` [ctx_new] each new query's column among the keys."""
    x = impl.layer_norm(E, w.ln1_gain, w.ln1_bias)
    K = np.concatenate([K_past, w.W_K @ x], axis=-1)  # [n_heads d_head ctx_k]
    V = np.concatenate([V_past, w.W_V_down @ x], axis=-1)
    Q = w.W_Q @ x
    scores = np.einsum("hdk,hdq->hkq", K, Q) / np.sqrt(Q.shape[1])
    allowed = (np.arange(K.shape[-1])[:, None] <= query_at[None, :]) & keys_kept[:, None]
    scores = np.where(allowed, scores, -np.inf)
    top = np.max(scores, axis=1, keepdims=True)
    z = np.where(allowed, np.exp(scores - np.where(np.isfinite(top), top, 0.0)), 0.0)
    total = z.sum(axis=1, keepdims=True)
    A = np.divide(z, total, out=np.zeros_like(z), where=total > 0)  # a query with no key: attends to nothing
    heads = np.einsum("hdk,hkq->hdq", V, A).reshape(-1, E.shape[1])
    return w.W_O @ heads, K, V


def padded_model(*, positions_ignore_padding=False, pad_keys_unmasked=False, step_counts_pads=False):
    """The entry points, with at most one bug planted: positions 0 … ctx − 1 whatever the padding; every
    key seen, pads included; a cached step's position counted over all columns, pads included."""

    def forward_padded_cached(tokens, mask, weights, cache=None):
        batch, ctx_new = tokens.shape
        ctx_past = mask.shape[1] - ctx_new
        logits, rows = [], []
        for b in range(batch):
            kept = np.ones(mask.shape[1], bool) if pad_keys_unmasked else mask[b].astype(bool)
            at = np.maximum(np.cumsum(mask[b]) - 1, 0)[ctx_past:]
            if positions_ignore_padding or (step_counts_pads and ctx_past):
                at = np.arange(ctx_past, ctx_past + ctx_new)
            E = weights.W_E[:, tokens[b]] + weights.W_pos[:, at]
            layers = []
            for i, w in enumerate(weights.blocks):
                n_heads, d_head = w.W_Q.shape[:2]
                past = (cache[i][0][b], cache[i][1][b]) if cache is not None else (np.zeros((n_heads, d_head, 0)),) * 2
                delta, K, V = _attend(E, w, *past, kept, np.arange(ctx_past, ctx_past + ctx_new))
                E = mlp_residual(E + delta, w)
                layers.append((K, V))
            logits.append(weights.W_U @ impl.layer_norm(E, weights.lnf_gain, weights.lnf_bias))
            rows.append(layers)
        grown = tuple((np.stack([r[i][0] for r in rows]), np.stack([r[i][1] for r in rows]))
                      for i in range(len(weights.blocks)))
        return np.stack(logits), grown

    def forward_padded(tokens, mask, weights):
        return forward_padded_cached(tokens, mask, weights)[0]

    return types.SimpleNamespace(forward=impl.forward, forward_padded=forward_padded,
                                 forward_padded_cached=forward_padded_cached)


PADDED_MUTANTS = {
    "padded_positions_ignore_padding": dict(positions_ignore_padding=True),
    "padded_pad_keys_unmasked": dict(pad_keys_unmasked=True),
    "padded_step_counts_pads": dict(step_counts_pads=True),
}
