"""What the torch families (nanoGPT, minGPT) share: GPT-2's state-dict names, fused ``c_attn``.

Both write a ``GPT`` ``nn.Module`` whose parameters have GPT-2's names in ``nn.Linear`` form
(:func:`.layouts.attention_state` ``"fused-linear"``)::

    transformer.wte.weight  [vocab d_model]   = W_Eᵀ         transformer.wpe.weight [n_ctx d_model] = W_posᵀ
    transformer.h.{i}.ln_1 / ln_2 .weight .bias = gains, biases
    transformer.h.{i}.attn.c_attn.weight [3·d_model d_model], c_proj.weight = W_O   (biases zero)
    transformer.h.{i}.mlp.c_fc.weight [d_mlp d_model] = W_up,  mlp.c_proj.weight = W_down
    transformer.ln_f.weight .bias,  lm_head.weight [vocab d_model] = W_U

A :class:`Recipe` says how one family builds its model at given :class:`.models.Dims` and
calls it; :func:`spec_functions` makes the spec's functions from it: each builds (once per dims
and dtype, :class:`.models.ModelCache`) the user's own model from the user's own config class,
copies the spec's weights into its parameters (every parameter, by name; a parameter the spec
does not know is an error, never left at its random init), runs the user's module in rows
(``x [1 ctx d_model]``) and returns the spec's columns. The submodule functions run one block's
modules of a one-layer model: ``block`` = ``h[0](x)``, ``multi_head_attention`` = ``h[0].attn(x)``
(causal only: both families mask inside), ``layer_norm`` = ``h[0].ln_1(x)``, ``mlp`` as the family
says (nanoGPT ``h[0].mlp(x)``, minGPT ``h[0].mlpf(x)``).

Imported only in a target process whose module imported torch (a family recognised it).
"""

from __future__ import annotations

import dataclasses
import math
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..spec import BlockWeights, Weights
from .families import Family, Found, Miss, label_of
from .layouts import attention_state
from .models import (Dims, ModelCache, block_dims, check_temperature, gpt2_state, model_dims, neutral_block,
                     one_layer_state, to_numpy)

__all__ = ["Recipe", "Probe", "BLOCK_CTX", "CACHED", "built", "state_dict", "load", "probe", "spec_functions",
           "gelu_form"]

BLOCK_CTX = 16
"""The least block size a model is built with (any ctx up to it): the positions past the weights'
n_ctx are zero, so one model serves every n_ctx the search draws."""

CACHED = 64
"""Models kept per target (the search draws many small sizes; a build costs ~10-30 ms)."""


