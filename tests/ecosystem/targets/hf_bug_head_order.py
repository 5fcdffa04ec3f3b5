"""Planted bug: HF's eager attention reads the value heads in reverse order (head h's pattern
weighs head n_heads−1−h's values). agreement.forward must fail."""

from transformers.models.gpt2 import modeling_gpt2

from gptspec.ecosystem.hf_gpt2 import *  # the spec's model functions, GPTSPEC_ASSUME, GPTSPEC_FRAMEWORK

_eager = modeling_gpt2.eager_attention_forward


def _heads_reversed(module, query, key, value, attention_mask, **kwargs):
    return _eager(module, query, key, value.flip(1), attention_mask, **kwargs)  # value [batch heads L D]


modeling_gpt2.eager_attention_forward = _heads_reversed
