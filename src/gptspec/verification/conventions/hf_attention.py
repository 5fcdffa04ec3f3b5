"""The ``hf-attention`` convention: a function of Hugging Face transformers' ``AttentionInterface``.

    fn(module, query, key, value, attention_mask, scaling=..., dropout=..., **kwargs)
        -> (attn_output [batch L heads Dv], attn_weights or None)

with ``query [batch heads L D]``, ``key``/``value [batch heads S D]``: what an HF attention layer
calls, ``attn_output = softmax(query · keyᵀ · scaling + mask) · value`` with its heads axis moved
after L. gptspec calls it the way ``GPT2Attention.forward`` does (transformers 5): positionally
``(module, query, key, value, attention_mask)``, then ``dropout=0.0`` (eval) and
``scaling = 1/√D`` (GPT-2's ``self.scaling``).

**The mask** is the one HF's models pass: ``masking_utils.create_causal_mask`` (and
``create_bidirectional_mask`` when not causal) for the attention implementation the function is
registered under — ``hf:eager`` gets eager's additive float mask (0 where allowed, the dtype's
minimum where not), ``hf:sdpa`` gets ``None`` and relies on ``module.is_causal``, as in a model.
A function registered under a name of its own gets the mask of the mask function registered
under that name with ``AttentionMaskInterface``, and ``None`` if there is none, as HF gives it
(HF's docs warn that such a function then sees no causal mask). A function given by path that is
not registered gets eager's mask: a materialised mask, so it is judged on its arithmetic.

**The module** argument is a small ``torch.nn.Module`` in eval mode with what HF's attention
functions read of the layer that calls them: ``config`` (a ``PretrainedConfig`` with
``_attn_implementation``, ``num_attention_heads``, ``num_key_value_heads``, ``head_dim``,
``hidden_size``, ``attention_dropout``), ``is_causal``, ``training`` (False), ``num_key_value_groups``
(1: as many key/value heads as query heads), ``head_dim``, ``num_heads``, ``scaling``,
``attention_dropout``, ``layer_idx`` (0) and ``is_cross_attention``.

Around it gptspec builds the spec's attention functions (:mod:`.attention`) and provides
``batched_attention``: the function on ``[batch heads L D]`` arrays, its output moved back to
``[batch heads L Dv]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from transformers import PretrainedConfig
from transformers.masking_utils import create_bidirectional_mask, create_causal_mask
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

from ...target import split_attribute
from ..frameworks import owning
from . import Built, Convention
from .attention import ConventionResultError, expect_output, spec_functions

__all__ = ["build", "AttentionModule", "mask_implementation", "hf_mask"]

FRAMEWORK = owning(torch)


class AttentionModule(torch.nn.Module):
    """The ``module`` an HF attention function receives: the attributes of the layer it reads."""

    def __init__(self, config: PretrainedConfig, *, num_heads: int, head_dim: int, is_causal: bool) -> None:
        super().__init__()
        self.config = config
        self.is_causal = is_causal
        self.is_cross_attention = not is_causal
        self.num_heads = num_heads
        self.head_dim = head_dim
        self.num_key_value_groups = 1
        self.scaling = head_dim**-0.5
        self.attention_dropout = 0.0
        self.layer_idx = 0
        self.eval()


def config_for(implementation: str, num_heads: int, head_dim: int) -> PretrainedConfig:
    """A config as a model would carry it, attention implementation ``implementation``."""
    config = PretrainedConfig()
    config._attn_implementation = implementation
    config.num_attention_heads = config.num_key_value_heads = num_heads
    config.head_dim = head_dim
    config.hidden_size = num_heads * head_dim
    config.attention_dropout = 0.0
    return config


def mask_implementation(fn: Any, label: str) -> str:
    """The attention implementation whose mask ``fn`` gets: the name of ``hf:NAME``, else the name
    ``fn`` is registered under with ``AttentionInterface``, else "eager" (a materialised mask)."""
    base, name = split_attribute(label)
    if base == "hf" and name is not None:
        return name
    for registered, function in ALL_ATTENTION_FUNCTIONS._global_mapping.items():
        if function is fn:
            return str(registered)
    return "eager"


def hf_mask(config: PretrainedConfig, batch: int, q_length: int, kv_length: int, causal: bool,
            dtype: torch.dtype) -> Any:
    """The ``attention_mask`` HF's models pass for these sizes: ``create_causal_mask`` or, not
    causal, ``create_bidirectional_mask`` (keys from an "encoder" of ``kv_length`` positions)."""
    embeds = torch.zeros(batch, q_length, 1, dtype=dtype)
    if causal:
        return create_causal_mask(config=config, inputs_embeds=embeds, attention_mask=None, cache=None)
    keys = torch.zeros(batch, kv_length, 1, dtype=dtype)
    return create_bidirectional_mask(config=config, inputs_embeds=embeds, attention_mask=None,
                                     encoder_hidden_states=keys)


def build(fn: Any, *, framework: str | None, label: str, convention: Convention) -> Built:
    """The spec's attention functions and ``batched_attention``, each calling ``fn`` as HF's GPT-2 does."""
    implementation = mask_implementation(fn, label)

    def batched(query: np.ndarray, key: np.ndarray, value: np.ndarray, causal: bool) -> np.ndarray:
        batch, heads, q_length, head_dim = query.shape
        config = config_for(implementation, heads, head_dim)
        module = AttentionModule(config, num_heads=heads, head_dim=head_dim, is_causal=causal)
        q, k, v = (torch.tensor(a) for a in (query, key, value))
        mask = hf_mask(config, batch, q_length, key.shape[2], causal, q.dtype)
        answer = fn(module, q, k, v, mask, dropout=0.0, scaling=module.scaling)
        if not (isinstance(answer, tuple) and len(answer) == 2):
            raise ConventionResultError(f"{label} returned {type(answer).__name__}, an AttentionInterface function "
                                        "returns (attn_output, attn_weights)")
        out = answer[0]
        if isinstance(out, torch.Tensor) and out.ndim == 4:
            out = out.transpose(1, 2)  # [batch L heads Dv] -> [batch heads L Dv]
        out = FRAMEWORK.from_native(out, False)
        return expect_output(f"{label} (its attn_output moved to [batch heads L Dv])", out, query, value)

    return Built(FRAMEWORK.name, spec_functions(batched))