def built(build: Callable[[Dims], Any], dims: Dims) -> Any:
    """The family's model at ``dims``, its parameters made in ``dims.dtype`` directly (torch's
    default dtype for the build: no conversion pass), in eval mode, without gradients."""
    dtype, previous = getattr(torch, dims.dtype), torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        model = build(dims)
    finally:
        torch.set_default_dtype(previous)
    if any(p.dtype != dtype for p in model.parameters()):
        model = model.to(dtype)
    return model.eval().requires_grad_(False)


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How a family builds and calls its model: ``build(dims)`` the user's module (eval, no
    dropout); ``logits(model, idx, last)`` its logits ``[1 ctx vocab]`` (``last``: only the last
    position's, as at inference); ``mlp(block, x)``; ``generate(model, idx, n_new, T, top_k)``
    the user's generate (T = 0: greedy as the family does it); ``d_mlp(d_model)`` the
    width of its MLP."""

    build: Callable[[Dims], Any]
    logits: Callable[[Any, Any, bool], Any]
    mlp: Callable[[Any, Any], Any]
    generate: Callable[[Any, Any, int, float, int | None], Any]
    d_mlp: Callable[[int], int]


def _block_state(prefix: str, w: BlockWeights) -> dict[str, np.ndarray]:
    width = 3 * w.W_Q.shape[0] * w.W_Q.shape[1]
    state = {f"{prefix}ln_1.weight": w.ln1_gain, f"{prefix}ln_1.bias": w.ln1_bias,
             f"{prefix}ln_2.weight": w.ln2_gain, f"{prefix}ln_2.bias": w.ln2_bias,
             f"{prefix}mlp.c_fc.weight": w.W_up, f"{prefix}mlp.c_fc.bias": w.b_up,
             f"{prefix}mlp.c_proj.weight": w.W_down, f"{prefix}mlp.c_proj.bias": w.b_down,
             f"{prefix}attn.c_attn.bias": np.zeros(width, w.W_O.dtype),
             f"{prefix}attn.c_proj.bias": np.zeros(w.W_O.shape[0], w.W_O.dtype)}
    for name, array in attention_state("fused-linear", w.W_Q, w.W_K, w.W_V_down, w.W_O).items():
        state[f"{prefix}attn.{name}"] = array
    return state


def state_dict(weights: Weights, n_ctx: int | None = None) -> dict[str, np.ndarray]:
    """The spec's weights under GPT-2's nn.Linear names (the table above); ``n_ctx``: the model's
    block size, the positions past the weights' own n_ctx zero (no call reaches them)."""
    W_pos = weights.W_pos
    if n_ctx is not None and n_ctx > W_pos.shape[1]:
        W_pos = np.concatenate([W_pos, np.zeros((W_pos.shape[0], n_ctx - W_pos.shape[1]), W_pos.dtype)], axis=1)
    blocks = [_block_state(f"transformer.h.{i}.", w) for i, w in enumerate(weights.blocks)]
    return gpt2_state(blocks, weights.W_E, W_pos, weights.lnf_gain, weights.lnf_bias, weights.W_U)


def load(model: Any, state: dict[str, np.ndarray], label: str) -> Any:
    """``state`` copied into ``model``'s parameters, every one by name. A parameter ``state`` lacks
    is an error (the model is not the spec's); a bias the model lacks must be zero in ``state``;
    parameters tied together (nanoGPT's wte and lm_head) must be given the same values."""
    seen: dict[int, str] = {}
    with torch.no_grad():
        for name, p in model.named_parameters(remove_duplicate=False):
            if name not in state:
                raise ValueError(f"{label}: the model has a parameter {name} {tuple(p.shape)} the spec's weights do not "
                                 "give (not a GPT-2 parameter name)")
            value = torch.from_numpy(np.ascontiguousarray(state[name]))
            if tuple(value.shape) != tuple(p.shape):
                raise ValueError(f"{label}: {name} is {tuple(p.shape)} in the model, the spec's weights give "
                                 f"{tuple(value.shape)}")
            if id(p) in seen:  # tied: the second name must hold what the first was given
                if not torch.equal(p, value):
                    raise ValueError(f"{label}: {seen[id(p)]} and {name} are one tied parameter, but the spec's weights "
                                     "give them different values (declare tied-embeddings: W_U = W_Eᵀ)")
                continue
            seen[id(p)] = name
            p.copy_(value)
    names = {n for n, _ in model.named_parameters(remove_duplicate=False)}
    for name, array in state.items():
        if name not in names and name.endswith(".bias") and np.any(array):
            raise ValueError(f"{label}: the model has no {name}, but the spec's weights give it nonzero values "
                             "(declare no-bias)")
    return model


def _rows(E: np.ndarray) -> Any:
    return torch.from_numpy(np.ascontiguousarray(E.T))[None]


def _columns(x: Any) -> np.ndarray:
    return to_numpy(x[0].T)


def _idx(tokens: np.ndarray) -> Any:
    return torch.as_tensor(np.asarray(tokens, dtype=np.int64)[None, :])


@dataclasses.dataclass(frozen=True)
class Probe:
    """What a model built at a tiny size shows of its structure."""

    tied: bool
    gelu: str | None  # "erf", "tanh", or None (neither: the activation is something else)
    d_mlp_ratio: float
    names: frozenset[str]


def gelu_form(act: Callable[[Any], Any]) -> str | None:
    """Which GELU ``act`` computes, read off its values at a few points: "erf" (½x(1 + erf(x/√2)),
    ``nn.GELU()``), "tanh" (GPT-2's, the spec's), or None."""
    x = torch.tensor([-2.0, -0.7, 0.5, 1.0, 3.0], dtype=torch.float64)
    try:
        with torch.no_grad():
            y = act(x).to(torch.float64)
    except Exception:  # noqa: BLE001 - not an elementwise activation of a 1-D tensor
        return None
    erf = 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))
    tanh = 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    if torch.allclose(y, erf, rtol=0, atol=1e-6):
        return "erf"
    if torch.allclose(y, tanh, rtol=0, atol=1e-6):
        return "tanh"
    return None


