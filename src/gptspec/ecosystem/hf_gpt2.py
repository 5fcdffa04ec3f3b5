"""Hugging Face transformers' ``GPT2LMHeadModel`` as a target: ``gptspec verify hf:gpt2``.

Each function builds (once per dims and dtype, :mod:`.models`) a ``GPT2LMHeadModel`` from a
:func:`config` that makes HF's model the spec's, loads the call's :class:`~gptspec.spec.Weights`
into its state dict exactly (:func:`state_dict`), runs HF's own forward and returns NumPy arrays in
the spec's orientation. What differs between the two models, and how it is mapped:

====================  ==================================  =====================================
                      the spec (:mod:`gptspec.impl`)      HF GPT-2, as loaded here
====================  ==================================  =====================================
orientation           columns are tokens, W acts on the   rows are tokens; ``Conv1D`` computes
                      left (``W_E [d_model vocab]``)      ``x · weight + bias``: every weight is
                                                          the spec's transposed (``wte = W_Eᵀ``,
                                                          ``c_fc.weight = W_upᵀ``...)
attention weights     ``W_Q, W_K, W_V_down [n_heads       one fused ``c_attn [d_model
                      d_head d_model]``, ``W_O``          3·d_model]`` and ``c_proj = W_Oᵀ``
                                                          (:func:`.layouts.attention_state`
                                                          ``"hf-gpt2"``)
attention biases      none                                ``c_attn.bias``, ``c_proj.bias``: zero
head size             any d_head                          ``d_model // n_heads``: the target
                                                          declares ``d_model=n_heads*d_head``
scale                 1/√d_head                           ``scale_attn_weights=True``, not by
                                                          layer index, no reorder/upcast
mask                  causal                              HF's ``create_causal_mask`` (eager:
                                                          additive, the dtype's minimum)
embeddings            W_E and W_U separate                tied by default: built untied
                                                          (``tie_word_embeddings=False``),
                                                          ``lm_head.weight = W_U`` (no bias)
layer norm            ε = 1e-5                            ``layer_norm_epsilon = 1e-5``
GELU                  tanh form                           ``gelu_new``: the same formula
dropout               none                                every p = 0, ``eval()``
temperature           softmax(logits / T)                 HF's ``TemperatureLogitsWarper``
====================  ==================================  =====================================

``forward`` is ``GPT2LMHeadModel(input_ids)``; ``forward_cached`` the same with HF's own KV cache
(``cache=DynamicCache``, ``past_key_values`` before transformers 5.25, ``use_cache=True``), the spec's
``(K_past, V_past)`` pairs loaded into it and read back out of it; ``next_token_probs`` is the same with
``logits_to_keep=1`` (only the last column is unembedded, as the spec's), divided by T by HF's
warper and softmaxed. ``forward_padded`` and ``forward_padded_cached`` (entry points of the padding
family) run a padded batch as HF's ``generate`` does: ``attention_mask``, position ids cumsum(mask) − 1. ``block``, ``multi_head_attention``, ``layer_norm`` and ``mlp`` run the
modules of a one-layer model: the block through ``GPT2Model(inputs_embeds=Eᵀ)`` with the position
embedding zero (so HF builds its own causal mask) and its output read by a forward hook on
``h[0]``; the attention likewise, its input replaced by ``Eᵀ`` by a pre-hook on ``h[0].attn``
(HF's GPT-2 has no non-causal attention: the target declares ``causal-only``); the layer norm and
MLP are ``h[0].ln_1`` and ``h[0].mlp`` themselves, which need no mask.

The attention implementation is ``"eager"`` (:data:`ATTENTION`): HF's reference kernel, whose
``eager_attention_forward`` the hf-attention convention checks on its own (``hf:eager``).
Supported: transformers 5 (``create_causal_mask``, ``logits_to_keep``).
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import torch  # this module is imported only in a target process that verifies hf:gpt2
from transformers import DynamicCache, GPT2Config, GPT2LMHeadModel
from transformers.generation.logits_process import TemperatureLogitsWarper

from ..spec import BlockWeights, Weights
from .layouts import attention_biases, attention_state
from .models import (Dims, ModelCache, block_dims, check_temperature, gpt2_state, model_dims, neutral_block,
                     one_layer_state, to_numpy, to_tensor)

__all__ = [
    "ATTENTION",
    "GPTSPEC_ASSUME",
    "GPTSPEC_FRAMEWORK",
    "LAYER_NORM_EPS",
    "MODELS",
    "block",
    "block_state",
    "config",
    "forward",
    "forward_cached",
    "forward_padded",
    "forward_padded_cached",
    "layer_norm",
    "mlp",
    "multi_head_attention",
    "multi_head_attention_cached",
    "next_token_probs",
    "state_dict",
]

GPTSPEC_ASSUME = ["d_model=n_heads*d_head", "causal-only"]
"""HF's GPT-2 splits d_model into heads of ``d_model // n_heads``, and its attention is causal."""

