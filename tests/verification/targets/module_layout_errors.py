"""Factories that do not fit their convention, for the layout error messages."""

import hf_gpt2_attention
import llama_attention
import nanogpt_module


def llama(d_model, n_heads):
    """q_proj, k_proj, v_proj, o_proj: given to --convention fused-linear, c_attn is missing."""
    return llama_attention.make(d_model, n_heads, d_model // n_heads)


def nanogpt(d_model, n_heads):
    """nn.Linear c_attn [3·d_model d_model]: given to --convention hf-gpt2, whose Conv1D is [d_model 3·d_model]."""
    return nanogpt_module.make(d_model, n_heads, 64)


def needs_config(config):
    """A factory taking a config object gptspec cannot give."""
    return hf_gpt2_attention.make(config.n_embd, config.n_head)


def not_a_module(d_model, n_heads):
    return {"c_attn.weight": None}


built = nanogpt_module.make(4, 2, 8)
"""A module, not a factory."""
