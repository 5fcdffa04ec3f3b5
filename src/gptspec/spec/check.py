"""Run-time checking of calls against the spec's typed signatures.

``@implements(spec_fn)`` wraps a function so that every call checks its arguments and its result
against the jaxtyping annotations of ``spec_fn``: dtype kind, number of axes, and every named dim,
bound within the call by the first argument that carries it ("bound by E"). Inside
``with bind(config):`` the named dims must also equal the config's sizes, and ctx may not exceed
n_ctx, across every call: the binding outlives a single call, which jaxtyping alone does not do.

Why our own binder rather than ``jaxtyping.jaxtyped``: jaxtyping forgets its bindings between
calls, and its errors print the arguments; ours say which argument bound a dim and never print
array contents. The annotations stay plain jaxtyping types (the tests run them through
``jaxtyping.jaxtyped(typechecker=beartype)`` as well), and non-array arguments are checked with
beartype.

Checks are on by default. ``GPTSPEC_CHECKS=0`` in the environment turns them off at import, and
``set_checks`` / ``checks`` switch them at run time; off, a call costs one flag test.

A third mode, ``"first"`` (``set_checks("first")``, ``GPTSPEC_CHECKS=first``), checks only the
first call of each function with each *shape signature*: the types, shapes and dtypes of the
arrays (also inside weights containers), the types of float and bool arguments, the values of
int arguments, and the bound config. A later call with the same signature skips the argument
and the result checks (a dict look-up instead of tens of microseconds); a new shape, dtype,
int or ``bind`` is checked again. It trusts that a function's result shape depends only on that
signature, which holds for every function of the spec. For suites of many small calls (property
tests); value checks (token ids, temperatures) are not shape checks and always run.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import inspect
import numbers
import os
import typing
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np
from beartype.door import is_bearable

from .config import Config
from .dims import CONTEXT_DIMS, DIMS
from .errors import ArgumentTypeError, ContextLengthError, DtypeError, ShapeError, SpecError

__all__ = [
    "implements",
    "bind",
    "bound_config",
    "checks",
    "set_checks",
    "checks_enabled",
    "checks_mode",
    "located",
    "has_values",
    "spec_of",
    "check_call",
    "check_result",
    "spec_error",
]

F = TypeVar("F", bound=Callable[..., Any])

# ---------------------------------------------------------------------------------------------
# Switches: checks on/off, the bound config, where we are (for messages)


_MODES = ("on", "off", "first")


def _checks_from_env() -> str:
    value = os.environ.get("GPTSPEC_CHECKS", "1").strip().lower()
    if value == "first":
        return "first"
    return "off" if value in ("0", "false", "no", "off") else "on"


def _mode(enabled: bool | str) -> str:
    """True/False, or one of "on", "off", "first"."""
    if isinstance(enabled, str):
        if enabled not in _MODES:
            raise ArgumentTypeError(f"checks mode should be True, False or one of {', '.join(_MODES)}; got {enabled!r}")
        return enabled
    return "on" if enabled else "off"


class _Switch:
    """The checks mode, read on every call: ``enabled`` (on or first) and ``first`` (first only)."""

    __slots__ = ("enabled", "first")

    def __init__(self) -> None:
        self.set(_checks_from_env())

    def set(self, mode: str) -> None:
        self.enabled = mode != "off"
        self.first = mode == "first"

    @property
    def mode(self) -> str:
        return "off" if not self.enabled else "first" if self.first else "on"


_SWITCH = _Switch()
_CONFIG: contextvars.ContextVar[Config | None] = contextvars.ContextVar("gptspec_config", default=None)
_WHERE: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("gptspec_where", default=())


def checks_enabled() -> bool:
    """Whether calls of checked functions are checked now (in "first" mode: their first calls)."""
    return _SWITCH.enabled


def checks_mode() -> str:
    """"on", "off", or "first" (the first call of each shape signature only)."""
    return _SWITCH.mode


def set_checks(enabled: bool | str) -> None:
    """Turn run-time checks on or off for the whole process, or ``"first"``: see the module doc."""
    _SWITCH.set(_mode(enabled))


@contextlib.contextmanager
def checks(enabled: bool | str) -> Iterator[None]:
    """``with checks(False): ...`` runs a block with checks off (or on, or "first"), then restores."""
    before = _SWITCH.mode
    _SWITCH.set(_mode(enabled))
    try:
        yield
    finally:
        _SWITCH.set(before)


@contextlib.contextmanager
def bind(config: Config) -> Iterator[Config]:
    """Bind the named dims of every checked call in the block to ``config``'s sizes.

    ``with bind(GPT3): impl.embed(tokens, W_E)`` requires W_E to be 12288 × 50257 and
    ``len(tokens) <= 2048``.
    """
    if not isinstance(config, Config):
        raise ArgumentTypeError(f"bind() takes a gptspec Config, got {type(config).__name__}")
    token = _CONFIG.set(config)
    try:
        yield config
    finally:
        _CONFIG.reset(token)


def bound_config() -> Config | None:
    """The config bound by the innermost ``bind``, or None."""
    return _CONFIG.get()


@contextlib.contextmanager
def located(where: str) -> Iterator[None]:
    """Errors raised inside the block say where they happened (``layer 37 › multi_head_attention``)."""
    token = _WHERE.set(_WHERE.get() + (where,))
    try:
        yield
    finally:
        _WHERE.reset(token)


def _prefix(fn_name: str) -> str:
    return " › ".join(_WHERE.get() + (fn_name,))


def spec_error(cls: type[SpecError], fn_name: str, message: str) -> SpecError:
    """An error of class ``cls`` for ``fn_name``, prefixed with where it happened."""
    return cls(f"{_prefix(fn_name)}: {message}")


def has_values(x: Any) -> bool:
    """False for shape-only arrays (which carry a shape and dtype but no values)."""
    return not getattr(x, "_gptspec_shape_only", False)


# ---------------------------------------------------------------------------------------------
# Compiled plans: what to check for each parameter


_KIND_NAMES = {"f": "float", "iu": "integer", "b": "bool", "biufc": "any"}


def _dtype_kinds(dtypes: tuple[str, ...]) -> str:
    names = set(dtypes)
    if names and names <= {"bool", "bool_"}:  # jaxtyping's Bool lists both spellings
        return "b"
    if names and all("float" in n for n in names):
        return "f"
    if names and all(n.startswith(("int", "uint")) for n in names):
        return "iu"
    return "biufc"


@dataclasses.dataclass(frozen=True)
class _Dim:
    kind: str  # "named", "fixed", "sym", "var" (named variadic), "any", "anyvar"
    name: str = ""
    size: int = 0
    code: Any = None
    names: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class _ArraySpec:
    dims: tuple[_Dim, ...]
    kinds: str
    text: str
    variadic: bool
    split: int = -1  # index of the variadic dim, when there is one

    @classmethod
    def from_jaxtyping(cls, hint: Any) -> _ArraySpec:
        dims = []
        for d in hint.dims:
            kind = type(d).__name__
            if kind == "_NamedDim":
                dims.append(_Dim("named", name=d.name))
            elif kind == "_FixedDim":
                dims.append(_Dim("fixed", size=int(d.size)))
            elif kind == "_SymbolicDim":
                code = compile(d.elem, f"<dim {d.elem}>", "eval")
                dims.append(_Dim("sym", name=d.elem, code=code, names=tuple(code.co_names)))
            elif kind == "_NamedVariadicDim":
                dims.append(_Dim("var", name=d.name))
            elif kind == "_AnonymousVariadicDim" or str(d) == "...":
                dims.append(_Dim("anyvar"))
            else:
                dims.append(_Dim("any"))
        split = next((i for i, d in enumerate(dims) if d.kind in ("var", "anyvar")), -1)
        return cls(tuple(dims), _dtype_kinds(tuple(hint.dtypes)), hint.dim_str, split >= 0, split)

    def describe(self) -> str:
        return f"{_KIND_NAMES[self.kinds]}[{self.text}]"


def _axes(n: int) -> str:
    return f"{n} axis" if n == 1 else f"{n} axes"


def _is_array_hint(hint: Any) -> bool:
    return hasattr(hint, "dims") and hasattr(hint, "dtypes") and hasattr(hint, "dim_str")


@dataclasses.dataclass
class _Binder:
    """Sizes of named dims seen so far in one call, and who bound each one."""

    fn: str
    config: Config | None
    sizes: dict[str, Any] = dataclasses.field(default_factory=dict)
    sources: dict[str, str] = dataclasses.field(default_factory=dict)

    def fail(self, cls: type[SpecError], message: str) -> typing.NoReturn:
        raise spec_error(cls, self.fn, message)

    def bind_dim(self, name: str, size: int, where: str) -> None:
        """Bind (or check) one named dim, with ``where`` naming the place ('W_O axis 0')."""
        self._bind(name, size, where, None)

    def _bind(self, name: str, size: int, label: str, axis: int | None) -> None:
        """bind_dim for axis ``axis`` of ``label`` (None: ``label`` itself), the place spelled only on failure."""
        if name in self.sizes:
            if self.sizes[name] != size:
                where = label if axis is None else f"{label} axis {axis}"
                self.fail(
                    ShapeError,
                    f"{where} is {name} = {self.sizes[name]} (bound by {self.sources[name]}), got {size}",
                )
            return
        where = label if axis is None else f"{label} axis {axis}"
        if size < 1:
            cls = ContextLengthError if name in CONTEXT_DIMS else ShapeError
            self.fail(cls, f"{where} is {name} = {size}; {name} must be at least 1")
        config = self.config
        if config is not None:
            dim = DIMS.get(name)
            if dim is not None and dim.equals is not None:
                expected = getattr(config, dim.equals)
                if size != expected:
                    self.fail(
                        ShapeError,
                        f"{where} is {name} = {expected} (bound by config {config.name}), got {size}",
                    )
            elif dim is not None and dim.at_most is not None:
                limit = getattr(config, dim.at_most)
                if size > limit:
                    self.fail(
                        ContextLengthError,
                        f"{where} is {name} = {size}, more than {dim.at_most} = {limit} "
                        f"(bound by config {config.name})",
                    )
        self.sizes[name] = size
        self.sources[name] = label

    def check_array(self, value: Any, spec: _ArraySpec, label: str, *, late: list[Any] | None) -> None:
        if not isinstance(value, np.ndarray):
            self.fail(
                ArgumentTypeError,
                f"{label} should be a NumPy array {spec.describe()}, got {type(value).__name__}",
            )
        if spec.kinds != "biufc" and value.dtype.kind not in spec.kinds:
            kind = _KIND_NAMES[spec.kinds]
            article = "an" if kind[0] in "aeiou" else "a"
            self.fail(DtypeError, f"{label} should have {article} {kind} dtype, got {value.dtype}")
        shape = value.shape
        if not spec.variadic:
            if len(shape) != len(spec.dims):
                self.fail(
                    ShapeError,
                    f"{label} should have {_axes(len(spec.dims))} [{spec.text}], "
                    f"got {_axes(len(shape))} with shape {shape}",
                )
            sizes = self.sizes
            for i, (dim, size) in enumerate(zip(spec.dims, shape)):
                if dim.kind == "named" and sizes.get(dim.name) == size:
                    continue  # bound before to this size: nothing to check
                self._check_axis(dim, int(size), label, i, late)
            return
        # one variadic group: the dims before it match the front, the dims after it the back
        split = spec.split
        front, group, back = spec.dims[:split], spec.dims[split], spec.dims[split + 1 :]
        if len(shape) < len(front) + len(back):
            self.fail(
                ShapeError,
                f"{label} should have at least {_axes(len(front) + len(back))} [{spec.text}], "
                f"got {_axes(len(shape))} with shape {shape}",
            )
        for i, dim in enumerate(front):
            self._check_axis(dim, int(shape[i]), label, i, late)
        n_back = len(back)
        middle = tuple(int(s) for s in shape[len(front) : len(shape) - n_back])
        for j, dim in enumerate(back):
            i = len(shape) - n_back + j
            self._check_axis(dim, int(shape[i]), label, i, late)
        if group.kind == "var":
            name = "*" + group.name
            if name in self.sizes and self.sizes[name] != middle:
                self.fail(
                    ShapeError,
                    f"{label} axes *{group.name} should be {self.sizes[name]} "
                    f"(bound by {self.sources[name]}), got {middle}",
                )
            self.sizes.setdefault(name, middle)
            self.sources.setdefault(name, label)

    def _check_axis(self, dim: _Dim, size: int, label: str, axis: int, late: list[Any] | None) -> None:
        if dim.kind == "named":
            self._bind(dim.name, size, label, axis)
        elif dim.kind == "fixed":
            if size != dim.size:
                self.fail(ShapeError, f"{label} axis {axis} should be {dim.size}, got {size}")
        elif dim.kind == "sym":
            where = f"{label} axis {axis}"
            if late is not None:
                late.append((dim, size, where))
            else:
                self.check_symbolic(dim, size, where)

    def check_symbolic(self, dim: _Dim, size: int, where: str) -> None:
        unbound = [n for n in dim.names if n not in self.sizes]
        for name in unbound:  # a symbolic dim can bind nothing; use the config if there is one
            config = self.config
            field = DIMS[name].equals if name in DIMS else None
            if config is None or field is None:
                return
            self.sizes[name] = getattr(config, field)
            self.sources[name] = f"config {config.name}"
        expected = eval(dim.code, {"__builtins__": {}}, self.sizes)  # noqa: S307 - compiled dim text
        if size != expected:
            parts = " · ".join(f"{n} = {self.sizes[n]} (bound by {self.sources[n]})" for n in dim.names)
            self.fail(ShapeError, f"{where} is {dim.name} = {expected} with {parts}, got {size}")


def _scalar_ok(value: Any, hint: Any) -> bool:
    if type(value) is hint and hint in (float, int, bool):  # the common case, without ABC checks
        return True
    if hint is float:
        return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    if hint is int:
        return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
    if hint is bool:
        return isinstance(value, (bool, np.bool_))
    return is_bearable(value, hint)


def _hint_name(hint: Any) -> str:
    return getattr(hint, "__qualname__", None) or str(hint).replace("typing.", "")


class _Param:
    """How to check one parameter (or the return value)."""

    __slots__ = ("name", "hint", "array", "struct", "binds_dim")

    def __init__(self, name: str, hint: Any) -> None:
        self.name = name
        self.hint = hint
        self.array = _ArraySpec.from_jaxtyping(hint) if _is_array_hint(hint) else None
        self.struct = _StructPlan.of(hint) if isinstance(hint, type) and dataclasses.is_dataclass(hint) else None
        # an int parameter named after a dim (causal_mask's ctx) binds that dim
        self.binds_dim = hint is int and name in DIMS

    def check(self, value: Any, binder: _Binder, late: list[Any], label: str | None = None) -> None:
        label = label or self.name
        if self.array is not None:
            binder.check_array(value, self.array, label, late=late)
        elif self.struct is not None:
            self.struct.check(value, binder, late, label)
        else:
            if not _scalar_ok(value, self.hint):
                binder.fail(
                    ArgumentTypeError,
                    f"{label} should be {_hint_name(self.hint)}, got {type(value).__name__}",
                )
            if self.binds_dim:
                binder.bind_dim(self.name, int(value), label)


class _StructPlan:
    """Checks a dataclass of arrays (the weights containers) field by field."""

    _cache: dict[type, _StructPlan] = {}

    def __init__(self, cls: type) -> None:
        hints = typing.get_type_hints(cls)
        self.cls = cls
        self.fields: list[tuple[str, _Param | None, _StructPlan | None]] = []
        for field in dataclasses.fields(cls):
            hint = hints[field.name]
            origin = typing.get_origin(hint)
            if origin is tuple:  # tuple[Struct, ...]
                inner = typing.get_args(hint)[0]
                self.fields.append((field.name, None, _StructPlan.of(inner)))
            else:
                self.fields.append((field.name, _Param(field.name, hint), None))

    @classmethod
    def of(cls, struct: type) -> _StructPlan:
        if struct not in cls._cache:
            cls._cache[struct] = cls(struct)
        return cls._cache[struct]

    def check(self, value: Any, binder: _Binder, late: list[Any], label: str) -> None:
        if not isinstance(value, self.cls):
            binder.fail(ArgumentTypeError, f"{label} should be a {self.cls.__name__}, got {type(value).__name__}")
        for name, param, items in self.fields:
            field_value = getattr(value, name)
            if param is not None:
                param.check(field_value, binder, late, f"{label}.{name}")
            else:
                assert items is not None
                if not isinstance(field_value, (tuple, list)):
                    binder.fail(
                        ArgumentTypeError,
                        f"{label}.{name} should be a tuple of {items.cls.__name__}, got {type(field_value).__name__}",
                    )
                for i, item in enumerate(field_value):
                    items.check(item, binder, late, f"{label}.{name}[{i}]")


class _Plan:
    """Everything needed to check one function's calls, compiled once from its annotations."""

    def __init__(self, spec_fn: Callable[..., Any]) -> None:
        self.name = spec_fn.__name__
        self.signature = inspect.signature(spec_fn)
        hints = typing.get_type_hints(spec_fn)
        self.hints = hints
        self.params = [_Param(p, hints[p]) for p in self.signature.parameters]
        self.defaults = [p.default for p in self.signature.parameters.values()]
        self.index = {p.name: i for i, p in enumerate(self.params)}
        self.result = _Param("return value", hints["return"])

    def arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Sequence[Any]:
        if not kwargs and len(args) == len(self.params):
            return args
        values = list(args) + [inspect.Parameter.empty] * (len(self.params) - len(args))
        for key, value in kwargs.items():
            i = self.index.get(key)
            if i is None:
                raise TypeError(f"{self.name}() got an unexpected keyword argument {key!r}")
            values[i] = value
        for i, value in enumerate(values):
            if value is inspect.Parameter.empty:
                if self.defaults[i] is inspect.Parameter.empty:
                    raise TypeError(f"{self.name}() missing required argument {self.params[i].name!r}")
                values[i] = self.defaults[i]
        return values

    def check_call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Binder:
        if len(args) > len(self.params):
            raise TypeError(f"{self.name}() takes {len(self.params)} arguments, got {len(args)}")
        binder = _Binder(self.name, _CONFIG.get())
        late: list[Any] = []
        for param, value in zip(self.params, self.arguments(args, kwargs)):
            param.check(value, binder, late)
        for dim, size, where in late:
            binder.check_symbolic(dim, size, where)
        return binder

    def check_result(self, value: Any, binder: _Binder) -> None:
        late: list[Any] = []
        self.result.check(value, binder, late)
        for dim, size, where in late:
            binder.check_symbolic(dim, size, where)


