"""A KV cache whose positions restart at 0 in every call: the new tokens get W_pos[:ctx_new],
not W_pos[ctx_past : ctx_past + ctx_new].

Fed all at once it is right; fed a prompt and then one token at a time, every later token is
embedded at position 0, so its logits differ from forward's on the whole. It fails
decode.chunks_equal_forward, whose counterexample names the chunks, their positions and the
first logit column that differs. Verify it with

    gptspec verify examples/bug_cache_positions_restart.py --layout rows
"""

import numpy_kv_cache as ok
from numpy_kv_cache import (  # noqa: F401  (the spec's other functions, re-exported for gptspec verify)
    attention_head, attention_pattern, block, causal_mask, cross_attention_head, embed, forward, layer_norm, mlp,
    multi_head_attention, multi_head_attention_cached, next_token_probs, sample, softmax, unembed,
)


def forward_cached(tokens, weights, cache=None):
    """(logits, cache), with the bug: positions 0 … ctx_new − 1 in every call."""
    cache = cache or ok.empty_cache(weights)
    if cache[0][0].shape[1] + len(tokens) > weights.W_pos.shape[0]:
        raise ValueError("the cached and the new positions exceed n_ctx")
    E = embed(tokens, weights.W_E) + weights.W_pos[: len(tokens)]  # BUG: W_pos[ctx_past : ctx_past + ctx_new]
    return ok.blocks_cached(E, weights, cache)