GPTSPEC_FRAMEWORK = "numpy"
"""The functions take and return NumPy arrays (torch stays inside): the verifier's framework
adapter must pass arrays through (:func:`gptspec.target.detect_framework` reads this)."""

ATTENTION = "eager"
CACHE_ARGUMENT = "cache" if "cache" in inspect.signature(GPT2LMHeadModel.forward).parameters else "past_key_values"
"""What GPT2LMHeadModel calls its KV cache, argument and output: ``cache`` from transformers 5.25 on."""
LAYER_NORM_EPS = 1e-5


def config(dims: Dims) -> Any:
    """The ``GPT2Config`` of the spec's model with these dims (module-level, so a test can
    replace it to plant a bug)."""
    return GPT2Config(
        vocab_size=dims.vocab, n_positions=dims.n_ctx, n_embd=dims.d_model, n_layer=dims.n_layers,
        n_head=dims.n_heads, n_inner=dims.d_mlp, activation_function="gelu_new",
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, layer_norm_epsilon=LAYER_NORM_EPS,
        scale_attn_weights=True, scale_attn_by_inverse_layer_idx=False, reorder_and_upcast_attn=False,
        tie_word_embeddings=False, use_cache=False,
        bos_token_id=None, eos_token_id=None,  # GPT-2's 50256 is outside a small vocab (HF warns)
        attn_implementation=ATTENTION,  # type: ignore[call-arg]  # a PretrainedConfig keyword GPT2Config's stub omits
    )


def _build(dims: Dims) -> Any:
    if dims.n_heads * dims.d_head != dims.d_model:
        raise ValueError(
            f"hf:gpt2: HF's GPT-2 splits d_model into n_heads heads of d_model // n_heads, but these weights have "
            f"n_heads·d_head = {dims.n_heads}·{dims.d_head} ≠ d_model = {dims.d_model} (declare d_model=n_heads*d_head)"
        )
    model = GPT2LMHeadModel(config(dims)).to(getattr(torch, dims.dtype)).eval()
    model.requires_grad_(False)
    return model


MODELS = ModelCache(_build)
"""The built models, one per :class:`~.models.Dims`."""


def block_state(prefix: str, w: BlockWeights) -> dict[str, np.ndarray]:
    """One block's weights under HF's names (``transformer.h.{i}.``): LN gains and biases as
    they are, the attention through :func:`.layouts.attention_state` ``"hf-gpt2"`` with its
    biases zero, ``c_fc.weight = W_upᵀ``, ``c_proj.weight = W_downᵀ``."""
    d_model = w.W_O.shape[0]
    state = {f"{prefix}ln_1.weight": w.ln1_gain, f"{prefix}ln_1.bias": w.ln1_bias,
             f"{prefix}ln_2.weight": w.ln2_gain, f"{prefix}ln_2.bias": w.ln2_bias,
             f"{prefix}mlp.c_fc.weight": w.W_up.T, f"{prefix}mlp.c_fc.bias": w.b_up,
             f"{prefix}mlp.c_proj.weight": w.W_down.T, f"{prefix}mlp.c_proj.bias": w.b_down}
    for name, array in attention_state("hf-gpt2", w.W_Q, w.W_K, w.W_V_down, w.W_O).items():
        state[f"{prefix}attn.{name}"] = array
    for name in attention_biases("hf-gpt2"):
        width = 3 * w.W_Q.shape[0] * w.W_Q.shape[1] if name.startswith("c_attn") else d_model
        state[f"{prefix}attn.{name}"] = np.zeros(width, w.W_O.dtype)
    return state


