"""Layer norm, GELU, the block's residual adds and layer norms, the model's residual stream."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .base import BLOCK, LAYER_NORM, MLP, MODEL, Change, Fit, Namespace, cause

__all__ = ["GELU_ERF", "GELU_SIGMOID", "GELU_RELU", "NO_ATTENTION_RESIDUAL", "NO_MLP_RESIDUAL", "POST_LN",
           "LN1_BEFORE_MLP", "HEAD_ADDS_RESIDUAL", "MHA_ADDS_RESIDUAL", "POSITIONS_MISSING", "POSITIONS_REVERSED",
           "POSITIONS_OFFSET", "NO_FINAL_LN"]

@cause("layer-norm-eps", "layer norm adds ε = {value} to the variance, not 1e-5", LAYER_NORM,
       Fit(1e-15, 1e1, 1.0, "ε"))
def _layer_norm_eps(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    def layer_norm(E, gain, bias):
        mean = E.mean(axis=0, keepdims=True)
        return (E - mean) / np.sqrt(E.var(axis=0, keepdims=True) + p) * gain[:, None] + bias[:, None]

    return {"layer_norm": layer_norm}


@cause("layer-norm-unbiased", "layer norm divides by the unbiased (n − 1) variance, as torch.var does by default",
       LAYER_NORM)
def _layer_norm_unbiased(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
    eps = g["LAYER_NORM_EPS"]

    def layer_norm(E, gain, bias):
        var = E.var(axis=0, ddof=1, keepdims=True) if E.shape[0] > 1 else E.var(axis=0, keepdims=True)
        return (E - E.mean(axis=0, keepdims=True)) / np.sqrt(var + eps) * gain[:, None] + bias[:, None]

    return {"layer_norm": layer_norm}


def _gelu(form: Callable[[np.ndarray], np.ndarray]) -> Change:
    def change(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
        return {"gelu": form}

    return change


def _gelu_erf(x: np.ndarray) -> np.ndarray:
    """½ x (1 + erf(x / √2))."""
    return 0.5 * x * (1.0 + np.vectorize(math.erf, otypes=[x.dtype])(x / math.sqrt(2.0)))


def _gelu_sigmoid(x: np.ndarray) -> np.ndarray:
    """x σ(1.702 x)."""
    return x / (1.0 + np.exp(-1.702 * x))


GELU_ERF = cause("gelu-erf", "GELU is the exact erf form (nn.GELU()), where the spec (as GPT-2/3) uses the tanh form "
                 "(declare the variant gelu=erf if that is meant)", MLP)(_gelu(_gelu_erf))
GELU_SIGMOID = cause("gelu-sigmoid", "GELU is the sigmoid approximation x·σ(1.702x), not the tanh form", MLP)(
    _gelu(_gelu_sigmoid))
GELU_RELU = cause("gelu-relu", "the MLP's non-linearity is ReLU, not GELU", MLP)(_gelu(lambda x: np.maximum(x, 0)))


def _block(body: Callable[[Namespace, np.ndarray, Any], np.ndarray]) -> Change:
    def change(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
        def block(E, weights):
            return body(g, E, weights)

        return {"block": block}

    return change


def _attend(g: Namespace, E: np.ndarray, w: Any) -> np.ndarray:
    return g["multi_head_attention"](E, w.W_Q, w.W_K, w.W_V_down, w.W_O)


def _feed(g: Namespace, E: np.ndarray, w: Any) -> np.ndarray:
    return g["mlp"](E, w.W_up, w.b_up, w.W_down, w.b_down)


def _ln(g: Namespace, E: np.ndarray, gain: np.ndarray, bias: np.ndarray) -> np.ndarray:
    return g["layer_norm"](E, gain, bias)


def _no_attention_residual(g: Namespace, E: np.ndarray, w: Any) -> np.ndarray:
    E = _attend(g, _ln(g, E, w.ln1_gain, w.ln1_bias), w)
    return E + _feed(g, _ln(g, E, w.ln2_gain, w.ln2_bias), w)


def _no_mlp_residual(g: Namespace, E: np.ndarray, w: Any) -> np.ndarray:
    E = E + _attend(g, _ln(g, E, w.ln1_gain, w.ln1_bias), w)
    return _feed(g, _ln(g, E, w.ln2_gain, w.ln2_bias), w)


def _post_ln(g: Namespace, E: np.ndarray, w: Any) -> np.ndarray:
    E = _ln(g, E + _attend(g, E, w), w.ln1_gain, w.ln1_bias)
    return _ln(g, E + _feed(g, E, w), w.ln2_gain, w.ln2_bias)


def _ln1_before_mlp(g: Namespace, E: np.ndarray, w: Any) -> np.ndarray:
    E = E + _attend(g, _ln(g, E, w.ln1_gain, w.ln1_bias), w)
    return E + _feed(g, _ln(g, E, w.ln1_gain, w.ln1_bias), w)


NO_ATTENTION_RESIDUAL = cause("no-attention-residual", "the block does not add attention's output to the residual "
                              "stream (E = MHA(LN₁(E)), not E + MHA(LN₁(E)))", BLOCK)(
    _block(_no_attention_residual))
NO_MLP_RESIDUAL = cause("no-mlp-residual", "the block does not add the MLP's output to the residual stream", BLOCK)(
    _block(_no_mlp_residual))
POST_LN = cause("post-layer-norm", "the block normalises after each residual add (post-LN, the 2017 Transformer), not "
                "before each sublayer (pre-LN, GPT-2)", BLOCK)(_block(_post_ln))
LN1_BEFORE_MLP = cause("ln1-before-mlp", "the block uses the first layer norm's gain and bias before the MLP, not "
                       "the second's", BLOCK)(_block(_ln1_before_mlp))


def _residual_added(name: str) -> Change:
    def change(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
        original = g[name]

        def with_residual(E, *args):
            return E + original(E, *args)

        return {name: with_residual}

    return change


HEAD_ADDS_RESIDUAL = cause("head-adds-residual", "attention_head returns E + ΔE (the block's residual add folded in), "
                           "not ΔE", ("attention_head",))(_residual_added("attention_head"))
MHA_ADDS_RESIDUAL = cause("mha-adds-residual", "multi_head_attention returns E + ΔE (the block's residual add folded "
                          "in), not ΔE", ("multi_head_attention",))(_residual_added("multi_head_attention"))


def _residual_stream(positions: Callable[[np.ndarray, int], np.ndarray], final_ln: bool = True) -> Change:
    """The model's residual stream with position embeddings ``positions(W_pos, ctx)``."""

    def change(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
        validate, embed, block, layer_norm = g["validate"], g["embed"], g["block"], g["layer_norm"]

        def final_residual(tokens, weights, fn):
            validate.tokens_in_vocab(fn, tokens, weights.W_E.shape[1])
            ctx = tokens.shape[0]
            validate.context_fits(fn, ctx, weights.W_pos.shape[1])
            E = embed(tokens, weights.W_E) + positions(weights.W_pos, ctx)
            for layer in weights.blocks:
                E = block(E, layer)
            return layer_norm(E, weights.lnf_gain, weights.lnf_bias) if final_ln else E

        return {"final_residual": final_residual}

    return change


POSITIONS_MISSING = cause("positions-missing", "the position embedding W_pos is never added", MODEL)(
    _residual_stream(lambda W_pos, ctx: np.zeros_like(W_pos[:, :ctx])))
POSITIONS_REVERSED = cause("positions-reversed", "the position embeddings are added in reverse order", MODEL)(
    _residual_stream(lambda W_pos, ctx: W_pos[:, :ctx][:, ::-1]))
POSITIONS_OFFSET = cause("positions-offset", "the positions start at 1, not 0 (W_pos[:, 1:ctx + 1])", MODEL)(
    _residual_stream(lambda W_pos, ctx: W_pos[:, 1:ctx + 1]))
NO_FINAL_LN = cause("no-final-layer-norm", "the final layer norm (ln_f) before the unembedding is missing", MODEL)(
    _residual_stream(lambda W_pos, ctx: W_pos[:, :ctx], final_ln=False))
