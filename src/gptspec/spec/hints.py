"""What a spec annotation means: the one place that reads jaxtyping types and typing hints.

Every tool of gptspec asks the same few questions of the spec's annotations — is this hint an
array type, what are its dims, its dtype kind, its number of axes, its shape under a config,
what does a function take and return, which arrays does a weights container hold — and each is
answered here once:

- :func:`array` parses a jaxtyping hint into an :class:`ArrayHint` (dims as :class:`Axis`:
  named ``d_model``, fixed ``3``, symbolic ``n_heads*d_head``, variadic ``*shape``);
  :func:`is_array`, :func:`dims`, :func:`dim_text`, :func:`n_axes`, :func:`dtype_kind` and
  :func:`show` are its short answers;
- :func:`shape` and :func:`shape_for` evaluate a hint with dim sizes (:func:`dim_sizes` of a
  config), symbolic dims included, through one checked arithmetic evaluator;
- :class:`Plan` is a function as the spec states it: signature, each parameter's hint, result;
- :func:`fields`, :func:`map_struct` and :func:`build` walk a weights container (dataclass
  fields, ``tuple[BlockWeights, ...]`` item by item); :func:`struct_mapper` is ``map_struct``
  for one hint, its walk worked out once (the adapters convert every call's arguments with it).

jaxtyping's internals (``dim_str``, its private dim classes) and ``typing.get_type_hints`` are
used here and nowhere else, so a change in jaxtyping is a change to this module only.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from jaxtyping import AbstractArray
from jaxtyping import _array_types as _jt

from .config import Config
from .errors import ShapeError, SpecError

__all__ = [
    "Axis", "ArrayHint", "KIND_NAMES", "array", "is_array", "dims", "dim_text", "n_axes", "dtype_kind", "show",
    "dim_sizes", "shape", "shape_for", "annotations_of", "Plan", "Field", "fields", "is_struct", "map_struct",
    "struct_mapper", "build", "optional_of", "tuple_items",
]

KIND_NAMES = {"f": "float", "iu": "integer", "b": "bool", "biufc": "any"}
"""The dtype kinds of :func:`dtype_kind` (NumPy ``dtype.kind`` letters) and how messages name them."""


# ---------------------------------------------------------------------------------------------
# Array hints: dims, dtype kind, axes


_ARITHMETIC = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.Name, ast.Load, ast.Constant,
    ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod, ast.UAdd, ast.USub,
)


def _compile(text: str) -> Any:
    """A symbolic dim ("n_heads*d_head") as code, once it is seen to be arithmetic on names and ints."""
    tree = ast.parse(text, mode="eval")
    for node in ast.walk(tree):
        if not isinstance(node, _ARITHMETIC) or isinstance(node, ast.Constant) and type(node.value) is not int:
            raise SpecError(f"symbolic dim {text!r} is not integer arithmetic on dim names")
    return compile(tree, f"<dim {text}>", "eval")


@dataclasses.dataclass(frozen=True, slots=True)
class Axis:
    """One dim of an array hint.

    ``kind`` is "named" (``name``), "fixed" (``size``), "sym" (``name`` is the expression,
    ``names`` the dims it reads), "var" (``*name``: any number of axes, the same in every
    argument), "anyvar" (``...``) or "any" (``_``).
    """

    kind: str
    name: str = ""
    size: int = 0
    code: Any = None
    names: tuple[str, ...] = ()

    def value(self, sizes: Mapping[str, Any]) -> int:
        """This dim's size with these dim sizes; a symbolic dim is evaluated (names only, no builtins)."""
        if self.kind == "fixed":
            return self.size
        if self.kind == "named":
            return int(sizes[self.name])
        if self.kind == "sym":
            return int(eval(self.code, {"__builtins__": {}}, sizes))  # noqa: S307 - checked by _compile
        raise ShapeError(f"a {'variadic' if self.kind.endswith('var') else 'anonymous'} dim has no one size")


def _axis(d: Any) -> Axis:
    if isinstance(d, _jt._NamedDim):
        return Axis("named", name=d.name)
    if isinstance(d, _jt._FixedDim):
        return Axis("fixed", size=int(d.size))
    if isinstance(d, _jt._SymbolicDim):
        code = _compile(d.elem)
        return Axis("sym", name=d.elem, code=code, names=tuple(code.co_names))
    if isinstance(d, _jt._NamedVariadicDim):
        return Axis("var", name=d.name)
    if d is _jt._anonymous_variadic_dim:
        return Axis("anyvar")
    return Axis("any")


