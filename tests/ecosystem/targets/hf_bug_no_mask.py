"""Planted bug: HF's GPT-2 without its causal mask (create_causal_mask returns None, so the eager
kernel attends to every position). causality.forward_future_independent must fail."""

from transformers.models.gpt2 import modeling_gpt2

from gptspec.ecosystem.hf_gpt2 import *  # the spec's model functions, GPTSPEC_ASSUME, GPTSPEC_FRAMEWORK


def _no_mask(**kwargs):
    return None


modeling_gpt2.create_causal_mask = _no_mask
