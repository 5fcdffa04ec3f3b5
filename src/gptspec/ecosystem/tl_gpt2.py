"""TransformerLens' GPT-2 as a target: ``gptspec verify tl:gpt2``.

TransformerLens 4 (4.3.0 is what installs and what this supports) removed ``HookedTransformer``
and ``HookedTransformerConfig``. Its model of its own, built from a config without the Hugging
Face hub or transformers, is ``TransformerBridge.boot_native(TransformerBridgeConfig)``: a
``TransformerBridge`` (TL's hooks and weight views) around a ``NativeModel`` — TL's own
pre-LN blocks of ``NativeAttention`` (split q, k, v, o ``nn.Linear``, its own causal mask buffer)
and ``NativeMLP``. It does not wrap an HF model. Each function builds (once per dims, dtype and
mask, :mod:`.models`) such a bridge from :func:`config`, loads the call's
:class:`~gptspec.spec.Weights` with ``bridge.load_state_dict`` (:func:`state_dict`, strict) and
runs TL's forward. What differs between the two models, and how it is mapped:

====================  ==================================  =====================================
                      the spec (:mod:`gptspec.impl`)      TL's native GPT-2, as loaded here
====================  ==================================  =====================================
orientation           columns are tokens                  rows are tokens: ``embed.weight =
                                                          W_Eᵀ``, ``pos_embed.weight = W_posᵀ``;
                                                          ``nn.Linear`` weights are [out, in], so
                                                          ``mlp.in.weight = W_up``,
                                                          ``unembed.weight = W_U`` as they are
attention weights     ``W_Q, W_K, W_V_down [n_heads       ``attn.q/k/v.weight [n_heads·d_head
                      d_head d_model]``, ``W_O``          d_model]``, ``attn.o.weight = W_O``
                                                          (:func:`.layouts.attention_state`
                                                          ``"qkvo-linear"``); TL's own view
                                                          ``bridge.W_Q [layer n_heads d_model
                                                          d_head]`` is then the
                                                          ``"transformer-lens"`` layout
attention biases      none                                ``b_Q, b_K, b_V, b_O``: zero
unembedding bias      none                                ``b_U`` (the bridge adds one): zero
head size             any d_head                          any: ``d_head`` is its own field
scale                 1/√d_head                           ``attn_scale = -1``: √d_head
mask                  causal; ``causal=False`` none       ``attention_dir="causal"``;
                                                          ``"bidirectional"`` for causal=False
embeddings            W_E and W_U separate                ``tie_word_embeddings=False``
layer norm            ε = 1e-5, with gain and bias        ``normalization_type="LN"``, ``eps``
GELU                  tanh form                           ``act_fn="gelu_new"``:
                                                          ``F.gelu(approximate="tanh")``
weight processing     none                                none: ``boot_native`` folds no layer
                                                          norm and centres nothing
                                                          (``enable_compatibility_mode`` /
                                                          ``process_weights`` are never called)
temperature           softmax(logits / T)                 ``torch.softmax(logits[-1] / T)``, as
                                                          TL's ``sample_logits`` divides
====================  ==================================  =====================================

``forward`` is ``bridge(tokens, return_type="logits")``; ``next_token_probs`` its last position
over T. ``block``, ``multi_head_attention``, ``layer_norm`` and ``mlp`` call the components of a
one-layer bridge: ``blocks[0]``, ``blocks[0].attn`` (NativeAttention masks on its own, so the
block and attention called alone are TL's computation as its model runs it), ``blocks[0].ln1``,
``blocks[0].mlp``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch  # this module is imported only in a target process that verifies tl:gpt2
from transformer_lens.config import TransformerBridgeConfig
from transformer_lens.model_bridge.sources.native import boot

from ..spec import BlockWeights, Weights
from .layouts import attention_biases, attention_state
from .models import Dims, ModelCache, block_dims, check_temperature, model_dims, neutral_block, to_numpy, to_tensor

__all__ = [
    "GPTSPEC_FRAMEWORK",
    "LAYER_NORM_EPS",
    "MODELS",
    "block",
    "block_state",
    "config",
    "forward",
    "forward_padded",
    "layer_norm",
    "mlp",
    "multi_head_attention",
    "next_token_probs",
    "state_dict",
]

GPTSPEC_FRAMEWORK = "numpy"
"""The functions take and return NumPy arrays (torch stays inside)."""

LAYER_NORM_EPS = 1e-5


def config(dims: Dims, causal: bool = True) -> TransformerBridgeConfig:
    """The ``TransformerBridgeConfig`` of the spec's model with these dims (module-level, so a
    test can replace it to plant a bug)."""
    return TransformerBridgeConfig(
        d_model=dims.d_model, d_head=dims.d_head, n_heads=dims.n_heads, n_layers=dims.n_layers, n_ctx=dims.n_ctx,
        d_vocab=dims.vocab, d_mlp=dims.d_mlp, act_fn="gelu_new", normalization_type="LN", eps=LAYER_NORM_EPS,
        positional_embedding_type="standard", attention_dir="causal" if causal else "bidirectional",
        use_attn_scale=True, attn_scale=-1.0, tie_word_embeddings=False, init_weights=False,
        dtype=getattr(torch, dims.dtype),
    )


def _build(key: tuple[Dims, bool]) -> Any:
    dims, causal = key
    bridge = boot(config(dims, causal), dtype=getattr(torch, dims.dtype))
    bridge.eval()
    bridge.requires_grad_(False)
    return bridge


def _dropped(key: tuple[Dims, bool], bridge: Any) -> None:
    _ENTRIES.pop(id(bridge), None)


MODELS = ModelCache(_build, on_drop=_dropped)
"""The built bridges, one per (:class:`~.models.Dims`, causal)."""

_LINEAR = {"q_proj.weight": "q.weight", "k_proj.weight": "k.weight", "v_proj.weight": "v.weight",
           "o_proj.weight": "o.weight"}
"""The "qkvo-linear" layout's names, as NativeAttention names the same nn.Linear layers."""


