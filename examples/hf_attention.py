"""A correct attention function for Hugging Face transformers' ``AttentionInterface``.

The ``hf-attention`` convention: ``fn(module, query, key, value, attention_mask, scaling=,
dropout=, **kwargs) -> (attn_output [batch L heads Dv], attn_weights)``, query/key/value
[batch heads L D], as HF's attention layers call it. This one is written out by hand (scores,
the mask HF passes, softmax, dropout in training only) and registered under a name of its own
together with eager's mask function, so a model built with ``attn_implementation="mine"``
gets the mask eager attention gets. Verify it with

    gptspec verify examples/hf_attention.py:my_attention --convention hf-attention

(``hf:eager`` and ``hf:sdpa`` verify HF's own functions the same way).
"""

import torch
from transformers import AttentionInterface, AttentionMaskInterface
from transformers.masking_utils import eager_mask


def my_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    """softmax(query · keyᵀ · scaling + mask) · value, heads moved after the positions."""
    scaling = query.shape[-1] ** -0.5 if scaling is None else scaling
    scores = query @ key.transpose(-1, -2) * scaling
    if attention_mask is not None:
        scores = scores + attention_mask  # eager's mask: 0 where allowed, the dtype's minimum where not
    weights = torch.softmax(scores, dim=-1)
    weights = torch.nn.functional.dropout(weights, p=dropout, training=module.training)
    return (weights @ value).transpose(1, 2).contiguous(), weights


AttentionInterface.register("mine", my_attention)
AttentionMaskInterface.register("mine", eager_mask)