def _kinds(dtypes: Any) -> str:
    names = set(dtypes) if isinstance(dtypes, (tuple, list)) else set()  # Shaped: any dtype
    if names and names <= {"bool", "bool_"}:  # jaxtyping's Bool lists both spellings
        return "b"
    if names and all("float" in n for n in names):
        return "f"
    if names and all(n.startswith(("int", "uint")) for n in names):
        return "iu"
    return "biufc"


@dataclasses.dataclass(frozen=True, slots=True)
class ArrayHint:
    """A jaxtyping array hint, parsed: its dims, dtype kind, dim text and variadic group."""

    dims: tuple[Axis, ...]
    kinds: str  # a key of KIND_NAMES
    text: str  # the dims as jaxtyping writes them: "d_model n_heads*d_head"
    dtype_name: str  # "Float", "Int", "Bool"
    variadic: bool
    split: int = -1  # index of the variadic dim, when there is one

    def describe(self) -> str:
        """``float[d_model ctx]``: the dtype kind and dims, as error messages show them."""
        return f"{KIND_NAMES[self.kinds]}[{self.text}]"


@functools.lru_cache(maxsize=None)
def _parse(hint: type[AbstractArray]) -> ArrayHint:
    axes = tuple(_axis(d) for d in hint.dims)
    split = next((i for i, a in enumerate(axes) if a.kind in ("var", "anyvar")), -1)
    return ArrayHint(axes, _kinds(hint.dtypes), str(hint.dim_str), hint.dtype.__name__, split >= 0, split)


def array(hint: Any) -> ArrayHint | None:
    """The parsed array hint, or None when ``hint`` is no jaxtyping array type (float, a container)."""
    if isinstance(hint, type) and issubclass(hint, AbstractArray):
        return _parse(hint)
    return None


def is_array(hint: Any) -> bool:
    """Whether ``hint`` is a jaxtyping array type."""
    return array(hint) is not None


def _array(hint: Any) -> ArrayHint:
    parsed = array(hint)
    if parsed is None:
        raise SpecError(f"{show(hint)} is not an array type of the spec")
    return parsed


def dim_text(hint: Any) -> str:
    """The dims of an array hint as jaxtyping writes them: ``"d_model n_heads*d_head"``."""
    return _array(hint).text


def dims(hint: Any) -> tuple[str, ...]:
    """The dims of an array hint, one string each: ``("d_model", "n_heads*d_head")``."""
    return tuple(_array(hint).text.split())


def n_axes(hint: Any) -> int | None:
    """How many axes an array hint fixes; None for a variadic one (``*shape``) or a non-array hint."""
    parsed = array(hint)
    return None if parsed is None or parsed.variadic else len(parsed.dims)


def dtype_kind(hint: Any) -> str:
    """The NumPy dtype kinds an array hint allows: "f" (Float), "iu" (Int), "b" (Bool), "biufc" (any)."""
    return _array(hint).kinds


def show(hint: Any) -> str:
    """``Float[d_model ctx]`` for an array hint, ``tuple[A, B]`` and ``X | None`` shown item by item, the
    type's name (``float``, ``Weights``) for others."""
    parsed = array(hint)
    if parsed is not None:
        return f"{parsed.dtype_name}[{parsed.text}]"
    inner, parts = optional_of(hint), tuple_items(hint)
    if inner is not None:
        return f"{show(inner)} | None"
    if parts is not None:
        return f"tuple[{show(parts[0][0])}, ...]" if parts[1] else f"tuple[{', '.join(map(show, parts[0]))}]"
    return getattr(hint, "__name__", str(hint))


# ---------------------------------------------------------------------------------------------
# Shapes under a config


def dim_sizes(config: Config, ctx: int | None = None, ctx_k: int | None = None,
              ctx_past: int | None = None) -> dict[str, int]:
    """Every named dim's size: the config's, ctx = ctx_q = ctx_new = ``ctx`` (default n_ctx), ctx_k = ``ctx_k``
    or ctx, ctx_past = ``ctx_past`` or what the context has left before ctx (n_ctx − ctx)."""
    n = config.n_ctx if ctx is None else ctx
    past = max(config.n_ctx - n, 0) if ctx_past is None else ctx_past
    return {**config.dims(), "ctx": n, "ctx_q": n, "ctx_k": n if ctx_k is None else ctx_k, "ctx_new": n,
            "ctx_past": past}