# ---------------------------------------------------------------------------------------------
# "first" mode: the shape signature of a call, and the signatures already checked

_UNKEYED = object()
_TYPE_ONLY = (float, bool, np.float16, np.float32, np.float64, np.bool_, np.random.Generator)
_SEEN_MAX = 4096  # signatures remembered per function before the memory starts over


def _shape_key(value: Any) -> Any:
    """What the checks of ``value`` depend on: an array's type, shape and dtype; a float's or bool's
    type; an int's or str's value; containers item by item. ``_UNKEYED`` for anything else."""
    kind: type = type(value)  # not type[Any]: mypy does not see that as Hashable for the lru_cache
    if kind is np.ndarray:
        return (value.shape, value.dtype)
    if isinstance(value, np.ndarray):  # shape-only arrays and other subclasses
        return (kind, value.shape, value.dtype)
    if kind in _TYPE_ONLY:
        return kind
    if kind is int or kind is str or value is None:
        return (kind, value)
    if isinstance(value, (tuple, list)):
        items = tuple(map(_shape_key, value))
    else:
        names = _field_names(kind)
        if names is None:
            return _UNKEYED
        items = tuple(_shape_key(getattr(value, name)) for name in names)
    return _UNKEYED if _UNKEYED in items else (kind, items)


@functools.lru_cache(maxsize=None)
def _field_names(kind: type) -> tuple[str, ...] | None:
    """The fields of a dataclass type (a weights container), or None for any other type."""
    return tuple(f.name for f in dataclasses.fields(kind)) if dataclasses.is_dataclass(kind) else None


