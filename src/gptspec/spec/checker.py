"""The checks of one call: each parameter's checks, compiled once from the function's plan, and
the binder that binds named dims within a call ("bound by E") and holds them to the config.

A :class:`Checker` is compiled from a :class:`~gptspec.spec.hints.Plan`: for every parameter
(and the result) what to check — an array's dtype kind, number of axes and dims; a weights
container field by field; a scalar's type (beartype for anything but float, int, bool). A
:class:`_Binder` holds the sizes seen so far in one call and who bound each one, so a message
says which argument bound a dim and never prints array contents. Symbolic dims
(``n_heads*d_head``) are checked after every argument, when every name they read is bound.
"""

from __future__ import annotations

import dataclasses
import functools
import numbers
import typing
from collections.abc import Callable
from typing import Any

import numpy as np
from beartype.door import is_bearable

from . import hints
from .config import Config
from .context import CONFIG, spec_error
from .dims import CONTEXT_DIMS, DIMS
from .errors import ArgumentTypeError, ContextLengthError, DtypeError, ShapeError, SpecError
from .hints import KIND_NAMES, ArrayHint, Axis

__all__ = ["Checker", "checker_of", "check_call", "check_result", "has_values"]


_LEAST = {name: d.least for name, d in DIMS.items() if d.least != 1}
"""Dims that may be smaller than 1 (ctx_past: an empty cache)."""


def has_values(x: Any) -> bool:
    """False for shape-only arrays (which carry a shape and dtype but no values)."""
    return not getattr(x, "_gptspec_shape_only", False)


def _axes(n: int) -> str:
    return f"{n} axis" if n == 1 else f"{n} axes"


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
        least = _LEAST.get(name, 1)
        if size < least:
            cls = ContextLengthError if name in CONTEXT_DIMS else ShapeError
            self.fail(cls, f"{where} is {name} = {size}; {name} must be at least {least}")
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

    def check_array(self, value: Any, spec: ArrayHint, label: str, *, late: list[Any] | None) -> None:
        if not isinstance(value, np.ndarray):
            self.fail(
                ArgumentTypeError,
                f"{label} should be a NumPy array {spec.describe()}, got {type(value).__name__}",
            )
        if spec.kinds != "biufc" and value.dtype.kind not in spec.kinds:
            kind = KIND_NAMES[spec.kinds]
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

    def _check_axis(self, dim: Axis, size: int, label: str, axis: int, late: list[Any] | None) -> None:
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

    def check_symbolic(self, dim: Axis, size: int, where: str) -> None:
        unbound = [n for n in dim.names if n not in self.sizes]
        for name in unbound:  # a symbolic dim can bind nothing; use the config if there is one
            config = self.config
            field = DIMS[name].equals if name in DIMS else None
            if config is None or field is None:
                return
            self.sizes[name] = getattr(config, field)
            self.sources[name] = f"config {config.name}"
        expected = dim.value(self.sizes)
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


class _ParamCheck:
    """How to check one parameter (or the return value)."""

    __slots__ = ("name", "hint", "array", "struct", "binds_dim", "optional", "items", "each")

    def __init__(self, name: str, hint: Any) -> None:
        inner = hints.optional_of(hint)  # ``X | None``: None passes, anything else is checked as X
        self.optional = inner is not None
        hint = inner if inner is not None else hint
        self.name = name
        self.hint = hint
        self.array = hints.array(hint)
        self.struct = _StructCheck.of(hint) if hints.is_struct(hint) else None
        # a tuple: ``tuple[A, B]`` item by item (``items``), ``tuple[X, ...]`` every item as X (``each``)
        parts = hints.tuple_items(hint)
        self.items = None if parts is None or parts[1] else tuple(_ParamCheck(name, h) for h in parts[0])
        self.each = _ParamCheck(name, parts[0][0]) if parts is not None and parts[1] else None
        # an int parameter named after a dim (causal_mask's ctx) binds that dim
        self.binds_dim = hint is int and name in DIMS

    def check(self, value: Any, binder: _Binder, late: list[Any], label: str | None = None) -> None:
        label = label or self.name
        if self.optional and value is None:
            return
        if self.array is not None:
            binder.check_array(value, self.array, label, late=late)
        elif self.struct is not None:
            self.struct.check(value, binder, late, label)
        elif self.items is not None or self.each is not None:
            self._check_items(value, binder, late, label)
        else:
            if not _scalar_ok(value, self.hint):
                binder.fail(
                    ArgumentTypeError,
                    f"{label} should be {_hint_name(self.hint)}, got {type(value).__name__}",
                )
            if self.binds_dim:
                binder.bind_dim(self.name, int(value), label)

    def _check_items(self, value: Any, binder: _Binder, late: list[Any], label: str) -> None:
        """A tuple (a list is accepted: a user's cache) of the promised length, item by item."""
        if not isinstance(value, (tuple, list)):
            binder.fail(ArgumentTypeError,
                        f"{label} should be a tuple {_hint_name(self.hint)}, got {type(value).__name__}")
        if self.items is not None and len(value) != len(self.items):
            binder.fail(ArgumentTypeError, f"{label} should be a tuple of {len(self.items)} items, got {len(value)}")
        for i, item in enumerate(value):
            check = self.each if self.items is None else self.items[i]
            assert check is not None
            check.check(item, binder, late, f"{label}[{i}]")


class _StructCheck:
    """Checks a dataclass of arrays (the weights containers) field by field."""

    _cache: dict[type, _StructCheck] = {}

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.fields: list[tuple[str, _ParamCheck | None, _StructCheck | None]] = [
            (f.name, None, _StructCheck.of(f.item)) if f.item is not None
            else (f.name, _ParamCheck(f.name, f.hint), None)
            for f in hints.fields(cls)
        ]

    @classmethod
    def of(cls, struct: type) -> _StructCheck:
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


class Checker:
    """Everything needed to check one function's calls, compiled once from its plan."""

    def __init__(self, spec_fn: Callable[..., Any]) -> None:
        self.plan = hints.Plan.of(spec_fn)
        self.name = self.plan.name
        self.params = [_ParamCheck(name, hint) for name, hint in zip(self.plan.names, self.plan.hints)]
        self.result = _ParamCheck("return value", self.plan.result)

    def check_call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Binder:
        if len(args) > len(self.params):
            raise TypeError(f"{self.name}() takes {len(self.params)} arguments, got {len(args)}")
        binder = _Binder(self.name, CONFIG.get())
        late: list[Any] = []
        for param, value in zip(self.params, self.plan.arguments(args, kwargs)):
            param.check(value, binder, late)
        for dim, size, where in late:
            binder.check_symbolic(dim, size, where)
        return binder

    def check_result(self, value: Any, binder: _Binder) -> None:
        late: list[Any] = []
        self.result.check(value, binder, late)
        for dim, size, where in late:
            binder.check_symbolic(dim, size, where)


@functools.lru_cache(maxsize=None)
def checker_of(spec_fn: Callable[..., Any]) -> Checker:
    """The checker of a spec function, compiled once."""
    return Checker(spec_fn)


def check_call(spec_fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Check arguments against ``spec_fn``'s signature without calling anything."""
    checker_of(spec_fn).check_call(args, kwargs)


def check_result(spec_fn: Callable[..., Any], result: Any, *args: Any, **kwargs: Any) -> None:
    """Check ``result`` as the result of ``spec_fn(*args, **kwargs)`` (arguments checked too)."""
    checker = checker_of(spec_fn)
    checker.check_result(result, checker.check_call(args, kwargs))
