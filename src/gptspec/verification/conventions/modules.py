"""The module conventions: a factory of a ``torch.nn.Module`` in one of the ecosystem's layouts.

    make(d_model, n_heads) -> module          (any of d_model, n_heads, d_head, n_ctx, by name)
    module(x [batch ctx d_model]) -> y [batch ctx d_model], or a tuple whose first element is y

``--convention fused-linear | hf-gpt2 | qkvo-linear | transformer-lens`` names the layout of the
module's parameters (:data:`gptspec.ecosystem.layouts.WEIGHT_LAYOUTS`: nanoGPT's fused ``nn.Linear``, HF
GPT-2's ``Conv1D``, Llama-style ``q_proj``/``k_proj``/``v_proj``/``o_proj``, TransformerLens'
per-head ``W_Q``...). For the spec's ``multi_head_attention(E, W_Q, W_K, W_V_down, W_O, causal)``
gptspec

1. calls the factory with the sizes it names (inspected from its signature; ``n_ctx`` is at least
   every ctx it is called with, for a ``tril`` buffer of ``block_size``), once per sizes and dtype
   (the module is cached and its weights reloaded for each call);
2. puts the module in eval mode and casts it to the inputs' dtype, before loading any weight (a
   float32 module would round float64 weights);
3. copies :func:`~gptspec.ecosystem.layouts.attention_state` into the parameters of those names
   under ``torch.no_grad()`` and zeroes the layout's biases (:func:`.attention_biases`) where the
   module has them: the spec's attention has none;
4. calls ``module(x)`` with ``x = Eᵀ`` and a batch axis (rows: ``[1 ctx d_model]``) — for
   ``hf-gpt2`` with the ``attention_mask`` HF's ``GPT2Model`` builds (``create_causal_mask`` for the
   attention implementation the module runs: its ``config._attn_implementation``, eager when unset
   as ``GPT2Attention`` itself falls back to eager; without it eager attention is not causal) —
   and returns ``ΔE = yᵀ`` ``[d_model ctx]``.

A missing parameter, one of the wrong shape (named, with the layout's dims and the sizes), a
factory needing an argument gptspec does not give, or one that returns no ``nn.Module`` is a
:class:`LayoutError` (a :class:`~gptspec.target.TargetError`: found on a first build at load time,
so the command exits 2 with the sentence).

**Declared domain.** A module computes causal self-attention (``module(x)`` has no causal switch),
so every layout declares ``causal-only``; and unless the factory takes ``d_head``, the module can
only infer it as ``d_model // n_heads``, so it declares ``d_model=n_heads*d_head`` too (a factory
that takes ``d_head`` is searched with heads that do not fill d_model). The words reach the verifier
in :class:`~gptspec.verification.isolation.Loaded`, and properties that cannot be stated inside them
are "not applicable".

**Entry points**: ``multi_head_attention`` (nothing else maps honestly: one head would be a module
of d_head = d_model) and ``batched_multi_head_attention(E [batch d_model ctx], W_Q, W_K, W_V_down,
W_O, causal)`` → ``[batch d_model ctx]``: one call of the module on the whole batch, for
``batch.mha_entries_independent``.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

import numpy as np
import torch

from ...ecosystem.layouts import PARAMETER_DIMS, WEIGHT_LAYOUTS, attention_biases, attention_state
from ...properties.domain import CAUSAL_ONLY, HEADS_FILL
from ...target import TargetError
from ..frameworks import owning
from . import Built, Convention
from .attention import ConventionResultError

__all__ = ["N_CTX", "SIZES", "LayoutError", "ModuleTarget", "build", "declared", "factory_arguments"]

SIZES = ("d_model", "n_heads", "d_head", "n_ctx")
"""The keyword arguments a factory may take."""

N_CTX = 64
"""The n_ctx a module is built with: more than any ctx the strategies draw (a larger ctx builds
one of the next power of two)."""

_PROBE = {"d_model": 4, "n_heads": 2, "d_head": 2, "n_ctx": N_CTX}
"""The sizes of the build at load time that finds layout errors before any property runs."""


class LayoutError(TargetError):
    """The module's parameters are not those of its layout, or the factory cannot be called."""


