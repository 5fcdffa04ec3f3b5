"""Model families: whole models as written (nanoGPT's ``model.py``, minGPT's, picoGPT's ``gpt2.py``).

A :class:`Family` is the one object that says, for the code people copy, how it is recognised
and how the spec's functions are computed with it. It is registered once (:func:`register`, at
the end of its own module; :data:`MODULES` lists the modules, imported only when a target is
recognised) and nothing else names it:

- ``recognise(module)`` looks at the loaded module's structure only — its classes, their method
  signatures, a config's field names, the parameter names of a model built at a tiny size — never
  at names of classes (a fork that renames ``GPT`` or adds a config field is still recognised
  where the structure is the same). It returns a :class:`Found`, or raises :class:`Miss` saying
  what it looked for and did not find;
- ``Found.model`` is an object with the spec's functions (``forward``, ``block``,
  ``multi_head_attention``, ...), and ``generate`` where the family generates, computed by the
  user's own code at each size the search draws, the spec's weights loaded into it through
  :mod:`.layouts`; its ``GPTSPEC_ASSUME`` holds the variants the family declares
  (:mod:`gptspec.properties.domain`: ``gelu=erf``, ``tied-embeddings``, ``d_mlp=4*d_model``, ...).

Recognition and building run in the target's process (:func:`gptspec.target.load`), where the
user's module is already imported; this module imports neither torch nor the user's code.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import types
from collections.abc import Callable
from typing import Any

__all__ = ["FAMILIES", "MODULES", "ENTRY_POINTS", "Family", "Found", "Miss", "NoFamily", "register", "recognise", "names",
           "parameters", "classes_of", "has_parameters", "label_of", "misses"]

MODULES = ("gptspec.ecosystem.nanogpt", "gptspec.ecosystem.mingpt", "gptspec.ecosystem.picogpt",
           "gptspec.ecosystem.hf_family")
"""The modules that register a family, in the order a module is tried against them."""

ENTRY_POINTS = {
    "generate": "generate(tokens, weights, n_new, temperature, top_k, rng, batch=1) -> Int[batch n_new]: a model "
                "family's own generate (gptspec.properties.generation), T = 0 greedy",
}
"""What a family's model may provide beside the spec's functions (a target of no family never does)."""


class Miss(Exception):
    """What a family looked for in a module and did not find (one sentence)."""


class NoFamily(Exception):
    """A module no family recognises (with ``--family NAME``: the one named does not)."""


@dataclasses.dataclass(frozen=True)
class Found:
    """A recognised model: which family, what was recognised (``"GPT"``), its features as the
    report prints them, and the object computing the spec's functions with it."""

    family: Family
    what: str
    features: tuple[str, ...]
    model: Any

    @property
    def text(self) -> str:
        """``recognised nanoGPT's GPT: fused-linear, tied embeddings, GELU erf, d_mlp = 4·d_model``."""
        return f"recognised {self.family.title}'s {self.what}: {', '.join(self.features)}"


@dataclasses.dataclass(frozen=True)
class Family:
    """A family of model code: ``name`` (what ``--family`` takes), ``title`` (as printed), what
    it looks like (``looks_for``, one line for the "tried" message) and ``recognise``."""

    name: str
    title: str
    looks_for: str
    recognise: Callable[[types.ModuleType], Found]


FAMILIES: dict[str, Family] = {}


def register(family: Family) -> Family:
    if family.name in FAMILIES or family.name == "none":
        raise ValueError(f"a model family named {family.name!r} is registered twice")
    FAMILIES[family.name] = family
    return family


def _load() -> None:
    for module in MODULES:
        importlib.import_module(module)


def names() -> tuple[str, ...]:
    """The families' names, as ``--family`` takes them (with ``none``)."""
    _load()
    return (*FAMILIES, "none")


def recognise(module: types.ModuleType, label: str, family: str | None = None) -> Found | None:
    """The family ``module`` belongs to (the first whose structure it has), or None if none; with
    ``family``, that one only: :class:`NoFamily` saying what it missed. ``family="none"``: None."""
    if family == "none":
        return None
    _load()
    if family is not None:
        if family not in FAMILIES:
            raise NoFamily(f"unknown model family {family!r}; families: {', '.join(names())}")
        try:
            return FAMILIES[family].recognise(module)
        except Miss as miss:
            raise NoFamily(f"{label} is not {FAMILIES[family].title} code: {miss}") from None
    for candidate in FAMILIES.values():
        try:
            return candidate.recognise(module)
        except Miss:
            continue
    return None


def misses(module: types.ModuleType) -> list[str]:
    """For each family, what ``module`` lacks of it: ``"nanoGPT (a GPT nn.Module ...): no ..."``."""
    _load()
    found = []
    for family in FAMILIES.values():
        try:
            family.recognise(module)
        except Miss as miss:
            found.append(f"{family.title} ({family.looks_for}): {miss}")
    return found


# ---------------------------------------------------------------------------------------------
# What recognisers read


def parameters(fn: Any) -> tuple[str, ...]:
    """The parameter names of ``fn`` (a bound method's without self), or () if it has none to read."""
    try:
        return tuple(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return ()


def has_parameters(fn: Any, wanted: tuple[str, ...]) -> bool:
    """Whether ``fn`` takes ``wanted`` as its first parameters, in order (after self)."""
    got = parameters(fn)
    if got[:1] == ("self",):
        got = got[1:]
    return got[: len(wanted)] == wanted


def label_of(module: types.ModuleType) -> str:
    """The module's file name (``model.py``), or its name: how its messages name it."""
    file = getattr(module, "__file__", None)
    return file.rsplit("/", 1)[-1] if isinstance(file, str) else module.__name__


def classes_of(module: types.ModuleType) -> list[type]:
    """The classes defined in ``module`` itself (not imported into it), in definition order."""
    return [v for v in vars(module).values() if isinstance(v, type) and v.__module__ == module.__name__]
