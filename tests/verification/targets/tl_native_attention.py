"""transformer-lens 4.3's own attention, ``NativeAttention`` (model_bridge.sources.native): its weights
are ``nn.Linear`` q, k, v, o (``W_Q [n_heads d_model d_head]`` is only a read-only view of the
bridge's), so it is verified as --convention qkvo-linear, its four layers also named q_proj..o_proj."""

from transformer_lens.config import TransformerBridgeConfig
from transformer_lens.model_bridge.sources.native.model import NativeAttention


def make(d_model, n_heads, d_head, n_ctx):
    config = TransformerBridgeConfig(d_model=d_model, d_head=d_head, n_heads=n_heads, n_ctx=n_ctx, n_layers=1, d_vocab=1)
    native = NativeAttention(config)
    native.q_proj, native.k_proj, native.v_proj, native.o_proj = native.q, native.k, native.v, native.o
    return native
