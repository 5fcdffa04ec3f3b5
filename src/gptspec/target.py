"""Targets: a user's implementation, loaded by ``gptspec check`` and ``gptspec verify`` alike.

A target is a module name, a path to a ``.py`` file, or any object that provides some of the
spec's functions by name (DESIGN: "a module, or any object"). This module answers "how is a
target loaded?" and "what framework does it use?" for every front end. Loading never hides why
it failed: a missing file, a missing module, or the exception its import raised, each becomes a
:class:`TargetError` with one clear sentence (the commands exit 2).

``gptspec verify`` never loads a target in its own process: it hands the target's
:func:`address` to a worker process (:mod:`gptspec.verification.isolation`), which loads it there.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import os
import pickle
import sys
import traceback
import types
from typing import Any

from .spec import SpecError
from .spec.signatures import FUNCTIONS, MODEL_FUNCTIONS

__all__ = ["TargetError", "Target", "Address", "SPEC_NAMES", "address", "load", "provided", "detect_framework"]

SPEC_NAMES: tuple[str, ...] = tuple(f.__name__ for f in FUNCTIONS + MODEL_FUNCTIONS)
"""Every function a target may provide, in the spec's order."""


class TargetError(SpecError):
    """The target cannot be loaded, or provides none of the spec's functions."""


@dataclasses.dataclass(frozen=True)
class Target:
    """A loaded implementation: the object holding its functions and how the user named it."""

    obj: Any
    label: str  # as the user gave it (module name or path): reused in reproduce commands
    provides: tuple[str, ...]  # the spec functions it has, in the spec's order

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(n for n in SPEC_NAMES if n not in self.provides)


def provided(obj: Any) -> tuple[str, ...]:
    """The spec function names ``obj`` has as callables, in the spec's order."""
    return tuple(n for n in SPEC_NAMES if callable(getattr(obj, n, None)))


