"""Hugging Face's own ``GPT2Attention`` (transformers 5), for --convention hf-gpt2: eager and sdpa
(the layer with ``_attn_implementation`` unset is examples/hf_gpt2_attention.py)."""

from transformers import GPT2Config
from transformers.models.gpt2.modeling_gpt2 import GPT2Attention


def make_eager(d_model, n_heads):
    config = GPT2Config(n_embd=d_model, n_head=n_heads, attn_pdrop=0.0, resid_pdrop=0.0)
    config._attn_implementation = "eager"
    return GPT2Attention(config, layer_idx=0)


def make_sdpa(d_model, n_heads):
    config = GPT2Config(n_embd=d_model, n_head=n_heads, attn_pdrop=0.0, resid_pdrop=0.0)
    config._attn_implementation = "sdpa"
    return GPT2Attention(config, layer_idx=0)
