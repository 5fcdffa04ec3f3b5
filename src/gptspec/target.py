"""Targets: a user's implementation, loaded by ``gptspec check`` and ``gptspec verify`` alike.

A target is a module name, a path to a ``.py`` file, or any object that provides some of the
spec's functions by name (DESIGN: "a module, or any object"). ``path.py:NAME`` and
``module:NAME`` select one attribute of the module (dotted: ``module:obj.attr``), and
``hf:NAME`` is the attention function registered under NAME with Hugging Face transformers'
``AttentionInterface`` (``hf:eager`` is GPT-2's ``eager_attention_forward``, the function HF's
GPT-2 uses when no other is registered) — the two forms a convention's target takes
(:mod:`gptspec.verification.conventions`). A name of :data:`MODELS` (``hf:gpt2``, ``tl:gpt2``)
is a whole model of a library, the spec's model functions computed by that library's own module
(:mod:`gptspec.ecosystem`); it is verified without a convention. This module answers "how is a
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
import re
import sys
import traceback
import types
from typing import Any

from .spec import SpecError
from .spec.signatures import FUNCTIONS, MODEL_FUNCTIONS

__all__ = [
    "TargetError", "Target", "Address", "SPEC_NAMES", "MODULE_ENTRY_POINTS", "REGISTRIES", "MODELS",
    "address", "load", "load_object", "provided", "detect_framework", "convention_hint",
]

SPEC_NAMES: tuple[str, ...] = tuple(f.__name__ for f in FUNCTIONS + MODEL_FUNCTIONS)
"""Every function a target may provide, in the spec's order."""

MODULE_ENTRY_POINTS: dict[str, str] = {
    "forward_padded": "forward_padded(tokens Int[batch ctx], mask Bool[batch ctx], weights) -> [batch vocab ctx]: a "
                      "padded batch with its attention mask, True at real tokens (gptspec.properties.padding)",
    "forward_padded_cached": "forward_padded_cached(tokens Int[batch ctx_new], mask Bool[batch ctx_past+ctx_new], "
                             "weights, cache=None) -> (logits [batch vocab ctx_new], cache of [batch n_heads d_head "
                             "ctx] pairs): the same with the model's KV cache",
}
"""Entry points beside the spec's functions that a module provides by defining them under their names
(a whole model's module, a recognised model, or a user's NumPy file): NumPy in and out with the spec's
weights, so nothing adapts them. The conventions' and families' own are in
:data:`gptspec.verification.conventions.ENTRY_POINTS`, which lists these too."""

REGISTRIES = {"hf": "a function registered with Hugging Face transformers' AttentionInterface"}
"""``SCHEME:NAME`` targets that name a function in a library's registry instead of a module."""

MODELS: dict[str, tuple[str, str, str]] = {
    "hf:gpt2": ("gptspec.ecosystem.hf_gpt2", "Hugging Face transformers' GPT2LMHeadModel", "transformers"),
    "tl:gpt2": ("gptspec.ecosystem.tl_gpt2", "TransformerLens' GPT-2 (TransformerBridge.boot_native)", "transformer_lens"),
}
"""Whole models by name: the module that computes the spec's model functions with the library's
own model (imported only in the target's process), what it is, and the library it needs."""

_MODEL_SCHEMES = {name.split(":")[0] for name in MODELS} - set(REGISTRIES)  # "tl": no registry of its own