def probe(model: Any, activation: Callable[[Any], Any]) -> Probe:
    """The structure of a built model: tied embeddings, its GELU, d_mlp / d_model, parameter names."""
    names = frozenset(n for n, _ in model.named_parameters(remove_duplicate=False))
    tr = model.transformer
    tied = tr.wte.weight is model.lm_head.weight
    c_fc = tr.h[0].mlp.c_fc
    return Probe(tied, gelu_form(activation), c_fc.out_features / c_fc.in_features, names)


def missing_names(found: frozenset[str], n_layers: int) -> list[str]:
    """GPT-2's parameter names a probed model lacks (biases may be absent: no-bias)."""
    want = state_dict_names(n_layers)
    return sorted(n for n in want - found if not n.endswith(".bias"))


def state_dict_names(n_layers: int) -> set[str]:
    parts = ("ln_1.weight", "ln_1.bias", "ln_2.weight", "ln_2.bias", "attn.c_attn.weight", "attn.c_attn.bias",
             "attn.c_proj.weight", "attn.c_proj.bias", "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight",
             "mlp.c_proj.bias")
    names = {"transformer.wte.weight", "transformer.wpe.weight", "transformer.ln_f.weight", "transformer.ln_f.bias",
             "lm_head.weight"}
    return names | {f"transformer.h.{i}.{p}" for i in range(n_layers) for p in parts}


def tiny_gpt2(build: Callable[[Dims], Any], made: str) -> Any:
    """The model ``build`` makes at a tiny size, if it has GPT-2's structure (``transformer``, ``lm_head``
    and GPT-2's parameter names); else :class:`~.families.Miss` saying what it lacks (``made``: how the
    class was built, for the message)."""
    try:
        tiny = built(build, Dims(3, 4, 4, 2, 2, 16, 1, "float64"))
    except Exception as exc:  # noqa: BLE001 - the class is not built this way
        raise Miss(f"{made} raised {type(exc).__name__}: {exc}") from None
    name = type(tiny).__name__
    if not hasattr(tiny, "transformer") or not hasattr(tiny, "lm_head"):
        raise Miss(f"{name} has no transformer and lm_head")
    missing = missing_names(frozenset(n for n, _ in tiny.named_parameters(remove_duplicate=False)), 1)
    if missing:
        raise Miss(f"{name}'s parameters lack GPT-2's {', '.join(missing[:3])}")
    return tiny


def recognised(family: Family, gpt: type, features: list[str], assume: list[str], module: types.ModuleType,
               recipe: Recipe) -> Found:
    """What a torch family recognised in ``module``: its :class:`~.families.Found`, with the spec's
    functions computed by the model ``recipe`` builds."""
    found = Found(family, gpt.__name__, tuple(features), None)
    model = spec_functions(recipe, label_of(module), tuple(assume), found.text)
    return dataclasses.replace(found, model=model)