def factory_arguments(factory: Any, label: str, convention: str) -> tuple[str, ...]:
    """The sizes (of :data:`SIZES`) ``factory`` takes by name; all of them for ``**kwargs``. A
    LayoutError for a required parameter that is not one of them."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        raise LayoutError(f"{label}: gptspec cannot read the factory's signature; write "
                          f"def make({', '.join(SIZES[:2])}): return YourModule(...)") from None
    names: list[str] = []
    for p in signature.parameters.values():
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            return SIZES
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            continue
        if p.name in SIZES and p.kind is not inspect.Parameter.POSITIONAL_ONLY:
            names.append(p.name)
        elif p.default is inspect.Parameter.empty:
            raise LayoutError(f"{label} needs the argument {p.name!r}, which gptspec does not give: the factory of the "
                              f"{convention} convention is called with keyword arguments among {', '.join(SIZES)}")
    return tuple(names)


def declared(arguments: tuple[str, ...]) -> tuple[str, ...]:
    """The declared domain of a module built by a factory taking ``arguments``."""
    return (CAUSAL_ONLY,) if "d_head" in arguments else (CAUSAL_ONLY, HEADS_FILL)


def _sizes_text(sizes: dict[str, int]) -> str:
    heads = sizes["n_heads"]
    return f"d_model {sizes['d_model']}, {heads} head{'s' if heads != 1 else ''} of d_head {sizes['d_head']}"


def _parameters_text(params: dict[str, torch.nn.Parameter]) -> str:
    if not params:
        return "it has no parameters"
    shown = [f"{n} {tuple(p.shape)}" for n, p in list(params.items())[:8]]
    more = f", … ({len(params) - 8} more)" if len(params) > 8 else ""
    return "its parameters: " + ", ".join(shown) + more


class ModuleTarget:
    """The user's factory in one layout: modules built per sizes and dtype, weights loaded per call."""

    def __init__(self, factory: Any, layout: str, label: str) -> None:
        if layout not in WEIGHT_LAYOUTS:
            raise ValueError(f"unknown layout {layout!r}; layouts: {', '.join(WEIGHT_LAYOUTS)}")
        if isinstance(factory, torch.nn.Module):
            raise LayoutError(f"{label} is a built {type(factory).__name__}, not a factory: the {layout} convention "
                              f"takes a function that builds the module, e.g. def make(d_model, n_heads): "
                              f"return {type(factory).__name__}(...)")
        self.factory, self.layout, self.label = factory, layout, label
        self.arguments = factory_arguments(factory, label, layout)
        self._modules: dict[tuple[Any, ...], torch.nn.Module] = {}
        self._mask_configs: dict[int, Any] = {}  # id(module) -> the config its mask is built from

    # building and loading

    def module(self, sizes: dict[str, int], dtype: torch.dtype) -> torch.nn.Module:
        """The module for these sizes and dtype (built once): eval mode, cast to ``dtype``."""
        key = (*(sizes[k] for k in SIZES), dtype)
        cached = self._modules.get(key)
        if cached is not None:
            return cached
        given = {k: sizes[k] for k in self.arguments}
        call = f"{self.label}({', '.join(f'{k}={v}' for k, v in given.items())})"
        module = self.factory(**given)
        if not isinstance(module, torch.nn.Module):
            raise LayoutError(f"{call} returned {type(module).__name__}, not a torch.nn.Module")
        module.eval()
        module.to(dtype)  # before any weight is loaded: a float32 module would round float64 weights
        if len(self._modules) >= 32:  # sizes drawn by a search are few; keep memory bounded all the same
            self._mask_configs.pop(id(self._modules.pop(next(iter(self._modules)))), None)
        self._modules[key] = module
        return module

    def load(self, module: torch.nn.Module, state: dict[str, np.ndarray], sizes: dict[str, int]) -> None:
        """Copy ``state`` into the module's parameters of those names and zero the layout's biases;
        a LayoutError names a parameter that is missing or of the wrong shape."""
        params = dict(module.named_parameters(remove_duplicate=False))  # a parameter under two names: both
        dims = PARAMETER_DIMS[self.layout]
        with torch.no_grad():
            for name, array in state.items():
                p = params.get(name)
                if p is None:
                    raise LayoutError(f"{self.label}: the module has no parameter {name!r}, which the {self.layout} "
                                      f"layout ({WEIGHT_LAYOUTS[self.layout]}) holds as {dims[name]}; "
                                      f"{_parameters_text(params)}")
                if tuple(p.shape) != array.shape:
                    raise LayoutError(f"{self.label}: parameter {name!r} has shape {tuple(p.shape)}; the {self.layout} "
                                      f"layout needs {dims[name]} = {array.shape} for {_sizes_text(sizes)}")
                p.copy_(torch.from_numpy(np.ascontiguousarray(array)))
            for name in attention_biases(self.layout):
                if name in params:
                    params[name].zero_()

    def probe(self) -> None:
        """Build and load one module at small sizes, so a layout error stops the run at load time."""
        sizes = dict(_PROBE)
        n_heads, d_head, d_model = sizes["n_heads"], sizes["d_head"], sizes["d_model"]
        W = np.zeros((n_heads, d_head, d_model))
        state = attention_state(self.layout, W, W, W, np.zeros((d_model, n_heads * d_head)))
        self.load(self.module(sizes, torch.float64), state, sizes)

    # calling

    def mask(self, module: torch.nn.Module, x: torch.Tensor) -> dict[str, Any]:
        """The keyword arguments of ``module(x)`` beside x: for hf-gpt2, the mask HF's GPT2Model passes."""
        if self.layout != "hf-gpt2":
            return {}
        from .hf_attention import hf_mask

        config: Any = getattr(module, "config", None)
        if config is None:
            raise LayoutError(f"{self.label}: the module has no config, from which the hf-gpt2 convention builds "
                              "the attention mask HF's GPT2Model passes "
                              "(transformers.masking_utils.create_causal_mask)")
        if config._attn_implementation is None:  # a standalone layer: GPT2Attention runs eager, so eager's mask
            config = self._mask_configs.get(id(module))
            if config is None:
                config = copy.deepcopy(module.config)
                config._attn_implementation = "eager"
                self._mask_configs[id(module)] = config
        return {"attention_mask": hf_mask(config, x.shape[0], x.shape[1], x.shape[1], True, x.dtype)}

    def __call__(self, E: np.ndarray, W_Q: np.ndarray, W_K: np.ndarray, W_V_down: np.ndarray, W_O: np.ndarray,
                 causal: bool = True) -> np.ndarray:
        """``ΔE [batch d_model ctx]`` for ``E [batch d_model ctx]``: one call of the module on the batch."""
        if not causal:
            raise NotImplementedError(f"the {self.layout} convention's modules are causal self-attention: "
                                      "causal=False is outside its declared domain (causal-only)")
        n_heads, d_head, d_model = W_Q.shape
        ctx = E.shape[2]
        sizes = {"d_model": d_model, "n_heads": n_heads, "d_head": d_head,
                 "n_ctx": max(N_CTX, 1 << max(ctx - 1, 0).bit_length())}
        if "d_head" not in self.arguments and d_model != n_heads * d_head:
            raise ValueError(f"{self.label} takes no d_head, so its heads fill d_model: d_model {d_model} ≠ "
                             f"n_heads·d_head {n_heads * d_head} is outside its declared domain "
                             "(d_model=n_heads*d_head)")
        x = torch.tensor(np.ascontiguousarray(E.transpose(0, 2, 1)))  # [batch ctx d_model]
        module = self.module(sizes, x.dtype)
        self.load(module, attention_state(self.layout, W_Q, W_K, W_V_down, W_O), sizes)
        with torch.no_grad():
            out = module(x, **self.mask(module, x))
        if isinstance(out, (tuple, list)) and out:
            out = out[0]
        if not isinstance(out, torch.Tensor):
            raise ConventionResultError(f"{self.label}'s module returned {type(out).__name__}, expected a tensor "
                                        f"[batch ctx d_model] (or a tuple starting with one)")
        if tuple(out.shape) != tuple(x.shape):
            raise ConventionResultError(f"{self.label}'s module returned shape {tuple(out.shape)} for x of shape "
                                        f"{tuple(x.shape)} [batch ctx d_model]; expected the same shape")
        return np.ascontiguousarray(out.detach().cpu().numpy().transpose(0, 2, 1))


def build(factory: Any, *, framework: str | None, label: str, convention: Convention) -> Built:
    """The framework (torch), ``multi_head_attention`` and ``batched_multi_head_attention`` around
    the factory's modules, and the declared domain."""
    target = ModuleTarget(factory, convention.name, label)
    target.probe()

    def multi_head_attention(E: np.ndarray, W_Q: np.ndarray, W_K: np.ndarray, W_V_down: np.ndarray,
                             W_O: np.ndarray, causal: bool = True) -> np.ndarray:
        return target(E[None], W_Q, W_K, W_V_down, W_O, causal)[0]

    def batched_multi_head_attention(E: np.ndarray, W_Q: np.ndarray, W_K: np.ndarray, W_V_down: np.ndarray,
                                     W_O: np.ndarray, causal: bool = True) -> np.ndarray:
        return target(E, W_Q, W_K, W_V_down, W_O, causal)

    functions = {"multi_head_attention": multi_head_attention,
                 "batched_multi_head_attention": batched_multi_head_attention}
    return Built(owning(torch).name, functions, declared(target.arguments))