def state_dict(weights: Weights) -> dict[str, np.ndarray]:
    """Every parameter of ``GPT2LMHeadModel`` holding the spec's ``weights``: ``wte = W_Eᵀ``,
    ``wpe = W_posᵀ``, the blocks (:func:`block_state`), ``ln_f``, ``lm_head.weight = W_U``."""
    blocks = [block_state(f"transformer.h.{i}.", w) for i, w in enumerate(weights.blocks)]
    return gpt2_state(blocks, weights.W_E, weights.W_pos, weights.lnf_gain, weights.lnf_bias, weights.W_U)


def _load(model: Any, state: dict[str, np.ndarray]) -> Any:
    """``state`` copied into ``model`` (strict: every parameter, and nothing else)."""
    model.load_state_dict({k: to_tensor(v) for k, v in state.items()}, strict=True)
    return model


def _model(weights: Weights) -> Any:
    return _load(MODELS.get(model_dims(weights)), state_dict(weights))


def _input_ids(tokens: np.ndarray) -> Any:
    return torch.as_tensor(np.asarray(tokens, dtype=np.int64)[None, :])


def forward(tokens: np.ndarray, weights: Weights) -> np.ndarray:
    """logits ``[vocab ctx]`` = ``GPT2LMHeadModel(input_ids=tokens).logits[0]ᵀ``."""
    model = _model(weights)
    with torch.no_grad():
        logits = model(input_ids=_input_ids(tokens)).logits
    return to_numpy(logits[0].T)


def position_ids(ctx_past: int, ctx_new: int) -> Any:
    """The ``position_ids`` forward_cached passes: None, so HF makes its own from the cache's length
    (module-level, so a test can replace it to plant a bug)."""
    return None


def _dynamic_cache(model: Any, cache: Any, batched: bool = False) -> Any:
    """HF's ``DynamicCache`` holding the spec's cache: layer i's ``K_past [n_heads d_head ctx_past]`` as
    keys ``[1 n_heads ctx_past d_head]`` (copies: HF's cache grows its own tensors), empty for None;
    ``batched``: ``[batch n_heads d_head ctx_past]`` as ``[batch n_heads ctx_past d_head]``."""
    past = DynamicCache(config=model.config)
    for i, (K, V) in enumerate(cache or ()):
        keys, values = (to_tensor(np.swapaxes(a, -1, -2)) for a in (K, V))
        past.update(keys if batched else keys[None], values if batched else values[None], i)
    return past


def _spec_cache(grown: Any, batched: bool = False) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """HF's cache read back layer by layer in the spec's orientation (``layers[i].keys [batch n_heads
    ctx d_head]`` → ``[n_heads d_head ctx]``, or ``[batch n_heads d_head ctx]`` when ``batched``)."""
    def spec(t: Any) -> np.ndarray:
        return to_numpy((t if batched else t[0]).transpose(-1, -2))

    return tuple((spec(layer.keys), spec(layer.values)) for layer in grown.layers)


def forward_cached(tokens: np.ndarray, weights: Weights, cache: Any = None) -> tuple[np.ndarray, Any]:
    """(logits ``[vocab ctx_new]``, cache): ``GPT2LMHeadModel(input_ids=tokens, cache=DynamicCache(cache),
    use_cache=True)`` (``past_key_values=`` before transformers 5.25), HF's positions its own
    (``position_ids`` from ``cache.get_seq_length()``; earlier versions read them from
    ``cache_position``, which they make the same way); the cache HF returns read back layer by layer
    (``layers[i].keys [1 n_heads ctx d_head]`` → ``[n_heads d_head ctx]``). Past n_ctx, HF's position
    embedding refuses the index (an error, as the spec wants)."""
    model = _model(weights)
    past = _dynamic_cache(model, cache)
    given = position_ids(past.get_seq_length(), len(tokens))
    with torch.no_grad():
        out = model(input_ids=_input_ids(tokens), use_cache=True, position_ids=given, **{CACHE_ARGUMENT: past})
    return to_numpy(out.logits[0].T), _spec_cache(getattr(out, CACHE_ARGUMENT))


def padded_position_ids(mask: np.ndarray) -> Any:
    """The position ids HF's ``generate`` gives a padded batch: cumsum(mask) − 1 along each row, 1 at
    the pads (what a pad gets does not matter: no real token sees it). ``mask`` [batch ctx], True at
    real tokens (module-level, so a test can replace it to plant a bug)."""
    ids = torch.as_tensor(np.asarray(mask, dtype=np.int64)).cumsum(-1) - 1
    return ids.masked_fill(torch.as_tensor(~np.asarray(mask, dtype=bool)), 1)


