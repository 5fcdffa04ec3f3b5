"""Hugging Face's own GPT-2 attention layer, verified as it is: the whole of the user's code.

    gptspec verify examples/hf_gpt2_attention.py:make --convention hf-gpt2

gptspec builds the layer for each size it searches, loads the spec's W_Q, W_K, W_V_down, W_O into
its Conv1D ``c_attn`` and ``c_proj`` (biases zero) and passes it the causal mask GPT2Model builds.
"""

from transformers import GPT2Config
from transformers.models.gpt2.modeling_gpt2 import GPT2Attention


def make(d_model: int, n_heads: int) -> GPT2Attention:
    return GPT2Attention(GPT2Config(n_embd=d_model, n_head=n_heads, attn_pdrop=0.0, resid_pdrop=0.0), layer_idx=0)