def shape(hint: Any, sizes: Mapping[str, int]) -> tuple[int, ...]:
    """The shape an array hint of the spec takes with these dim sizes ("n_heads*d_head" evaluated)."""
    return tuple(axis.value(sizes) for axis in _array(hint).dims)


def shape_for(hint: Any, config: Config, ctx: int | None = None, ctx_k: int | None = None) -> tuple[int, ...]:
    """The shape an array hint takes under ``config`` (ctx, ctx_q = ``ctx`` or n_ctx; ctx_k = ``ctx_k`` or ctx)."""
    return shape(hint, dim_sizes(config, ctx, ctx_k))


# ---------------------------------------------------------------------------------------------
# Functions: the plan of a signature


def annotations_of(obj: Any) -> dict[str, Any]:
    """The evaluated annotations of a function or class (``"return"`` included), as written."""
    return typing.get_type_hints(obj)


@dataclasses.dataclass(frozen=True, eq=False)
class Plan:
    """A function as the spec states it: its signature, each parameter's hint in order, the result's.

    The checker compiles its checks from a plan, the adapters bind arguments with it, the
    strategies and the symbolic check build arguments from it.
    """

    name: str
    signature: inspect.Signature
    names: tuple[str, ...]
    hints: tuple[Any, ...]
    defaults: tuple[Any, ...]  # inspect.Parameter.empty where a parameter has none
    result: Any
    index: Mapping[str, int]  # parameter name → position

    @classmethod
    def of(cls, spec: Callable[..., Any] | str) -> Plan:
        """The plan of a function, or of the spec function of that name."""
        if isinstance(spec, str):
            from .signatures import SIGNATURES  # signatures is built on the types, not on this module

            spec = SIGNATURES[spec]
        return _plan(spec)

    def hint(self, name: str) -> Any:
        """The hint of parameter ``name``, or the result's for ``"return"``."""
        return self.result if name == "return" else self.hints[self.index[name]]

    def arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Sequence[Any]:
        """Every argument in spec order, defaults filled in; TypeError as Python words it for a bad call."""
        n = len(self.names)
        if not kwargs and len(args) == n:
            return args
        values = list(args) + [inspect.Parameter.empty] * (n - len(args))
        for key, value in kwargs.items():
            i = self.index.get(key)
            if i is None:
                raise TypeError(f"{self.name}() got an unexpected keyword argument {key!r}")
            values[i] = value
        for i, value in enumerate(values):
            if value is inspect.Parameter.empty:
                if self.defaults[i] is inspect.Parameter.empty:
                    raise TypeError(f"{self.name}() missing required argument {self.names[i]!r}")
                values[i] = self.defaults[i]
        return values

    def positional(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
        """The arguments in spec order, up to the last one given (defaults fill the gaps)."""
        if not kwargs:  # the common case, without the cost of Signature.bind
            return list(args)
        bound = self.signature.bind(*args, **kwargs)
        params = list(self.signature.parameters.values())
        last = max(i for i, p in enumerate(params) if p.name in bound.arguments)
        return [bound.arguments.get(p.name, p.default) for p in params[: last + 1]]


@functools.lru_cache(maxsize=None)
def _plan(fn: Callable[..., Any]) -> Plan:
    signature = inspect.signature(fn)
    hints = annotations_of(fn)
    params = tuple(signature.parameters.values())
    return Plan(
        fn.__name__, signature, tuple(p.name for p in params), tuple(hints[p.name] for p in params),
        tuple(p.default for p in params), hints["return"], {p.name: i for i, p in enumerate(params)},
    )


# ---------------------------------------------------------------------------------------------
# Containers: the weights dataclasses, field by field


@dataclasses.dataclass(frozen=True)
class Field:
    """One field of a container: its name, its hint, and for ``tuple[Item, ...]`` the item type."""

    name: str
    hint: Any
    item: Any = None


def optional_of(hint: Any) -> Any:
    """X for a hint ``X | None`` (``Optional[X]``), None for any other hint."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        rest = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(rest) == 1 and len(typing.get_args(hint)) == 2:
            return rest[0]
    return None


def tuple_items(hint: Any) -> tuple[tuple[Any, ...], bool] | None:
    """(item hints, variable) for ``tuple[A, B]`` ((A, B), False) and ``tuple[X, ...]`` ((X,), True);
    None for any other hint."""
    if typing.get_origin(hint) is not tuple:
        return None
    args = typing.get_args(hint)
    if len(args) == 2 and args[1] is Ellipsis:
        return (args[0],), True
    return tuple(args), False


def is_struct(hint: Any) -> bool:
    """Whether ``hint`` is a container type of the spec (a dataclass: Weights, BlockWeights)."""
    return isinstance(hint, type) and dataclasses.is_dataclass(hint)


@functools.lru_cache(maxsize=None)
def fields(cls: type) -> tuple[Field, ...]:
    """The fields of a container type in order, each with its hint (and item type for a tuple)."""
    hints = annotations_of(cls)
    out = []
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        item = typing.get_args(hint)[0] if typing.get_origin(hint) is tuple else None
        out.append(Field(f.name, hint, item))
    return tuple(out)


def map_struct(value: Any, hint: Any, leaf: Callable[[Any, Any], Any]) -> Any:
    """``value`` with ``leaf(v, h)`` applied to every leaf ``v`` (typed ``h``): containers field by
    field, ``tuple[Item, ...]`` item by item. ``hint`` None: walk the value's own structure (tuples
    item by item, containers by their field hints)."""
    if hint is None:
        if isinstance(value, tuple):
            return tuple(map_struct(v, None, leaf) for v in value)
        hint = type(value) if is_struct(type(value)) else None
    inner = optional_of(hint)
    if inner is not None:
        return None if value is None else map_struct(value, inner, leaf)
    if is_struct(hint) and dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: map_struct(getattr(value, f.name), f.hint, leaf) for f in fields(hint)}
        return dataclasses.replace(value, **changes)
    parts = tuple_items(hint)
    if parts is not None and isinstance(value, (tuple, list)):
        items, variable = parts
        if variable:
            return tuple(map_struct(v, items[0], leaf) for v in value)
        return tuple(map_struct(v, h, leaf) for v, h in zip(value, items)) + tuple(value[len(items):])
    return leaf(value, hint)


def struct_mapper(hint: Any, leaf_for: Callable[[Any], Callable[[Any], Any]]) -> Callable[[Any], Any]:
    """``lambda value: map_struct(value, hint, leaf)`` with the walk over ``hint`` worked out once,
    where ``leaf_for(h)`` is ``leaf`` for leaves typed ``h`` (so a leaf's own reading of its hint,
    its number of axes say, is done once too). The same results as :func:`map_struct`; a call
    costs a few µs where map_struct re-reads every hint (a weights container: ~30 leaves)."""
    if hint is None:  # the value's own structure: known only per value
        return lambda value: map_struct(value, None, lambda v, h: leaf_for(h)(v))
    inner = optional_of(hint)
    if inner is not None:
        walk = struct_mapper(inner, leaf_for)
        return lambda value: None if value is None else walk(value)
    leaf = leaf_for(hint)
    if is_struct(hint):
        parts = tuple((f.name, struct_mapper(f.hint, leaf_for)) for f in fields(hint))

        def container(value: Any) -> Any:
            if dataclasses.is_dataclass(value) and not isinstance(value, type):
                return dataclasses.replace(value, **{name: part(getattr(value, name)) for name, part in parts})
            return leaf(value)

        return container
    tupled = tuple_items(hint)
    if tupled is not None and tupled[1]:
        item = struct_mapper(tupled[0][0], leaf_for)

        def items(value: Any) -> Any:
            return tuple(item(v) for v in value) if isinstance(value, (tuple, list)) else leaf(value)

        return items
    if tupled is not None:  # tuple[A, B]: item i walked as its own hint (extra items, if any, as they are)
        each = tuple(struct_mapper(h, leaf_for) for h in tupled[0])

        def fixed(value: Any) -> Any:
            if not isinstance(value, (tuple, list)):
                return leaf(value)
            return tuple(walk(v) for walk, v in zip(each, value)) + tuple(value[len(each):])

        return fixed
    return leaf


def build(cls: type, leaf: Callable[[str, Any], Any], count: int) -> Any:
    """A ``cls`` container with ``leaf(field name, hint)`` in every array field and ``count`` items
    built the same way in every tuple field, in field order (so seeded draws follow the fields)."""
    values = {
        f.name: tuple(build(f.item, leaf, count) for _ in range(count)) if f.item is not None else leaf(f.name, f.hint)
        for f in fields(cls)
    }
    return cls(**values)