def padded_attention_mask(mask: np.ndarray) -> Any:
    """The ``attention_mask`` HF is given for a padded batch: 1 at real tokens, 0 at pads (module-level,
    so a test can replace it to plant a bug)."""
    return torch.as_tensor(np.asarray(mask, dtype=np.int64))


def forward_padded_cached(tokens: np.ndarray, mask: np.ndarray, weights: Weights,
                          cache: Any = None) -> tuple[np.ndarray, Any]:
    """(logits ``[batch vocab ctx_new]``, cache) of a padded batch, as HF's ``generate`` runs one:
    ``tokens [batch ctx_new]``, ``mask [batch ctx_past+ctx_new]`` True at real tokens (the cached
    positions' mask, then the new ones'), ``attention_mask=mask``, position ids
    :func:`padded_position_ids` of the new positions, ``cache`` the spec's (K, V) pairs with a batch
    axis, ``[batch n_heads d_head ctx_past]``, loaded into a ``DynamicCache`` (None: empty) and read
    back out of the one HF grows (:mod:`gptspec.properties.padding`)."""
    model = _model(weights)
    past = _dynamic_cache(model, cache, batched=True)
    ids = torch.as_tensor(np.asarray(tokens, dtype=np.int64))
    positions = padded_position_ids(mask)[:, -ids.shape[1]:]
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=padded_attention_mask(mask), position_ids=positions, use_cache=True,
                    **{CACHE_ARGUMENT: past})
    return to_numpy(out.logits.transpose(-1, -2)), _spec_cache(getattr(out, CACHE_ARGUMENT), batched=True)


def forward_padded(tokens: np.ndarray, mask: np.ndarray, weights: Weights) -> np.ndarray:
    """logits ``[batch vocab ctx]`` of a padded batch with no cache: :func:`forward_padded_cached`'s."""
    return forward_padded_cached(tokens, mask, weights)[0]


def next_token_probs(tokens: np.ndarray, weights: Weights, temperature: float = 1.0) -> np.ndarray:
    """softmax(TemperatureLogitsWarper(T)(logits of the last position)), the last position's
    logits alone computed (``logits_to_keep=1``)."""
    T = check_temperature("next_token_probs", temperature)
    model = _model(weights)
    ids = _input_ids(tokens)
    with torch.no_grad():
        last = model(input_ids=ids, logits_to_keep=1).logits[:, -1, :]
        probs = torch.softmax(TemperatureLogitsWarper(T)(ids, last), dim=-1)
    return to_numpy(probs[0])


def _one_layer(E: np.ndarray, w: BlockWeights, ctx_past: int = 0) -> Any:
    """The one-layer model for ``block(E, w)``: w in ``h[0]``, wte, wpe and lm_head zero, ln_f 1/0;
    room for ``ctx_past`` cached positions before E's."""
    dims = block_dims(E, w)
    dims = dims._replace(n_ctx=dims.n_ctx + ctx_past)
    return _load(MODELS.get(dims), one_layer_state(block_state("transformer.h.0.", w), dims.d_model, dims.n_ctx, E.dtype))


