"""Loading the implementation to verify: a module name, a path to a ``.py`` file, or an object.

A target is whatever provides some of the spec's functions by name (DESIGN: "a module, or any
object"). Loading never hides why it failed: a missing file, a missing module, or the exception
its import raised, each becomes a :class:`TargetError` with one clear sentence (the CLI exits 2).
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import os
import sys
import traceback
import types
from typing import Any

from ..spec import SpecError
from ..spec.signatures import FUNCTIONS, MODEL_FUNCTIONS

__all__ = ["TargetError", "Target", "SPEC_NAMES", "load", "provided"]

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


def load(target: Any) -> Target:
    """The target as a :class:`Target`: a string is a ``.py`` path or a module name."""
    if isinstance(target, Target):
        return target
    if isinstance(target, (str, os.PathLike)):
        text = os.fspath(target)
        if not text.strip():
            raise TargetError("the target is empty: give a module name or a path to a .py file")
        looks_like_path = text.endswith(".py") or os.sep in text or (os.altsep or os.sep) in text
        obj: Any = _load_path(text) if looks_like_path else _load_module(text)
        label = text
    else:
        obj = target
        label = getattr(target, "__name__", type(target).__name__)
    names = provided(obj)
    if not names:
        raise TargetError(f"{label} provides none of the spec's functions ({', '.join(SPEC_NAMES)})")
    return Target(obj, label, names)
