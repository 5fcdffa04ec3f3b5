"""gptspec.impl: HOW — the NumPy reference of every function of the spec.

One small module per idea; every public function is checked against its spec signature on every
call (``GPTSPEC_CHECKS=0`` or ``gptspec.set_checks(False)`` turns that off).
"""

from .attention import attention_head, attention_pattern, causal_mask, cross_attention_head
from .embedding import embed, unembed
from .mlp import gelu, mlp
from .model import block, forward, layer_norm, next_token_probs
from .multihead import multi_head_attention
from .sampling import sample
from .softmax import softmax
from .weights import random_block_weights, random_weights
from .cache import forward_cached, multi_head_attention_cached  # noqa: I001 (after model: it builds on it)

__all__ = [
    "embed", "unembed", "softmax", "causal_mask", "attention_pattern", "attention_head",
    "cross_attention_head", "multi_head_attention", "mlp", "sample",
    "layer_norm", "block", "forward", "next_token_probs", "multi_head_attention_cached", "forward_cached",
    "gelu", "random_weights", "random_block_weights",
]