def _import_failure(what: str, exc: BaseException) -> TargetError:
    """'importing X raised E: msg (file.py line N)': the line of the target that raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    inside = [f for f in frames if "importlib" not in f.filename]
    where = f" ({inside[-1].filename} line {inside[-1].lineno})" if inside else ""
    if isinstance(exc, SyntaxError):
        where = f" ({exc.filename} line {exc.lineno})"
    return TargetError(f"importing {what} raised {type(exc).__name__}: {exc}{where}")


def _load_path(path: str) -> types.ModuleType:
    """Import a ``.py`` file as a module; its directory goes first on sys.path, as for a script."""
    full = os.path.abspath(path)
    if not os.path.isfile(full):
        raise TargetError(f"no such file: {path}")
    folder, base = os.path.split(full)
    name = "gptspec_target_" + "".join(c if c.isalnum() else "_" for c in os.path.splitext(base)[0])
    spec = importlib.util.spec_from_file_location(name, full)
    if spec is None or spec.loader is None:
        raise TargetError(f"{path} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's module failed: say how, and where
        del sys.modules[name]
        raise _import_failure(path, exc) from None
    return module


def _load_module(name: str) -> types.ModuleType:
    """Import a module by name; the working directory is searched first, as ``python -m`` does."""
    here = os.getcwd()
    if here not in sys.path:
        sys.path.insert(0, here)
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (name == exc.name or name.startswith(exc.name + ".")):
            raise TargetError(
                f"no module named {name!r}: give an importable module name or a path ending in .py"
            ) from None
        raise _import_failure(name, exc) from None
    except Exception as exc:
        raise _import_failure(name, exc) from None


@dataclasses.dataclass(frozen=True)
class Address:
    """Where another process finds a target: a module name, a ``.py`` path, or a pickled object.

    An object travels by pickle, so its functions must be importable where they are defined
    (module-level functions, a ``SimpleNamespace`` of them, an instance of a module-level class);
    a module object travels by its name or file.
    """

    kind: str  # "module", "path" or "pickle"
    value: str | bytes
    label: str  # as the user named the target: reused in reports and reproduce commands


def address(target: Any) -> Address:
    """How a worker process loads ``target`` without this process importing it (a string is a
    ``.py`` path or a module name, as for :func:`load`)."""
    if isinstance(target, Address):
        return target
    if isinstance(target, Target):
        return _object_address(target.obj, target.label)
    if isinstance(target, (str, os.PathLike)):
        text = os.fspath(target)
        if not text.strip():
            raise TargetError("the target is empty: give a module name or a path to a .py file")
        if _looks_like_path(text):
            if not os.path.isfile(text):
                raise TargetError(f"no such file: {text}")
            return Address("path", text, text)
        return Address("module", text, text)
    return _object_address(target, getattr(target, "__name__", type(target).__name__))


def _object_address(obj: Any, label: str) -> Address:
    if isinstance(obj, types.ModuleType):
        file = getattr(obj, "__file__", None)
        if obj.__name__.startswith("gptspec_target_") and file:  # loaded from a path by load()
            return Address("path", file, label)
        return Address("module", obj.__name__, label)
    try:
        return Address("pickle", pickle.dumps(obj), label)
    except Exception as exc:  # noqa: BLE001 - local functions, lambdas, open files, ...
        raise TargetError(
            f"{label} cannot be sent to a worker process ({type(exc).__name__}: {exc}): define its functions "
            "at module level, or give a module name or a path to a .py file"
        ) from None


def _looks_like_path(text: str) -> bool:
    return text.endswith(".py") or os.sep in text or (os.altsep or os.sep) in text


def load(target: Any) -> Target:
    """The target as a :class:`Target`: a string is a ``.py`` path or a module name; an
    :class:`Address` is loaded as it says."""
    obj: Any
    if isinstance(target, Target):
        return target
    if isinstance(target, Address):
        if target.kind == "pickle":
            assert isinstance(target.value, bytes)
            try:
                obj = pickle.loads(target.value)
            except Exception as exc:  # noqa: BLE001 - its class or functions are not importable here
                raise _import_failure(target.label, exc) from None
        else:
            assert isinstance(target.value, str)
            obj = _load_path(target.value) if target.kind == "path" else _load_module(target.value)
        return _provided_target(obj, target.label)
    if isinstance(target, (str, os.PathLike)):
        text = os.fspath(target)
        if not text.strip():
            raise TargetError("the target is empty: give a module name or a path to a .py file")
        obj = _load_path(text) if _looks_like_path(text) else _load_module(text)
        label = text
    else:
        obj = target
        label = getattr(target, "__name__", type(target).__name__)
    return _provided_target(obj, label)


def _provided_target(obj: Any, label: str) -> Target:
    names = provided(obj)
    if not names:
        raise TargetError(f"{label} provides none of the spec's functions ({', '.join(SPEC_NAMES)})")
    return Target(obj, label, names)


def _namespaces(obj: Any, names: tuple[str, ...]) -> list[dict[str, Any]]:
    """The module namespace of ``obj`` and the globals every provided function closes over."""
    spaces = [vars(obj)] if isinstance(obj, types.ModuleType) else []
    for name in names:
        fn = getattr(obj, name)
        fn = getattr(fn, "func", fn)  # functools.partial
        fn = getattr(fn, "__func__", fn)  # bound method
        spaces.append(getattr(fn, "__globals__", {}))
        if type(fn).__module__.split(".")[0] == "torch":  # an nn.Module or other torch callable
            spaces.append({"torch": sys.modules.get("torch")})
    return spaces


def detect_framework(obj: Any, names: tuple[str, ...]) -> str:
    """"torch" if the target or the code of its functions imports torch, else "numpy"."""
    for space in _namespaces(obj, names):
        for value in list(space.values()):
            if isinstance(value, types.ModuleType) and value.__name__.split(".")[0] == "torch":
                return "torch"
    return "numpy"