def _through_layer(model: Any, E: np.ndarray, module: Any, replace_input: bool = False, past: Any = None) -> np.ndarray:
    """Run ``GPT2Model(inputs_embeds=Eᵀ)`` and return what ``module`` returned (its first
    element if a tuple), in columns; ``replace_input``: ``module`` is called on ``Eᵀ`` instead
    of what the model gives it (HF's mask and every other argument as the model passes them);
    ``past``: a ``DynamicCache`` the model reads and grows (HF's mask for queries after it)."""
    x = to_tensor(np.ascontiguousarray(E.T))[None]
    seen: list[Any] = []

    def pre(_: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        if "hidden_states" in kwargs:  # GPT2Block passes it positionally; by name would do too
            return args, {**kwargs, "hidden_states": x}
        return (x, *args[1:]), kwargs

    def post(_: Any, args: tuple[Any, ...], output: Any) -> None:
        seen.append(output[0] if isinstance(output, tuple) else output)

    handles = [module.register_forward_hook(post)]
    if replace_input:
        handles.append(module.register_forward_pre_hook(pre, with_kwargs=True))
    try:
        with torch.no_grad():
            cached = {} if past is None else {"use_cache": True, CACHE_ARGUMENT: past}
            model.transformer(inputs_embeds=x, **cached)
    finally:
        for handle in handles:
            handle.remove()
    return to_numpy(seen[0][0].T)


def block(E: np.ndarray, weights: BlockWeights) -> np.ndarray:
    """``GPT2Block`` on ``Eᵀ`` as ``GPT2Model`` calls it (with HF's causal mask): E + attn(ln_1 E),
    then + mlp(ln_2 ·)."""
    model = _one_layer(E, weights)
    return _through_layer(model, E, model.transformer.h[0])


def multi_head_attention(E: np.ndarray, W_Q: np.ndarray, W_K: np.ndarray, W_V_down: np.ndarray, W_O: np.ndarray,
                         causal: bool = True) -> np.ndarray:
    """``GPT2Attention`` on ``Eᵀ`` as ``GPT2Model`` calls it (HF's causal mask, scale 1/√d_head),
    c_attn and c_proj holding the spec's weights (``"hf-gpt2"`` layout, zero biases)."""
    if not causal:
        raise ValueError("hf:gpt2: HF's GPT2Attention is causal in GPT2Model; causal=False is not supported")
    w = neutral_block(E.shape[0], E.dtype, W_Q=W_Q, W_K=W_K, W_V_down=W_V_down, W_O=W_O)
    model = _one_layer(E, w)
    return _through_layer(model, E, model.transformer.h[0].attn, replace_input=True)


def multi_head_attention_cached(E: np.ndarray, W_Q: np.ndarray, W_K: np.ndarray, W_V_down: np.ndarray,
                                W_O: np.ndarray, K_past: np.ndarray, V_past: np.ndarray) -> tuple[np.ndarray, ...]:
    """``GPT2Attention`` on the new columns ``Eᵀ`` after a ``DynamicCache`` holding (K_past, V_past),
    as ``GPT2Model`` calls it (HF's causal mask for queries after the cache); (ΔE, K, V) with K, V
    read back from the cache HF grew."""
    w = neutral_block(E.shape[0], E.dtype, W_Q=W_Q, W_K=W_K, W_V_down=W_V_down, W_O=W_O)
    model = _one_layer(E, w, K_past.shape[-1])
    past = _dynamic_cache(model, ((K_past, V_past),) if K_past.shape[-1] else None)
    delta = _through_layer(model, E, model.transformer.h[0].attn, replace_input=True, past=past)
    layer = past.layers[0]
    return delta, to_numpy(layer.keys[0].transpose(-1, -2)), to_numpy(layer.values[0].transpose(-1, -2))


def _module_dims(E: np.ndarray, d_mlp: int = 1) -> Dims:
    """A one-layer, one-head model of E's d_model: for its layer norm and MLP, which use no other dim."""
    return Dims(1, E.shape[0], 1, 1, E.shape[0], d_mlp, 1, np.dtype(E.dtype).name)


def layer_norm(E: np.ndarray, gain: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """HF GPT-2's ``ln_1`` (``nn.LayerNorm(d_model, eps=layer_norm_epsilon)``) on ``Eᵀ``."""
    ln = MODELS.get(_module_dims(E)).transformer.h[0].ln_1
    ln.load_state_dict({"weight": to_tensor(gain), "bias": to_tensor(bias)}, strict=True)
    with torch.no_grad():
        return to_numpy(ln(to_tensor(np.ascontiguousarray(E.T))).T)


def mlp(E: np.ndarray, W_up: np.ndarray, b_up: np.ndarray, W_down: np.ndarray, b_down: np.ndarray) -> np.ndarray:
    """HF GPT-2's ``GPT2MLP`` on ``Eᵀ``: c_proj(gelu_new(c_fc(x))), ``c_fc.weight = W_upᵀ``,
    ``c_proj.weight = W_downᵀ``."""
    module = MODELS.get(_module_dims(E, W_up.shape[0])).transformer.h[0].mlp
    module.load_state_dict({"c_fc.weight": to_tensor(W_up.T), "c_fc.bias": to_tensor(b_up),
                            "c_proj.weight": to_tensor(W_down.T), "c_proj.bias": to_tensor(b_down)}, strict=True)
    with torch.no_grad():
        return to_numpy(module(to_tensor(np.ascontiguousarray(E.T))).T)