def block_state(prefix: str, w: BlockWeights) -> dict[str, np.ndarray]:
    """One block's weights under the bridge's names (``blocks.{i}.``): ``ln1``/``ln2`` gain and
    bias, ``attn.q/k/v/o`` through :func:`.layouts.attention_state` ``"qkvo-linear"`` with zero
    biases, ``mlp.in.weight = W_up``, ``mlp.out.weight = W_down`` (nn.Linear stores [out, in])."""
    d_model = w.W_O.shape[0]
    state = {f"{prefix}ln1.weight": w.ln1_gain, f"{prefix}ln1.bias": w.ln1_bias,
             f"{prefix}ln2.weight": w.ln2_gain, f"{prefix}ln2.bias": w.ln2_bias,
             f"{prefix}mlp.in.weight": w.W_up, f"{prefix}mlp.in.bias": w.b_up,
             f"{prefix}mlp.out.weight": w.W_down, f"{prefix}mlp.out.bias": w.b_down}
    for name, array in attention_state("qkvo-linear", w.W_Q, w.W_K, w.W_V_down, w.W_O).items():
        state[f"{prefix}attn.{_LINEAR[name]}"] = array
    for name in attention_biases("qkvo-linear"):
        width = d_model if name.startswith("o_") else w.W_Q.shape[0] * w.W_Q.shape[1]
        state[f"{prefix}attn.{name.replace('_proj', '')}"] = np.zeros(width, w.W_O.dtype)
    return state


def state_dict(weights: Weights) -> dict[str, np.ndarray]:
    """Every entry of the bridge's state dict holding the spec's ``weights``: ``embed = W_Eᵀ``,
    ``pos_embed = W_posᵀ``, the blocks (:func:`block_state`), ``ln_final``, ``unembed.weight =
    W_U`` and ``unembed.bias`` (b_U) zero."""
    state = {"embed.weight": weights.W_E.T, "pos_embed.weight": weights.W_pos.T}
    for i, w in enumerate(weights.blocks):
        state.update(block_state(f"blocks.{i}.", w))
    state.update({"ln_final.weight": weights.lnf_gain, "ln_final.bias": weights.lnf_bias,
                  "unembed.weight": weights.W_U, "unembed.bias": np.zeros(weights.W_U.shape[0], weights.W_U.dtype)})
    return state


_ENTRIES: dict[int, dict[str, Any]] = {}
"""Each built bridge's state-dict entries (``bridge.state_dict(keep_vars=True)``: the tensors
its forward reads), by ``id``: a bridge lives as long as the process's cache may hold it."""


def _load(bridge: Any, state: dict[str, np.ndarray]) -> Any:
    """``state`` copied into the bridge's own tensors (strict: every entry, and nothing else).

    ``bridge.load_state_dict`` does the same but maps every key through the bridge's adapter on
    each call (about 15 ms for two layers, more than the forward); the entries it maps to are the
    tensors ``state_dict(keep_vars=True)`` returns, so they are found once per bridge and each call
    copies into them (a test checks the result is the spec's model)."""
    entries = _ENTRIES.get(id(bridge))
    if entries is None:
        first = {k: to_tensor(np.ascontiguousarray(v)) for k, v in state.items()}
        bridge.load_state_dict(first, strict=True)  # the library's own check of the names, once
        entries = _ENTRIES[id(bridge)] = dict(bridge.state_dict(keep_vars=True))
        if entries.keys() != state.keys():
            raise RuntimeError(f"tl:gpt2: the bridge's state dict has {sorted(entries.keys() ^ state.keys())} "
                               "beyond the spec's weights")
        return bridge
    if entries.keys() != state.keys():
        raise RuntimeError(f"tl:gpt2: the weights give {sorted(state.keys() ^ entries.keys())} beyond the bridge's")
    with torch.no_grad():
        for name, array in state.items():
            entries[name].copy_(torch.from_numpy(np.ascontiguousarray(array)))
    return bridge


def _bridge(weights: Weights) -> Any:
    return _load(MODELS.get((model_dims(weights), True)), state_dict(weights))