_ATTRIBUTE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


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
    """Import a ``.py`` file as a module; its directory goes first on sys.path, as for a script. A
    file inside a package whose import fails so (``from mingpt.utils import ...`` in
    ``mingpt/model.py``, a relative import) is imported as part of its package instead."""
    full = os.path.abspath(path)
    if not os.path.isfile(full):
        raise TargetError(f"no such file: {path}")
    folder, base = os.path.split(full)
    name = "gptspec_target_" + "".join(c if c.isalnum() else "_" for c in os.path.splitext(base)[0])
    spec = importlib.util.spec_from_file_location(name, full)
    if spec is None or spec.loader is None:
        raise TargetError(f"{path} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    if folder in sys.path:  # first even if it was there already: a same-named module elsewhere must not win
        sys.path.remove(folder)
    sys.path.insert(0, folder)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's module failed: say how, and where
        del sys.modules[name]
        if isinstance(exc, ImportError) and os.path.isfile(os.path.join(folder, "__init__.py")):
            try:
                return _load_in_package(path, full)
            except TargetError:
                pass  # the script's own failure says more
        raise _import_failure(path, exc) from None
    return module


def _load_in_package(path: str, full: str) -> types.ModuleType:
    """``mingpt/model.py`` as ``mingpt.model``, the folder above the outermost package first on
    sys.path, so the file's own ``from mingpt.utils import ...`` works as it does for its users."""
    root, parts = os.path.dirname(full), [os.path.splitext(os.path.basename(full))[0]]
    while os.path.isfile(os.path.join(root, "__init__.py")):
        root, package = os.path.split(root)
        parts.insert(0, package)
    if root in sys.path:
        sys.path.remove(root)
    sys.path.insert(0, root)
    name = ".".join(parts)
    for cached in [m for m in sys.modules if m == parts[0] or m.startswith(parts[0] + ".")]:
        file = getattr(sys.modules[cached], "__file__", None) or ""
        if not os.path.abspath(file).startswith(root + os.sep):  # a package of the same name from elsewhere
            del sys.modules[cached]
    try:
        return importlib.import_module(name)
    except Exception as exc:  # the user's module failed: say how, and where
        raise _import_failure(path, exc) from None


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

    kind: str  # "module", "path", "pickle", "model" (a name of MODELS), or a registry of REGISTRIES ("hf")
    value: str | bytes
    label: str  # as the user named the target: reused in reports and reproduce commands
    attribute: str | None = None  # "NAME" of "path.py:NAME" / "module:NAME" (dotted for nested)
    family: str | None = None  # --family NAME: the model family it must be ("none": no family; None: recognised)


def split_attribute(text: str) -> tuple[str, str | None]:
    """``("mykernel.py", "attention")`` for ``"mykernel.py:attention"``; ``(text, None)`` when no
    ``:NAME`` ends it (a Windows drive ``C:\\...`` is not one: what follows is not a name)."""
    base, sep, name = text.rpartition(":")
    if sep and base.strip() and _ATTRIBUTE.fullmatch(name):
        return base, name
    return text, None


def address(target: Any, family: str | None = None) -> Address:
    """How a worker process loads ``target`` without this process importing it (a string is a
    ``.py`` path or a module name, as for :func:`load`); ``family``: the model family it is
    verified as (:mod:`gptspec.ecosystem.families`; "none": as its own functions only)."""
    if family is not None:
        where = address(target)
        if where.kind not in ("path", "module") or where.attribute is not None:
            raise TargetError(f"--family applies to a model file or module, not to {where.label}")
        return dataclasses.replace(where, family=family)
    if isinstance(target, Address):
        return target
    if isinstance(target, Target):
        return _object_address(target.obj, target.label)
    if isinstance(target, (str, os.PathLike)):
        text = os.fspath(target)
        if not text.strip():
            raise TargetError("the target is empty: give a module name or a path to a .py file")
        if text in MODELS:
            return Address("model", text, text)
        base, attribute = split_attribute(text)
        if attribute is not None and base in REGISTRIES:
            return Address(base, attribute, text)
        if attribute is not None and base in _MODEL_SCHEMES:
            raise TargetError(f"{text} names no model gptspec provides (whole models: {', '.join(MODELS)})")
        if _looks_like_path(base):
            if os.path.isdir(base) and attribute is not None:
                raise TargetError(f"{text}: a folder is searched for its whole model; name a file to take :{attribute} of")
            if not os.path.exists(base):
                raise TargetError(f"no such file: {base}")
            return Address("path", base, text, attribute)
        return Address("module", base, text, attribute)
    return _object_address(target, getattr(target, "__name__", type(target).__name__))


class _OutsideMain(pickle.Pickler):
    """A pickler that refuses functions and classes of ``__main__``: a target process never runs
    the user's main module (a script, a notebook), so it could not find them."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, (types.FunctionType, type)) and getattr(obj, "__module__", None) == "__main__":
            raise TargetError(f"{getattr(obj, '__qualname__', obj)!s} is defined in __main__ (your script or notebook), "
                              "which gptspec's processes never run: put it in a module and give its name or path")
        return NotImplemented


def _pickled(obj: Any, label: str) -> bytes:
    import io

    buffer = io.BytesIO()
    _OutsideMain(buffer).dump(obj)
    return buffer.getvalue()


def _object_address(obj: Any, label: str) -> Address:
    if isinstance(obj, types.ModuleType):
        file = getattr(obj, "__file__", None)
        if obj.__name__.startswith("gptspec_target_") and file:  # loaded from a path by load()
            return Address("path", file, label)
        return Address("module", obj.__name__, label)
    try:
        return Address("pickle", _pickled(obj, label), label)
    except TargetError:
        raise
    except Exception as exc:  # noqa: BLE001 - local functions, lambdas, open files, ...
        raise TargetError(
            f"{label} cannot be sent to a worker process ({type(exc).__name__}: {exc}): define its functions "
            "at module level, or give a module name or a path to a .py file"
        ) from None


def _looks_like_path(text: str) -> bool:
    return text.endswith(".py") or os.sep in text or (os.altsep or os.sep) in text


def load_object(target: Any) -> tuple[Any, str]:
    """The object ``target`` names, and its label: the module, the attribute ``:NAME`` selects,
    the registered function ``hf:NAME`` names, the module of a whole model ``hf:gpt2`` names, or
    the object itself (nothing is required of it)."""
    if isinstance(target, Target):
        return target.obj, target.label
    if not isinstance(target, (Address, str, os.PathLike)):
        return target, getattr(target, "__name__", type(target).__name__)
    where = address(target)  # TargetError: empty, or a missing file
    obj: Any
    if where.kind == "pickle":
        assert isinstance(where.value, bytes)
        try:
            obj = pickle.loads(where.value)
        except Exception as exc:  # noqa: BLE001 - its class or functions are not importable here
            raise _import_failure(where.label, exc) from None
    elif where.kind == "model":
        assert isinstance(where.value, str)
        obj = _model_module(where.value)
    elif where.kind in REGISTRIES:
        assert isinstance(where.value, str)
        obj = _registered(where.kind, where.value, where.label)
    else:
        assert isinstance(where.value, str)
        obj = _load_path(where.value) if where.kind == "path" else _load_module(where.value)
    if where.attribute is not None:
        obj = _attribute(obj, where.attribute, where.label)
    return obj, where.label


def load(target: Any) -> Target:
    """The target as a :class:`Target`: a string is a ``.py`` path or a module name (either may
    end in ``:NAME``); an :class:`Address` is loaded as it says. It must provide a spec function."""
    from .recognition import model_in_folder, model_of_module

    if isinstance(target, Target):
        return target
    where = address(target) if isinstance(target, (Address, str, os.PathLike)) else None
    if where is not None and where.kind == "path" and os.path.isdir(str(where.value)):
        return model_in_folder(str(where.value), where.label, where.family)
    obj, label = load_object(target)
    if where is not None and where.kind in ("path", "module") and where.attribute is None:
        try:
            return model_of_module(obj, label, where.family)
        except TargetError:
            if where.kind == "module" and hasattr(obj, "__path__") and obj.__file__:  # a package: its modules
                return model_in_folder(os.path.dirname(obj.__file__), label, where.family)
            raise
    return _provided_target(obj, label)


def _attribute(obj: Any, dotted: str, label: str) -> Any:
    """``obj.a.b`` for ``"a.b"``; a TargetError naming what is missing and where."""
    base = label[: -len(dotted) - 1]
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        if not hasattr(obj, part):
            owner = base if i == 0 else f"{base}:{'.'.join(parts[:i])}"
            raise TargetError(f"{owner} has no attribute {part!r}")
        obj = getattr(obj, part)
    return obj


def _model_module(name: str) -> types.ModuleType:
    """The module computing the whole model ``name`` (:data:`MODELS`); a TargetError saying what
    to install if its library is missing."""
    module, what, library = MODELS[name]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing and missing != __name__.split(".")[0]:  # the library or a library it builds on
            raise TargetError(f"{name} is {what}, which needs {missing}: pip install 'gptspec[hf]'") from None
        raise _import_failure(name, exc) from None
    except Exception as exc:  # noqa: BLE001 - its import failed otherwise: say how, and where
        raise _import_failure(name, exc) from None


def _registered(registry: str, name: str, label: str) -> Any:
    """The function registered under ``name``: ``hf:NAME`` is HF transformers' AttentionInterface."""
    assert registry == "hf"
    try:
        from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
    except ImportError:
        raise TargetError(f"{label} names a Hugging Face attention function, which needs transformers: "
                          "pip install 'gptspec[hf]'") from None
    if name == "eager":  # not in the registry: each model module has its own; GPT-2's is the spec's model
        from transformers.models.gpt2.modeling_gpt2 import eager_attention_forward

        return eager_attention_forward
    if name not in ALL_ATTENTION_FUNCTIONS:
        names = ", ".join(["eager", *ALL_ATTENTION_FUNCTIONS.valid_keys()])
        raise TargetError(f"{label}: no attention function is registered under {name!r} with transformers' "
                          f"AttentionInterface (registered: {names}; whole models: {', '.join(MODELS)})")
    return ALL_ATTENTION_FUNCTIONS[name]


def _provided_target(obj: Any, label: str) -> Target:
    names = provided(obj)
    if not names:
        hint = convention_hint(obj)
        raise TargetError(f"{label} provides none of the spec's functions ({', '.join(SPEC_NAMES)})"
                          + (f"; {hint}" if hint else ""))
    return Target(obj, label, names + tuple(n for n in MODULE_ENTRY_POINTS if callable(getattr(obj, n, None))))


_MODULE_PARAMETERS = {"q_proj.weight": "qkvo-linear", "W_Q": "transformer-lens"}


def convention_hint(obj: Any) -> str | None:
    """For a function in an ecosystem convention given without ``--convention``: which one it
    looks like, as the flag to add. A kernel is matched by its parameter names; a factory
    ``make(d_model, n_heads, [d_head, n_ctx])`` is called (here, in the target's process) and its module matched
    by its parameter names (c_attn [3·d_model d_model]: fused-linear; [d_model 3·d_model]: hf-gpt2)."""
    import inspect

    from .verification import conventions

    if not callable(obj) or isinstance(obj, type):
        return None
    try:
        names = tuple(inspect.signature(obj).parameters)
    except (TypeError, ValueError):
        return None
    for convention in conventions.registered():
        wanted, name = convention.parameters, convention.name
        if wanted and names[: len(wanted)] == wanted:
            return f"it takes {', '.join(wanted)} like the {name} convention: add --convention {name}"
    sizes = {"d_model": 8, "n_heads": 2, "d_head": 4, "n_ctx": 16}
    try:
        module = obj(**{n: sizes[n] for n in names if n in sizes})
        shapes = {n: tuple(p.shape) for n, p in module.named_parameters()}
    except Exception:  # noqa: BLE001 - not a factory of (d_model, n_heads), or not of an nn.Module
        return None
    for name, shape in shapes.items():
        leaf = ".".join(name.split(".")[-2:]) if name.endswith(".weight") else name.split(".")[-1]
        layout = _MODULE_PARAMETERS.get(leaf)
        if leaf == "c_attn.weight":
            layout = "fused-linear" if shape == (24, 8) else "hf-gpt2" if shape == (8, 24) else None
        if layout is not None:
            return (f"it is a factory of a module with {leaf} {list(shape)} (made with d_model 8, 2 heads), "
                    f"the {layout} convention: add --convention {layout}")
    return None


def detect_framework(obj: Any, names: tuple[str, ...]) -> str:
    """The name of the framework the target's functions are written with: its own
    ``GPTSPEC_FRAMEWORK`` if it says, else the first whose library the target or the code of its
    functions imports, else "numpy" (:func:`gptspec.verification.frameworks.detect`). A whole model
    (``hf:gpt2``) imports torch but takes and returns NumPy arrays: it says "numpy"."""
    from .verification.frameworks import detect

    return detect(obj, names).name


def __getattr__(name: str) -> Any:
    """``ENTRY_POINTS`` and ``KERNEL_ENTRY_POINTS`` moved to :mod:`gptspec.verification.conventions` (deprecated)."""
    if name not in ("ENTRY_POINTS", "KERNEL_ENTRY_POINTS"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import warnings

    from .verification import conventions

    warnings.warn(f"gptspec.target.{name} moved to gptspec.verification.conventions.{name}", DeprecationWarning,
                  stacklevel=2)
    return getattr(conventions, name)