def spec_functions(recipe: Recipe, label: str, assume: tuple[str, ...], family: str) -> types.SimpleNamespace:
    """The spec's functions (and ``generate``) computed by the model ``recipe`` builds."""
    models = ModelCache(lambda dims: built(recipe.build, dims), size=CACHED)
    last: list[Any] = []  # (weights, model) last loaded: repeated calls on the same weights skip the copy

    def model_for(weights: Weights) -> Any:
        if last and last[0][0] is weights:
            return last[0][1]
        dims = model_dims(weights)
        dims = dims._replace(n_ctx=max(dims.n_ctx, BLOCK_CTX))  # one model for every n_ctx up to BLOCK_CTX
        model = load(models.get(dims), state_dict(weights, dims.n_ctx), label)
        last[:] = [(weights, model)]
        return model

    def one_layer(E: np.ndarray, w: BlockWeights) -> Any:
        dims = block_dims(E, w)._replace(n_ctx=max(E.shape[1], BLOCK_CTX))
        state = one_layer_state(_block_state("transformer.h.0.", w), dims.d_model, dims.n_ctx, E.dtype)
        last.clear()
        return load(models.get(dims), state, label).transformer.h[0]

    def forward(tokens: np.ndarray, weights: Weights) -> np.ndarray:
        """logits ``[vocab ctx]``: the model's logits at every position, transposed."""
        with torch.no_grad():
            return _columns(recipe.logits(model_for(weights), _idx(tokens), False))

    def next_token_probs(tokens: np.ndarray, weights: Weights, temperature: float = 1.0) -> np.ndarray:
        """softmax(logits / T) of the last position, the logits as the model computes them at
        inference (nanoGPT: only the last position's), divided and softmaxed as its generate does."""
        T = check_temperature("next_token_probs", temperature)
        with torch.no_grad():
            logits = recipe.logits(model_for(weights), _idx(tokens), True)[0, -1, :]
            return to_numpy(torch.softmax(logits / T, dim=-1))

    def block(E: np.ndarray, weights: BlockWeights) -> np.ndarray:
        """The model's Block on Eᵀ: x + attn(ln_1 x), then + mlp(ln_2 x)."""
        with torch.no_grad():
            return _columns(one_layer(E, weights)(_rows(E)))

    def neutral(E: np.ndarray, **given: np.ndarray) -> BlockWeights:
        """A pass-through block of the model's own widths (one zero head of d_head = d_model, a
        zero MLP as wide as the model's) with ``given`` in place."""
        d, dtype = E.shape[0], E.dtype
        width, head = recipe.d_mlp(d), np.zeros((1, d, d), dtype)
        zero = neutral_block(d, dtype, W_Q=head, W_K=head, W_V_down=head, W_O=np.zeros((d, d), dtype),
                             W_up=np.zeros((width, d), dtype), b_up=np.zeros(width, dtype),
                             W_down=np.zeros((d, width), dtype))
        return dataclasses.replace(zero, **given)

    def multi_head_attention(E: np.ndarray, W_Q: np.ndarray, W_K: np.ndarray, W_V_down: np.ndarray, W_O: np.ndarray,
                             causal: bool = True) -> np.ndarray:
        """The model's causal self-attention on Eᵀ, c_attn and c_proj holding the spec's weights."""
        if not causal:
            raise ValueError(f"{label}: the model's attention is causal; causal=False is not supported")
        with torch.no_grad():
            return _columns(one_layer(E, neutral(E, W_Q=W_Q, W_K=W_K, W_V_down=W_V_down, W_O=W_O)).attn(_rows(E)))

    def mlp(E: np.ndarray, W_up: np.ndarray, b_up: np.ndarray, W_down: np.ndarray, b_down: np.ndarray) -> np.ndarray:
        """The model's MLP on Eᵀ: c_proj(act(c_fc x))."""
        w = neutral(E, W_up=W_up, b_up=b_up, W_down=W_down, b_down=b_down)
        with torch.no_grad():
            return _columns(recipe.mlp(one_layer(E, w), _rows(E)))

    def layer_norm(E: np.ndarray, gain: np.ndarray, bias: np.ndarray) -> np.ndarray:
        """The model's ln_1 on Eᵀ."""
        with torch.no_grad():
            return _columns(one_layer(E, neutral(E, ln1_gain=gain, ln1_bias=bias)).ln_1(_rows(E)))

    def generate(tokens: np.ndarray, weights: Weights, n_new: int, temperature: float, top_k: int | None,
                 rng: np.random.Generator, batch: int = 1) -> np.ndarray:
        """The model's own generate on ``batch`` copies of ``tokens``: the n_new tokens after them,
        ``[batch n_new]`` (T = 0: greedy); torch's generator seeded from ``rng``, so a seed
        reproduces the draws."""
        model = model_for(weights)
        torch.manual_seed(int(rng.integers(0, 2**63 - 1)))
        idx = _idx(tokens).repeat(int(batch), 1)
        out = recipe.generate(model, idx, int(n_new), float(temperature), top_k)
        return np.asarray(out[:, len(tokens):].cpu().numpy(), dtype=np.int64)

    return types.SimpleNamespace(
        forward=forward, next_token_probs=next_token_probs, block=block, multi_head_attention=multi_head_attention,
        mlp=mlp, layer_norm=layer_norm, generate=generate,
        GPTSPEC_ASSUME=list(assume), GPTSPEC_FRAMEWORK="numpy", GPTSPEC_FAMILY=family,
    )
