"""Conventions: a target written in an ecosystem's signature, with the spec's functions built around it.

``gptspec verify mykernel.py:attention --convention sdpa`` says the target is not a module of the
spec's functions but one function in a convention the ecosystem already has. Each convention is
one :class:`Convention` record of :data:`_REGISTRY` (its name, help text, what the target is, its
build, the entry points it provides); ``--convention``'s choices and help, the pytest plugin's
option and the reproduce command are read from the records, so a new convention is its build
module and its record here:

- ``sdpa`` (:mod:`.sdpa`): ``torch.nn.functional.scaled_dot_product_attention``'s signature and
  layout, as custom kernels (Triton, CUDA, a NumPy port) implement it as a drop-in replacement;
- ``hf-attention`` (:mod:`.hf_attention`): a function of Hugging Face transformers'
  ``AttentionInterface``, ``fn(module, query, key, value, attention_mask, scaling=, dropout=)``.

Each of these turns the function into one batched attention, ``batched(query, key, value,
causal)`` on NumPy arrays ``[batch heads L D]``, and :mod:`.attention` builds the spec's
``attention_pattern`` (through V = I), ``attention_head``, ``cross_attention_head`` and
``multi_head_attention`` around it, so every attention property of the catalogue applies. Beside
them a convention provides entry points only conventions have (:data:`ENTRY_POINTS`):
``batched_attention`` (the batch family: a batch of B is B calls of one) and, for ``sdpa``,
``sdpa_kernel`` (the kernel itself with SDPA's keywords: the sdpa family). A property reaches the
raw kernel through them, so those properties are "not provided" for any other target
(:meth:`Convention.enables` names the families only a convention enables).

The module conventions (:mod:`.modules`: ``fused-linear``, ``hf-gpt2``, ``qkvo-linear``,
``transformer-lens``) take a factory of a ``torch.nn.Module`` whose parameters are in that layout
(:mod:`gptspec.ecosystem.layouts`) instead, and provide ``multi_head_attention`` and
``batched_multi_head_attention`` around it, with the domain a module supports declared
(:attr:`Built.assume`, sent to the verifier in ``Loaded``).

Every build has one signature, ``build(obj, framework=, label=, convention=) -> Built``, and runs
in the target's process (:func:`.isolation._serve`): the verifier's process never imports torch or
transformers for a convention, it reads these records only (this module imports no array library).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from typing import Any, NamedTuple

from ...ecosystem.families import ENTRY_POINTS as FAMILY_ENTRY_POINTS
from ...target import MODULE_ENTRY_POINTS
from ..errors import OptionError

__all__ = ["Convention", "Built", "NAMES", "ENTRY_POINTS", "KERNEL_ENTRY_POINTS", "get", "registered",
           "implied_by", "check_convention", "adapt_convention"]


class Built(NamedTuple):
    """What a convention's build returns: the framework chosen, the functions (the spec's and the
    convention's entry points, columns layout, NumPy in and out) and the domain they declare."""

    framework: str
    functions: dict[str, Callable[..., Any]]
    assume: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Convention:
    """One ecosystem convention a target may be written in instead of the spec's names."""

    name: str  # as --convention takes it
    help: str  # what TARGET is under it, for --help
    build: str  # "module:function" in this package: build(obj, framework=, label=, convention=) -> Built
    takes: str = "function"  # or "factory": the target builds a torch.nn.Module
    entry_points: tuple[str, ...] = ()  # of ENTRY_POINTS, beside the spec functions it builds
    framework: str | None = None  # the only framework it is written with (None: any, detected)
    parameters: tuple[str, ...] = ()  # the first parameter names of a function in it (a hint without --convention)
    registry: str | None = None  # an address scheme (hf:NAME) whose functions are in this convention

    @property
    def what(self) -> str:
        """What the target must be, in a message: 'one function' or 'one factory (...)'."""
        return "one factory (a function building the torch.nn.Module)" if self.takes == "factory" else "one function"

    def builder(self) -> Callable[..., Built]:
        module, function = self.build.split(":")
        build: Callable[..., Built] = getattr(importlib.import_module(module, __name__), function)
        return build

    def enables(self) -> tuple[str, ...]:
        """The families of the catalogue only this convention's entry points reach (imports the catalogue)."""
        from ...properties.catalogue import FAMILIES, properties

        mine = set(self.entry_points)
        return tuple(f for f in FAMILIES if any(set(p.needs) & mine for p in properties(f)))


ENTRY_POINTS: dict[str, str] = {
    "batched_attention": "batched_attention(query, key, value, causal) -> [batch heads L Dv]: the convention's "
                         "attention on [batch heads L D] arrays (rows within each head)",
    "sdpa_kernel": "sdpa_kernel(query, key, value, **keywords) -> [batch heads L Dv]: the target itself, called with "
                   "scaled_dot_product_attention's keywords (attn_mask, dropout_p, is_causal, scale)",
    "batched_multi_head_attention": "batched_multi_head_attention(E [batch d_model ctx], W_Q, W_K, W_V_down, W_O, "
                                    "causal) -> [batch d_model ctx]: a module convention's module called once on a "
                                    "batch (the spec's multi_head_attention per entry)",
    **FAMILY_ENTRY_POINTS,
    **MODULE_ENTRY_POINTS,
}
"""Names beside the spec's functions: the raw kernel the spec's functions are built around, for the
properties its signature owes (NumPy in and out), a whole model's ``generate`` (only a convention or
a model family provides these), and the padded batch a module may define by name
(:data:`gptspec.target.MODULE_ENTRY_POINTS`). Their properties are "not provided" for every other target."""

