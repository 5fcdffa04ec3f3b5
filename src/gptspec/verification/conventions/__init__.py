"""Conventions: a target written in an ecosystem's signature, with the spec's functions built around it.

``gptspec verify mykernel.py:attention --convention sdpa`` says the target is not a module of the
spec's functions but one function in a convention the ecosystem already has:

- ``sdpa`` (:mod:`.sdpa`): ``torch.nn.functional.scaled_dot_product_attention``'s signature and
  layout, as custom kernels (Triton, CUDA, a NumPy port) implement it as a drop-in replacement;
- ``hf-attention`` (:mod:`.hf_attention`): a function of Hugging Face transformers'
  ``AttentionInterface``, ``fn(module, query, key, value, attention_mask, scaling=, dropout=)``.

Each convention turns the function into one batched attention, ``batched(query, key, value,
causal)`` on NumPy arrays ``[batch heads L D]``, and :mod:`.attention` builds the spec's
``attention_pattern`` (through V = I), ``attention_head``, ``cross_attention_head`` and
``multi_head_attention`` around it, so every attention property of the catalogue applies. Beside
them the convention provides entry points only conventions have (:data:`gptspec.target.ENTRY_POINTS`):
``batched_attention`` (the batch family: a batch of B is B calls of one) and, for ``sdpa``,
``sdpa_kernel`` (the kernel itself with SDPA's keywords: the sdpa family). A property reaches the
raw kernel through them, so those properties are "not provided" for any other target.

The module conventions (:mod:`.modules`: ``fused-linear``, ``hf-gpt2``, ``qkvo-linear``,
``transformer-lens``) take a factory of a ``torch.nn.Module`` whose parameters are in that layout
(:mod:`gptspec.ecosystem.layouts`) instead, and provide ``multi_head_attention`` and
``batched_multi_head_attention`` around it, with the domain a module supports declared
(``Adapted.assume``, sent to the verifier in ``Loaded``).

All of this runs in the target's process (:func:`.isolation._serve`): the verifier's process
never imports torch or transformers for a convention, it sees the same :class:`~.isolation.Remote`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from ...target import TargetError
from .. import frameworks
from ..adapters import Adapted
from ..choices import CONVENTIONS
from ..errors import OptionError

__all__ = ["CONVENTIONS", "MODULE_CONVENTIONS", "adapt_convention", "check_convention"]

_MODULES = {"sdpa": ".sdpa", "hf-attention": ".hf_attention", "fused-linear": ".modules", "hf-gpt2": ".modules",
            "qkvo-linear": ".modules", "transformer-lens": ".modules"}
MODULE_CONVENTIONS = ("fused-linear", "hf-gpt2", "qkvo-linear", "transformer-lens")
"""The conventions whose target is a factory of an nn.Module in the layout of that name (:mod:`.modules`)."""


def check_convention(name: str | None, *, layout: str = "columns", framework: str | None = None) -> None:
    """An OptionError for a convention that does not exist or options it contradicts."""
    if name is None:
        return
    if name not in CONVENTIONS:
        raise OptionError(f"unknown convention {name!r}; conventions: {', '.join(CONVENTIONS)}")
    if layout != "columns":
        raise OptionError(f"the {name} convention fixes its own layout: leave --layout out (got {layout!r})")
    if (name == "hf-attention" or name in MODULE_CONVENTIONS) and framework not in (None, "torch"):
        raise OptionError(f"the {name} convention is torch's: --framework must be torch, got {framework!r}")


def adapt_convention(
    name: str, obj: Any, *, label: str, framework: str | None,
    guard: Callable[[str, Callable[..., Any]], Callable[..., Any]],
) -> Adapted:
    """The spec's attention functions and the convention's entry points, built around ``obj``
    (columns layout, NumPy in and out), each behind ``guard``."""
    check_convention(name, framework=framework)
    if not callable(obj):
        what = "one factory (a function building the torch.nn.Module)" if name in MODULE_CONVENTIONS else "one function"
        raise TargetError(f"{label} is a {type(obj).__name__}, not a function: the {name} convention takes {what}, "
                          "named as PATH.py:NAME or module:NAME")
    module = importlib.import_module(_MODULES[name], __name__)
    assume: tuple[str, ...] = ()
    if name in MODULE_CONVENTIONS:
        chosen, functions, assume = module.build(obj, framework, label, name)
    else:
        chosen, functions = module.build(obj, framework, label)
    assume = (*assume, *frameworks.get(chosen).declared())  # a JAX kernel without 64-bit mode: float32
    return Adapted(label, "columns", chosen, {n: guard(n, fn) for n, fn in functions.items()}, assume=assume)
