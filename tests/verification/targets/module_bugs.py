"""Planted bugs in the module-convention targets, each by wrapping or patching a correct module
(nanogpt_module, llama_attention, tl_attention, hf_gpt2_attention) in one place."""

import hf_gpt2_attention
import llama_attention
import nanogpt_module
import torch


def mask_wrong_triangle(d_model, n_heads, n_ctx):
    """nanoGPT's slow path with its block_size buffer on the wrong triangle: queries see the future."""
    module = nanogpt_module.make_slow(d_model, n_heads, n_ctx)
    module.bias.copy_(torch.triu(torch.ones(n_ctx, n_ctx)).view(1, 1, n_ctx, n_ctx))
    return module


def heads_merged_wrong_order(d_model, n_heads, n_ctx):
    """nanoGPT whose merged heads reach c_proj interleaved (d_head-major) instead of head after head."""
    module = nanogpt_module.make(d_model, n_heads, n_ctx)

    def interleave(_, args):
        (y,) = args
        B, T, C = y.shape
        return (y.view(B, T, n_heads, C // n_heads).transpose(2, 3).reshape(B, T, C),)

    module.c_proj.register_forward_pre_hook(interleave)
    return module


def q_k_swapped(d_model, n_heads, n_ctx):
    """nanoGPT whose c_attn output is split as k, q, v: queries and keys swapped."""
    module = nanogpt_module.make(d_model, n_heads, n_ctx)

    def swap(_, args, out):
        q, k, v = out.split(d_model, dim=2)
        return torch.cat([k, q, v], dim=2)

    module.c_attn.register_forward_hook(swap)
    return module


def batch_cross_talk(d_model, n_heads, n_ctx):
    """nanoGPT whose output is reshaped through [T, B, C]: a batch of one is right, a batch of B mixes entries."""
    module = nanogpt_module.make(d_model, n_heads, n_ctx)

    def mix(_, args, out):
        B, T, C = out.shape
        return out.reshape(T, B, C).transpose(0, 1)

    module.register_forward_hook(mix)
    return module


def wrong_scale(d_model, n_heads, d_head):
    """The Llama-style layer scaled by 1/d_head instead of 1/√d_head."""
    module = llama_attention.make(d_model, n_heads, d_head)
    module.scaling = 1.0 / d_head
    return module


def hf_without_mask(d_model, n_heads):
    """HF's eager GPT2Attention with the attention mask dropped: eager attention is then not causal."""
    module = hf_gpt2_attention.make_eager(d_model, n_heads)

    def drop_mask(_, args, kwargs):
        return args, {**kwargs, "attention_mask": None}

    module.register_forward_pre_hook(drop_mask, with_kwargs=True)
    return module
