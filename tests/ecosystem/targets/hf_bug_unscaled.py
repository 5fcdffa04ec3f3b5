"""Planted bug: HF's GPT-2 built with scale_attn_weights=False (scores not divided by √d_head).
agreement.forward must fail."""

from gptspec.ecosystem import hf_gpt2
from gptspec.ecosystem.hf_gpt2 import *  # the spec's model functions, GPTSPEC_ASSUME, GPTSPEC_FRAMEWORK

_config = hf_gpt2.config


def _unscaled(dims):
    config = _config(dims)
    config.scale_attn_weights = False
    return config


hf_gpt2.config = _unscaled
