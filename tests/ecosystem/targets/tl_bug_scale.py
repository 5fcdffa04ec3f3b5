"""Planted bug: TransformerLens' native GPT-2 dividing its scores by d_head instead of √d_head
(attn_scale = d_head). agreement.forward must fail."""

from gptspec.ecosystem import tl_gpt2
from gptspec.ecosystem.tl_gpt2 import *  # the spec's model functions and GPTSPEC_FRAMEWORK

_config = tl_gpt2.config


def _by_d_head(dims, causal=True):
    config = _config(dims, causal)
    config.attn_scale = float(dims.d_head)
    return config


tl_gpt2.config = _by_d_head