KERNEL_ENTRY_POINTS = frozenset({"batched_attention", "sdpa_kernel"})
"""The entry points that take the kernel's own ``[batch heads L D]`` arrays (rows within each head),
not the spec's tensors: a counterexample of their properties is shown as the kernel receives it."""

_KERNEL = ("batched_attention",)
_MODULE = ("batched_multi_head_attention",)


def _module(name: str, help: str) -> Convention:
    return Convention(name, help, ".modules:build", takes="factory", entry_points=_MODULE, framework="torch")


_REGISTRY: dict[str, Convention] = {c.name: c for c in (
    Convention("sdpa", "PATH.py:NAME or module:NAME is a function with "
               "torch.nn.functional.scaled_dot_product_attention's signature and layout (query, key, value "
               "[batch heads L head_dim], attn_mask, dropout_p, is_causal, scale)", ".sdpa:build", entry_points=(*_KERNEL, "sdpa_kernel"), parameters=("query", "key", "value", "attn_mask")),
    Convention("hf-attention", "PATH.py:NAME, module:NAME or hf:NAME (hf:eager, hf:sdpa) is an attention function of "
               "Hugging Face transformers' AttentionInterface: fn(module, query, key, value, attention_mask, scaling=, "
               "dropout=) -> (attn_output [batch L heads head_dim], attn_weights)",
               ".hf_attention:build", entry_points=_KERNEL, framework="torch", registry="hf",
               parameters=("module", "query", "key", "value", "attention_mask")),
    _module("fused-linear", "PATH.py:NAME is a factory make(d_model, n_heads, [d_head, n_ctx]) of a torch.nn.Module in "
            "nanoGPT's layout: nn.Linear c_attn (q, k, v = split) and c_proj; module(x [batch ctx d_model])"),
    _module("hf-gpt2", "PATH.py:NAME is a factory of a module in Hugging Face GPT-2's layout (Conv1D c_attn, c_proj), "
            "e.g. GPT2Attention, called with the causal mask GPT2Model builds for its attention implementation"),
    _module("qkvo-linear", "PATH.py:NAME is a factory of a module with Llama-style nn.Linear q_proj, k_proj, v_proj, "
            "o_proj"),
    _module("transformer-lens", "PATH.py:NAME is a factory of a module with TransformerLens' parameters W_Q, W_K, W_V "
            "[n_heads d_model d_head], W_O [n_heads d_head d_model] (b_Q, ... zeroed)"),
)}
"""The registry: every convention, in the order --help lists them."""

NAMES: tuple[str, ...] = tuple(_REGISTRY)


def get(name: str) -> Convention:
    """The convention ``name``, or an OptionError listing them."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise OptionError(f"unknown convention {name!r}; conventions: {', '.join(NAMES)}") from None


def registered() -> tuple[Convention, ...]:
    return tuple(_REGISTRY.values())


def implied_by(scheme: str) -> Convention | None:
    """The convention of the functions an address scheme names (``hf:NAME``: hf-attention), if any."""
    return next((c for c in _REGISTRY.values() if c.registry == scheme), None)


def check_convention(name: str | None, *, layout: str = "columns", framework: str | None = None) -> None:
    """An OptionError for a convention that does not exist or options it contradicts."""
    if name is None:
        return
    convention = get(name)
    if layout != "columns":
        raise OptionError(f"the {name} convention fixes its own layout: leave --layout out (got {layout!r})")
    if convention.framework is not None and framework not in (None, convention.framework):
        raise OptionError(f"the {name} convention is {convention.framework}'s: --framework must be "
                          f"{convention.framework}, got {framework!r}")


def adapt_convention(
    name: str, obj: Any, *, label: str, framework: str | None,
    guard: Callable[[str, Callable[..., Any]], Callable[..., Any]],
) -> Any:
    """The spec's attention functions and the convention's entry points, built around ``obj``
    (columns layout, NumPy in and out), each behind ``guard``: an :class:`~..adapters.Adapted`."""
    from ...target import TargetError
    from .. import frameworks
    from ..adapters import Adapted

    check_convention(name, framework=framework)
    convention = get(name)
    if not callable(obj):
        raise TargetError(f"{label} is a {type(obj).__name__}, not a function: the {name} convention takes "
                          f"{convention.what}, named as PATH.py:NAME or module:NAME")
    built = convention.builder()(obj, framework=framework, label=label, convention=convention)
    assume = (*built.assume, *frameworks.get(built.framework).declared())  # a JAX kernel without 64-bit mode: float32
    return Adapted(label, "columns", built.framework, {n: guard(n, fn) for n, fn in built.functions.items()},
                   assume=assume)


def __getattr__(name: str) -> Any:
    """``CONVENTIONS`` and ``MODULE_CONVENTIONS``, the tables the records replaced (deprecated)."""
    import warnings

    tables = {"CONVENTIONS": lambda: {c.name: c.help for c in registered()},
              "MODULE_CONVENTIONS": lambda: tuple(c.name for c in registered() if c.takes == "factory")}
    if name not in tables:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(f"gptspec.verification.conventions.{name} is replaced by its Convention records "
                  "(registered(), get(name))", DeprecationWarning, stacklevel=2)
    return tables[name]()
