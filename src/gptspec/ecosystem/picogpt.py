"""The picoGPT family: jaymody/picoGPT's ``gpt2.py`` (NumPy, GPT-2 checkpoint params), as written.

Recognised by structure: the module has ``gpt2(inputs, wte, wpe, blocks, ln_f, n_head)``;
beside it, each of these is used when its parameters are these (picoGPT's), and left out
otherwise::

    generate(inputs, params, n_head, n_tokens_to_generate)     greedy: the tokens it appended
    transformer_block(x, mlp, attn, ln_1, ln_2, n_head)        mha(x, c_attn, c_proj, n_head)
    ffn(x, c_fc, c_proj)                                       layer_norm(x, g, b)

picoGPT works in rows (``x [ctx d_model]``) with GPT-2's checkpoint layout, ``{"w": [in, out],
"b": [out]}`` per linear layer (:func:`.layouts.attention_state` ``"hf-gpt2"`` for ``c_attn``), and
unembeds with ``wte.T``. So the spec's ``W_E`` is ``wteᵀ`` and ``W_U`` must be ``W_Eᵀ``: the family
declares ``tied-embeddings`` (the search draws W_U = W_Eᵀ; other weights are refused, never
computed with the wrong W_U), ``d_model=n_heads*d_head`` (``np.split`` into n_head heads),
``causal-only``, and ``greedy-only`` (its generate is argmax, no temperature). Its
``softmax(x)`` takes no temperature or axis and is not the spec's softmax: it is not run as one;
its ``layer_norm(x, g, b)`` is, transposed.
"""

from __future__ import annotations

import dataclasses
import types
from typing import Any

import numpy as np

from ..spec import BlockWeights, Weights
from .families import Family, Found, Miss, has_parameters, register
from .layouts import attention_state

__all__ = ["FAMILY", "recognise", "block_params", "params"]

GPT2 = ("inputs", "wte", "wpe", "blocks", "ln_f", "n_head")
OPTIONAL = {
    "generate": ("inputs", "params", "n_head", "n_tokens_to_generate"),
    "transformer_block": ("x", "mlp", "attn", "ln_1", "ln_2", "n_head"),
    "mha": ("x", "c_attn", "c_proj", "n_head"),
    "ffn": ("x", "c_fc", "c_proj"),
    "layer_norm": ("x", "g", "b"),
}


