"""Frameworks: what a target's functions take and return, each one :class:`Framework` registered once.

The properties call a target with NumPy arrays in the columns layout. A framework says how one such
array (a leaf, already in the target's layout) becomes what the target's functions take
(``to_native``) and how what they return becomes NumPy again (``from_native``), which library a
target's code imports when it is written with it (``libraries``, for :func:`detect`), what a target
process sets up before its first call (``set_up``), and which domain a target in it declares by
what its library supports (``declared``: words of :mod:`gptspec.properties.domain`, read in the
target's process after the target is loaded).

Each framework is one module of this package defining ``FRAMEWORK``; :data:`_MODULES` is the
registry's list. This module and the framework modules import no array library but NumPy when
imported: a library is imported by a framework's functions, in the target's process, so the
verifier's process imports neither torch nor JAX (it reads the display names only).

    spec args (columns, NumPy) → layout → to_native → target → from_native → layout⁻¹
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import types
from collections.abc import Callable
from typing import Any

__all__ = ["Framework", "NAMES", "DEFAULT", "get", "named", "registered", "detect", "owning", "set_up"]

_MODULES = {"numpy": ".numpy_arrays", "torch": ".torch_tensors", "jax": ".jax_arrays"}
"""The registry: each framework's name and the module of this package that defines it."""

NAMES: tuple[str, ...] = tuple(_MODULES)
"""The frameworks, in the order detection tries them (after a target's own ``GPTSPEC_FRAMEWORK``)."""

DEFAULT = NAMES[0]
"""The spec's own: NumPy arrays in and out, the framework of a target that imports no other."""


def _unchanged(value: Any) -> Any:
    return value


def _back_unchanged(value: Any, integer: bool) -> Any:
    return value


def _nothing() -> None:
    return None


def _no_words() -> tuple[str, ...]:
    return ()


@dataclasses.dataclass(frozen=True)
class Framework:
    """One framework a target's functions may be written with.

    ``to_native(leaf)``: a NumPy array (anything else unchanged) as the target takes it;
    ``from_native(value, integer)``: what the target returned as NumPy (``integer``: the spec returns
    an ``int`` there, so a one-element integer value becomes that int), anything else unchanged.
    """

    name: str  # as --framework and GPTSPEC_FRAMEWORK spell it
    values: str  # what its functions receive, in a counterexample's heading: "arrays", "torch tensors"
    libraries: tuple[str, ...] = ()  # top-level modules whose import makes a target this framework's
    needs: str = ""  # the library to install, as a user knows it: "PyTorch"
    shapes_only: str = ""  # how to check shapes without memory in it (gptspec check runs NumPy only)
    load: Callable[[], Any] = _nothing  # imports the library (ImportError if it is not installed)
    to_native: Callable[[Any], Any] = _unchanged
    from_native: Callable[[Any, bool], Any] = _back_unchanged
    set_up: Callable[[], None] = _nothing  # once per target process, before the first call
    declared: Callable[[], tuple[str, ...]] = _no_words

    @property
    def converts(self) -> bool:
        """Whether a target of this framework takes anything but the NumPy arrays it is given."""
        return bool(self.libraries)

    def require(self) -> None:
        """The library imported, or a TargetError saying how to install it."""
        try:
            self.load()
        except ImportError:
            from ...target import TargetError

            why = f"the {self.name} framework needs {self.needs}: pip install 'gptspec[{self.name}]'"
            raise TargetError(why) from None


def get(name: str) -> Framework:
    """The framework registered as ``name`` (a KeyError for any other name)."""
    framework: Framework = importlib.import_module(_MODULES[name], __name__).FRAMEWORK
    return framework


def named(name: str) -> Framework:
    """The framework ``name``, or an OptionError listing them."""
    if name not in _MODULES:
        from ..errors import OptionError

        raise OptionError(f"framework must be one of {', '.join(NAMES)}, got {name!r}")
    return get(name)


def registered() -> tuple[Framework, ...]:
    return tuple(get(name) for name in NAMES)


def owning(module: types.ModuleType) -> Framework:
    """The framework whose library ``module`` is (a convention written with one library names it by its module)."""
    top = module.__name__.split(".")[0]
    for framework in registered():
        if top in framework.libraries:
            return framework
    return get(DEFAULT)


def set_up() -> None:
    """Each framework's per-process set-up (each acts only if its library is imported): a target
    of one framework may compute with another inside (a whole model takes NumPy, computes in torch)."""
    for framework in registered():
        framework.set_up()


def _top(name: Any) -> str:
    return name.split(".")[0] if isinstance(name, str) else ""


def _namespaces(obj: Any, names: tuple[str, ...]) -> list[dict[str, Any]]:
    """The module namespace of ``obj``, the globals every provided function closes over (unwrapped
    too: a decorated or jitted function's own code), and, for a function or object of a library's
    own (an nn.Module, a jitted function), that library."""
    spaces = [vars(obj)] if isinstance(obj, types.ModuleType) else []
    for name in names:
        fn = getattr(obj, name)
        fn = getattr(fn, "func", fn)  # functools.partial
        fn = getattr(fn, "__func__", fn)  # bound method
        for each in {id(fn): fn, id(inner := _unwrapped(fn)): inner}.values():
            spaces.append(getattr(each, "__globals__", {}))
        tops = {_top(type(fn).__module__), _top(getattr(fn, "__module__", None))}
        spaces += [{top: types.ModuleType(top)} for top in tops if top]
    return spaces


def _unwrapped(fn: Any) -> Any:
    try:
        return inspect.unwrap(fn)
    except ValueError:  # a cycle of __wrapped__
        return fn


def _declared(obj: Any) -> Framework | None:
    """The target's own ``GPTSPEC_FRAMEWORK``, if it says one."""
    declared = getattr(obj, "GPTSPEC_FRAMEWORK", None)
    if declared is None:
        return None
    if declared not in _MODULES:
        from ...target import TargetError

        names = ", ".join(repr(n) for n in NAMES[:-1]) + f" or {NAMES[-1]!r}"
        raise TargetError(f"GPTSPEC_FRAMEWORK must be {names}, got {declared!r:.40}")
    return get(declared)


def detect(obj: Any, names: tuple[str, ...]) -> Framework:
    """The target's own ``GPTSPEC_FRAMEWORK`` if it says; else the first framework whose library the
    target or the code of its functions imports (or whose own function or object it provides); else
    NumPy. A whole model (``hf:gpt2``) imports torch but takes and returns NumPy arrays: it says so."""
    declared = _declared(obj)
    if declared is not None:
        return declared
    imported = {_top(value.__name__) for space in _namespaces(obj, names) for value in list(space.values())
                if isinstance(value, types.ModuleType)}
    for framework in registered():
        if imported & set(framework.libraries):
            return framework
    return get(DEFAULT)