def _logits(bridge: Any, tokens: np.ndarray) -> Any:
    ids = torch.as_tensor(np.asarray(tokens, dtype=np.int64)[None, :])
    with torch.no_grad():
        return bridge(ids, return_type="logits")[0]  # [ctx vocab]


def forward(tokens: np.ndarray, weights: Weights) -> np.ndarray:
    """logits ``[vocab ctx]`` = ``bridge(tokens, return_type="logits")[0]ᵀ``."""
    return to_numpy(_logits(_bridge(weights), tokens).T)


def forward_padded(tokens: np.ndarray, mask: np.ndarray, weights: Weights) -> np.ndarray:
    """logits ``[batch vocab ctx]`` of a padded batch: ``bridge(tokens, attention_mask=mask,
    return_type="logits")``, TL's own positions (the bridge derives them from the mask, per row; the
    padding family's entry point). TL 4.3's native model has no KV cache: no ``forward_padded_cached``."""
    ids = torch.as_tensor(np.asarray(tokens, dtype=np.int64))
    attention = torch.as_tensor(np.asarray(mask, dtype=np.int64))
    with torch.no_grad():
        logits = _bridge(weights)(ids, attention_mask=attention, return_type="logits")
    return to_numpy(logits.transpose(-1, -2))


def next_token_probs(tokens: np.ndarray, weights: Weights, temperature: float = 1.0) -> np.ndarray:
    """softmax(logits of the last position / T)."""
    T = check_temperature("next_token_probs", temperature)
    last = _logits(_bridge(weights), tokens)[-1]
    return to_numpy(torch.softmax(last / T, dim=-1))


def _one_layer(E: np.ndarray, w: BlockWeights, causal: bool = True) -> Any:
    """A one-layer bridge holding ``w`` in ``blocks[0]`` (embeddings and unembedding zero)."""
    dims = block_dims(E, w)
    d_model, dtype = dims.d_model, E.dtype
    state = block_state("blocks.0.", w)
    state.update({"embed.weight": np.zeros((1, d_model), dtype), "pos_embed.weight": np.zeros((dims.n_ctx, d_model), dtype),
                  "ln_final.weight": np.ones(d_model, dtype), "ln_final.bias": np.zeros(d_model, dtype),
                  "unembed.weight": np.zeros((1, d_model), dtype), "unembed.bias": np.zeros(1, dtype)})
    return _load(MODELS.get((dims, causal)), state)


def _rows(E: np.ndarray) -> Any:
    return to_tensor(np.ascontiguousarray(E.T))[None]  # [1 ctx d_model]


def _columns(output: Any) -> np.ndarray:
    first = output[0] if isinstance(output, tuple) else output
    return to_numpy(first[0].T)


def block(E: np.ndarray, weights: BlockWeights) -> np.ndarray:
    """``bridge.blocks[0]`` on ``Eᵀ``: E + attn(ln1 E), then + mlp(ln2 ·)."""
    bridge = _one_layer(E, weights)
    with torch.no_grad():
        return _columns(bridge.blocks[0](_rows(E)))


def multi_head_attention(E: np.ndarray, W_Q: np.ndarray, W_K: np.ndarray, W_V_down: np.ndarray, W_O: np.ndarray,
                         causal: bool = True) -> np.ndarray:
    """``bridge.blocks[0].attn`` on ``Eᵀ`` (NativeAttention: q, k, v, o nn.Linear, scores / √d_head,
    its own causal mask, or none in a bidirectional bridge for ``causal=False``)."""
    w = neutral_block(E.shape[0], E.dtype, W_Q=W_Q, W_K=W_K, W_V_down=W_V_down, W_O=W_O)
    bridge = _one_layer(E, w, causal=bool(causal))
    with torch.no_grad():
        return _columns(bridge.blocks[0].attn(_rows(E)))


def layer_norm(E: np.ndarray, gain: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """TL's ``blocks[0].ln1`` (``nn.LayerNorm(d_model, eps)`` behind its NormalizationBridge) on ``Eᵀ``."""
    d_model, dtype = E.shape[0], E.dtype
    w = neutral_block(d_model, dtype, ln1_gain=gain, ln1_bias=bias)
    bridge = _one_layer(np.zeros((d_model, 1), dtype), w)  # one head of 1, d_mlp 1: unused
    with torch.no_grad():
        return _columns(bridge.blocks[0].ln1(_rows(E)))


def mlp(E: np.ndarray, W_up: np.ndarray, b_up: np.ndarray, W_down: np.ndarray, b_down: np.ndarray) -> np.ndarray:
    """TL's ``blocks[0].mlp`` (NativeMLP: out(gelu_new(in(x)))) on ``Eᵀ``."""
    d_model, dtype = E.shape[0], E.dtype
    w = neutral_block(d_model, dtype, W_up=W_up, b_up=b_up, W_down=W_down, b_down=b_down)
    bridge = _one_layer(np.zeros((d_model, 1), dtype), w)  # one head of 1: unused
    with torch.no_grad():
        return _columns(bridge.blocks[0].mlp(_rows(E)))