def _linear(W: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
    """A linear layer ``x @ w + b`` computing the spec's ``W · e + b``: ``w = Wᵀ``."""
    return {"w": np.ascontiguousarray(W.T), "b": b}


def _attention(W_Q: np.ndarray, W_K: np.ndarray, W_V_down: np.ndarray, W_O: np.ndarray) -> dict[str, Any]:
    state = attention_state("hf-gpt2", W_Q, W_K, W_V_down, W_O)
    c_attn, c_proj = state["c_attn.weight"], state["c_proj.weight"]
    return {"c_attn": {"w": c_attn, "b": np.zeros(c_attn.shape[1], c_attn.dtype)},
            "c_proj": {"w": c_proj, "b": np.zeros(c_proj.shape[1], c_proj.dtype)}}


def block_params(w: BlockWeights) -> dict[str, Any]:
    """One block as picoGPT's checkpoint dict: mlp, attn, ln_1, ln_2."""
    return {"mlp": {"c_fc": _linear(w.W_up, w.b_up), "c_proj": _linear(w.W_down, w.b_down)},
            "attn": _attention(w.W_Q, w.W_K, w.W_V_down, w.W_O),
            "ln_1": {"g": w.ln1_gain, "b": w.ln1_bias}, "ln_2": {"g": w.ln2_gain, "b": w.ln2_bias}}


def _tied(fn: str, weights: Weights) -> None:
    if not np.array_equal(weights.W_U, weights.W_E.T):
        raise ValueError(f"{fn}: picoGPT unembeds with wte.T, so W_U must equal W_Eᵀ (declare tied-embeddings)")


def params(weights: Weights) -> dict[str, Any]:
    """The spec's weights as picoGPT's params: wte = W_Eᵀ, wpe = W_posᵀ, blocks, ln_f."""
    return {"wte": np.ascontiguousarray(weights.W_E.T), "wpe": np.ascontiguousarray(weights.W_pos.T),
            "blocks": [block_params(b) for b in weights.blocks], "ln_f": {"g": weights.lnf_gain, "b": weights.lnf_bias}}


def _n_head(weights: Weights) -> int:
    return int(weights.blocks[0].W_Q.shape[0]) if weights.blocks else 1


def recognise(module: types.ModuleType) -> Found:
    gpt2 = getattr(module, "gpt2", None)
    if not callable(gpt2) or not has_parameters(gpt2, GPT2):
        raise Miss("no gpt2(inputs, wte, wpe, blocks, ln_f, n_head)")
    own = {name: getattr(module, name) for name, wanted in OPTIONAL.items()
           if callable(getattr(module, name, None)) and has_parameters(getattr(module, name), wanted)}
    ns = types.SimpleNamespace(GPTSPEC_FRAMEWORK="numpy",
                               GPTSPEC_ASSUME=["tied-embeddings", "d_model=n_heads*d_head", "causal-only", "greedy-only"])

    def forward(tokens: np.ndarray, weights: Weights) -> np.ndarray:
        """logits ``[vocab ctx]`` = gpt2(tokens, **params, n_head)ᵀ."""
        _tied("forward", weights)
        return np.asarray(gpt2([int(t) for t in tokens], **params(weights), n_head=_n_head(weights))).T

    ns.forward = forward
    if "generate" in own:
        def generate(tokens: np.ndarray, weights: Weights, n_new: int, temperature: float, top_k: int | None,
                     rng: np.random.Generator, batch: int = 1) -> np.ndarray:
            """picoGPT's generate, ``[batch n_new]`` (greedy: T = 0 and no top_k only)."""
            if temperature != 0 or top_k is not None:
                raise ValueError("picoGPT's generate is greedy only (T = 0, no top_k): declare greedy-only")
            _tied("generate", weights)
            new = [own["generate"]([int(t) for t in tokens], params(weights), _n_head(weights), int(n_new))
                   for _ in range(int(batch))]
            return np.asarray(new, dtype=np.int64).reshape(int(batch), int(n_new))

        ns.generate = generate
    if "transformer_block" in own:
        def block(E: np.ndarray, weights: BlockWeights) -> np.ndarray:
            """transformer_block(Eᵀ, **block, n_head)ᵀ."""
            out = own["transformer_block"](np.ascontiguousarray(E.T), **block_params(weights),
                                           n_head=int(weights.W_Q.shape[0]))
            return np.asarray(out).T

        ns.block = block
    if "mha" in own:
        def multi_head_attention(E: np.ndarray, W_Q: np.ndarray, W_K: np.ndarray, W_V_down: np.ndarray,
                                 W_O: np.ndarray, causal: bool = True) -> np.ndarray:
            """mha(Eᵀ, c_attn, c_proj, n_head)ᵀ (causal: picoGPT masks always)."""
            if not causal:
                raise ValueError("picoGPT's mha is causal; causal=False is not supported")
            return np.asarray(own["mha"](np.ascontiguousarray(E.T), **_attention(W_Q, W_K, W_V_down, W_O),
                                         n_head=int(W_Q.shape[0]))).T

        ns.multi_head_attention = multi_head_attention
    if "ffn" in own:
        def mlp(E: np.ndarray, W_up: np.ndarray, b_up: np.ndarray, W_down: np.ndarray, b_down: np.ndarray) -> np.ndarray:
            """ffn(Eᵀ, c_fc, c_proj)ᵀ."""
            return np.asarray(own["ffn"](np.ascontiguousarray(E.T), _linear(W_up, b_up), _linear(W_down, b_down))).T

        ns.mlp = mlp
    if "layer_norm" in own:
        def layer_norm(E: np.ndarray, gain: np.ndarray, bias: np.ndarray) -> np.ndarray:
            """layer_norm(Eᵀ, g, b)ᵀ."""
            return np.asarray(own["layer_norm"](np.ascontiguousarray(E.T), gain, bias)).T

        ns.layer_norm = layer_norm
    features = ("rows with W [in, out]", "tied embeddings (wte.T)", "greedy generate")
    found = Found(FAMILY, "gpt2", features, ns)
    ns.GPTSPEC_FAMILY = found.text
    return dataclasses.replace(found, model=ns)


FAMILY = register(Family("picogpt", "picoGPT", "NumPy gpt2(inputs, wte, wpe, blocks, ln_f, n_head)", recognise))