def _call_key(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The shape signature of a call under the bound config, or None when it cannot be keyed."""
    key = _shape_key((args, sorted(kwargs.items())) if kwargs else args)
    return None if key is _UNKEYED else (_CONFIG.get(), key)


def _same_hints(fn: Callable[..., Any], spec_hints: dict[str, Any]) -> bool:
    """An implementation may leave annotations out; those it gives must be the spec's."""
    hints = typing.get_type_hints(fn)
    return all(spec_hints.get(name) == hint for name, hint in hints.items())


def implements(spec_fn: Callable[..., Any]) -> Callable[[F], F]:
    """Mark ``fn`` as the implementation of ``spec_fn`` and check every call against it.

    The implementation must have exactly the spec's parameter names, order and defaults, and any
    annotation it writes must be the spec's (checked once, when the decorator runs), so the
    signature a reader sees on the implementation cannot drift from the published one.
    """
    plan = _Plan(spec_fn)

    def decorate(fn: F) -> F:
        impl_sig = inspect.signature(fn)
        spec_params = [(p.name, p.default) for p in plan.signature.parameters.values()]
        impl_params = [(p.name, p.default) for p in impl_sig.parameters.values()]
        if spec_params != impl_params or not _same_hints(fn, plan.hints):
            raise SpecError(
                f"{fn.__module__}.{fn.__name__} does not match the spec signature "
                f"{plan.name}{plan.signature}: got {fn.__name__}{impl_sig}"
            )

        seen: set[Any] = set()  # "first" mode: shape signatures whose calls passed

        @functools.wraps(fn)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if not _SWITCH.enabled:
                return fn(*args, **kwargs)
            key = _call_key(args, kwargs) if _SWITCH.first else None
            if key is not None and key in seen:
                return fn(*args, **kwargs)
            binder = plan.check_call(args, kwargs)
            result = fn(*args, **kwargs)
            plan.check_result(result, binder)
            if key is not None:
                if len(seen) >= _SEEN_MAX:
                    seen.clear()
                seen.add(key)
            return result

        # a function object takes attributes at run time; the type checker's Callable declares none
        checked.__gptspec_spec__ = spec_fn  # type: ignore[attr-defined]
        checked.__gptspec_plan__ = plan  # type: ignore[attr-defined]
        return typing.cast(F, checked)

    return decorate


def check_call(spec_fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Check arguments against ``spec_fn``'s signature without calling anything."""
    _plan_of(spec_fn).check_call(args, kwargs)


def check_result(spec_fn: Callable[..., Any], result: Any, *args: Any, **kwargs: Any) -> None:
    """Check ``result`` as the result of ``spec_fn(*args, **kwargs)`` (arguments checked too)."""
    plan = _plan_of(spec_fn)
    plan.check_result(result, plan.check_call(args, kwargs))


@functools.lru_cache(maxsize=None)
def _plan_of(spec_fn: Callable[..., Any]) -> _Plan:
    return _Plan(spec_fn)


def spec_of(fn: Callable[..., Any]) -> Callable[..., Any] | None:
    """The spec function a checked implementation implements, or None."""
    return getattr(fn, "__gptspec_spec__", None)
