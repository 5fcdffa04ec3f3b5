"""Shape-only arrays: NumPy arrays of full shape and dtype that store a single element.

``shape_only((12288, 50257))`` is an ``np.ndarray`` — a zero-stride view of one element — so
jaxtyping, beartype and gptspec's checker see exactly the shape and dtype a real run would pass,
at the cost of a few bytes. Its operations compute their result's shape and dtype, never values:

- shapes by NumPy's rules (broadcasting, matmul's core dims, einsum labels, indexing, ...), written
  out here so that no operation allocates or reads a full-size array;
- dtypes by NumPy itself, applied to a one-element stand-in of every operand (same ndim and
  dtype). Python scalars are passed as they are, so NEP 50's weak scalars give the same dtype
  a real run gets: ``shape_only((2, 3), np.float32) * 0.5`` is float32.

An operation not written here raises :class:`UnsupportedOperation` naming it; anything that needs
a value (``bool(x.any())``, ``int(x[0])``, ``x.item()``) raises :class:`ValuesNeeded`. Neither
ever falls back to computing on the stored zero. One gap NumPy leaves open: ``np.asarray(x)``
drops the subclass without asking it, and what follows is a real computation.
"""

from __future__ import annotations

import functools
import inspect
import math
import operator
import warnings
from collections.abc import Callable, Sequence
from typing import Any, Literal, NoReturn

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from ..spec import bound_config, has_values, spec_error
from .errors import OperandShapeError, SymbolicError, UnsupportedOperation, ValuesNeeded
from .trace import Op, active_recorder

__all__ = ["ShapeOnlyArray", "shape_only", "tri", "IndexOutOfBounds", "SUPPORTED_FUNCTIONS"]

Shape = tuple[int, ...]
Casting = Literal["no", "equiv", "safe", "same_kind", "unsafe"]
"""The ``casting=`` rules of ``astype`` (and :func:`numpy.can_cast`)."""


class IndexOutOfBounds(SymbolicError, IndexError):
    """An index (with values: a real token-id array, a Python int) outside its axis."""


# ---------------------------------------------------------------------------------------------
# Making arrays, recording operations


def shape_only(shape: Sequence[int] | int, dtype: Any = np.float32) -> ShapeOnlyArray:
    """A shape-only array of ``shape`` and ``dtype``: a zero-stride view of one element."""
    dims = (operator.index(shape),) if not isinstance(shape, Sequence) else tuple(operator.index(n) for n in shape)
    if any(n < 0 for n in dims):
        raise spec_error(OperandShapeError, "shape_only", f"negative size in shape {dims}")
    return _zero_stride(dims, dtype)


def _zero_stride(shape: Shape, dtype: Any) -> ShapeOnlyArray:
    element = _element(np.dtype(dtype))
    return np.ndarray.__new__(ShapeOnlyArray, shape, element.dtype, element, 0, (0,) * len(shape))


@functools.lru_cache(maxsize=None)
def _element(dtype: np.dtype[Any]) -> np.ndarray:
    """The one read-only element every shape-only array of ``dtype`` views."""
    element = np.zeros(1, dtype)
    element.flags.writeable = False
    return element


def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = float) -> ShapeOnlyArray:
    """The shape-only counterpart of ``np.tri`` (which takes no array NumPy could dispatch on)."""
    return _result("tri", (), (N, N if M is None else M), np.tri(1, 1, k, dtype).dtype)


def _result(op: str, operands: Sequence[Any], shape: Shape, dtype: Any, *, view: bool = False) -> ShapeOnlyArray:
    """A new shape-only result, recorded (and its bytes counted unless it is a view)."""
    out = _zero_stride(shape, dtype)
    recorder = active_recorder()
    if recorder is not None:
        shapes = tuple(x.shape for x in operands if isinstance(x, np.ndarray))
        recorder.events.append(Op(op, shapes, out.shape, out.dtype, not view))
        if not view:
            recorder.allocated(out)
    return out


def _fail(cls: type[SymbolicError], op: str, message: str) -> NoReturn:
    raise spec_error(cls, op, message)


def _named(n: int) -> str:
    """``12288 (d_model)`` when a bound config gives the size a name, else ``12288``."""
    config = bound_config()
    names = [k for k, v in config.dims().items() if v == n] if config is not None else []
    return f"{n} ({'/'.join(names)})" if names else str(n)


def _shape_of(x: Any) -> Shape:
    return x.shape if isinstance(x, np.ndarray) else np.shape(x)


def _stand_in(x: Any) -> Any:
    """A one-element array with ``x``'s ndim and dtype; scalars stay as they are."""
    if isinstance(x, np.ndarray):
        return np.ones((1,) * x.ndim, x.dtype)
    if isinstance(x, (list, tuple)):
        return type(x)(map(_stand_in, x))
    return x


def _signature(x: Any) -> Any:
    """What a dtype can depend on: an array's dtype and ndim, a scalar's type and value."""
    if isinstance(x, np.ndarray):
        return (x.dtype, x.ndim)
    if isinstance(x, (list, tuple)):
        return (type(x), tuple(map(_signature, x)))
    return (type(x), x)


_DTYPES: dict[Any, Any] = {}
_DTYPES_MAX = 4096


def _dtype_by_numpy(fn: Callable[..., Any], operands: Sequence[Any], kwargs: dict[str, Any] | None = None) -> Any:
    """The dtype (or dtypes) NumPy gives ``fn`` on one-element stand-ins of the operands.

    Remembered per (function, operand dtypes and ndims, scalar values, keywords): a forward pass
    asks the same question thousands of times.
    """
    kwargs = kwargs or {}
    try:
        key: Any = (fn, tuple(map(_signature, operands)), tuple(sorted(kwargs.items())))
        if key in _DTYPES:
            return _DTYPES[key]
    except TypeError:  # an unhashable keyword: ask NumPy every time
        key = None
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = fn(*map(_stand_in, operands), **kwargs)
    dtype = tuple(o.dtype for o in out) if isinstance(out, tuple) else np.result_type(out)
    if key is not None:
        if len(_DTYPES) >= _DTYPES_MAX:  # many distinct scalar values: start again
            _DTYPES.clear()
        _DTYPES[key] = dtype
    return dtype


def _broadcast(op: str, shapes: Sequence[Shape]) -> Shape:
    """NumPy's broadcasting: shapes aligned on the right, each axis 1 or a single size."""
    first = shapes[0] if shapes else ()
    if all(s == first for s in shapes):
        return tuple(first)
    ndim = max(map(len, shapes))
    out = []
    for axis in range(-ndim, 0):
        sizes = {s[axis] for s in shapes if len(s) >= -axis} - {1}
        if len(sizes) > 1:
            _fail(OperandShapeError, op, f"shapes {' and '.join(map(str, shapes))} do not broadcast together")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def _no_out(op: str, out: Any) -> None:
    outs = out if isinstance(out, tuple) else (out,)
    if any(o is not None for o in outs):
        _fail(UnsupportedOperation, op, "out= (and in-place operators): shape-only arrays are read-only, use the result")


def _axis(op: str, axis: int, ndim: int) -> int:
    try:
        return normalize_axis_index(axis, ndim)
    except np.exceptions.AxisError:
        _fail(OperandShapeError, op, f"axis {axis} is out of range for an array with {ndim} axes")


# ---------------------------------------------------------------------------------------------
# Shape rules


def _matmul(a: Any, b: Any, **kwargs: Any) -> ShapeOnlyArray:
    """[..., n, k] @ [..., k, m] → [..., n, m]; a 1-D operand gains, then loses, a unit axis."""
    sa, sb = _shape_of(a), _shape_of(b)
    if not sa or not sb:
        _fail(OperandShapeError, "matmul", f"operands need at least one axis, got shapes {sa} and {sb}")
    A = (1,) + sa if len(sa) == 1 else sa
    B = sb + (1,) if len(sb) == 1 else sb
    if A[-1] != B[-2]:
        _fail(
            OperandShapeError, "matmul",
            f"{sa} @ {sb}: the contracted sizes differ, {_named(A[-1])} vs {_named(B[-2])}",
        )
    batch = _broadcast("matmul", (A[:-2], B[:-2]))
    shape = batch + (A[-2],) * (len(sa) > 1) + (B[-1],) * (len(sb) > 1)
    return _result("matmul", (a, b), shape, _dtype_by_numpy(np.matmul, (a, b), kwargs))


def _ufunc_call(ufunc: np.ufunc, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """An elementwise ufunc: the broadcast shape, NumPy's dtype for each output."""
    if ufunc is np.matmul:
        return _matmul(*inputs, **kwargs)
    name = ufunc.__name__
    if ufunc.signature is not None:
        _fail(UnsupportedOperation, name, f"the generalized ufunc {name} {ufunc.signature} (matmul is supported)")
    shape = _broadcast(name, [_shape_of(x) for x in inputs])
    dtypes = _dtype_by_numpy(ufunc, inputs, kwargs)
    if ufunc.nout == 1:
        return _result(name, inputs, shape, dtypes)
    return tuple(_result(name, inputs, shape, dt) for dt in dtypes)


def _reduced_shape(op: str, shape: Shape, axis: Any, keepdims: bool) -> Shape:
    """The shape left after reducing ``axis`` (None: every axis), with or without unit axes kept."""
    try:
        axes = tuple(range(len(shape))) if axis is None else normalize_axis_tuple(axis, len(shape))
    except np.exceptions.AxisError:
        _fail(OperandShapeError, op, f"axis {axis} is out of range for an array with {len(shape)} axes")
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


_NO_IDENTITY = {"max", "min", "amax", "amin", "argmax", "argmin", "maximum", "minimum", "fmax", "fmin"}


def _reduction(name: str, np_fn: Callable[..., Any]) -> Callable[..., ShapeOnlyArray]:
    """np.sum, np.max, ... (and the methods of the same names): shape by rule, dtype by NumPy."""
    signature = inspect.signature(np_fn)
    first = next(iter(signature.parameters))
    default_axis = signature.parameters["axis"].default

    def reduce(*args: Any, **kwargs: Any) -> ShapeOnlyArray:
        if len(args) == 1 and first not in kwargs:  # x.max(axis=..., keepdims=...): no binding needed
            a, arguments = args[0], dict(kwargs)
        else:
            arguments = dict(signature.bind(*args, **kwargs).arguments)
            arguments.update(arguments.pop("kwargs", {}))
            a = arguments.pop(first)
        _no_out(name, arguments.pop("out", None))
        axis = arguments.get("axis", default_axis)
        shape = _reduced_shape(name, a.shape, axis, bool(arguments.get("keepdims", False)))
        if name in _NO_IDENTITY and "initial" not in arguments and math.prod(a.shape) == 0:
            _fail(OperandShapeError, name, f"a reduction over an empty array {a.shape} has no identity")
        return _result(name, (a,), shape, _dtype_by_numpy(np_fn, (a,), arguments))

    reduce.__name__ = name
    return reduce


def _einsum(*operands: Any, out: Any = None, optimize: Any = False, **kwargs: Any) -> ShapeOnlyArray:
    """einsum in its subscripts form: every label's size, the ellipsis broadcast, the output term."""
    _no_out("einsum", out)
    if not operands or not isinstance(operands[0], str):
        _fail(UnsupportedOperation, "einsum", "only the subscripts form einsum('ij,jk->ik', ...)")
    subscripts, arrays = operands[0].replace(" ", ""), operands[1:]
    inputs, arrow, output = subscripts.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(arrays):
        _fail(OperandShapeError, "einsum", f"{subscripts!r} names {len(terms)} operands, got {len(arrays)}")
    sizes: dict[str, int] = {}
    ellipses: list[Shape] = []
    for term, x in zip(terms, arrays):
        shape = _shape_of(x)
        left, dots, right = term.partition("...")
        n_ell = len(shape) - len(left) - len(right) if dots else 0
        if n_ell < 0 or (not dots and len(term) != len(shape)):
            _fail(OperandShapeError, "einsum", f"term {term!r} does not fit an operand of shape {shape}")
        ellipses.append(shape[len(left) : len(left) + n_ell])
        for label, n in zip(left + right, shape[: len(left)] + shape[len(shape) - len(right) :]):
            if not label.isalpha():
                _fail(OperandShapeError, "einsum", f"{label!r} is not a subscript label")
            known = sizes.setdefault(label, n)
            if known != n and 1 not in (known, n):
                _fail(OperandShapeError, "einsum", f"label {label!r} is {_named(known)} in one operand, {_named(n)} in another")
            sizes[label] = max(known, n) if 1 in (known, n) else n
    ell = _broadcast("einsum", ellipses)
    if not arrow:
        labels = inputs.replace(",", "").replace(".", "")
        output = ("..." if any(ellipses) or "..." in inputs else "") + "".join(
            sorted(c for c in set(labels) if labels.count(c) == 1)
        )
    before, dots, after = output.partition("...")
    for label in before + after:
        if label not in sizes or (before + after).count(label) > 1:
            _fail(OperandShapeError, "einsum", f"output label {label!r} is unknown or repeated in {subscripts!r}")
    shape = tuple(sizes[c] for c in before) + (ell if dots else ()) + tuple(sizes[c] for c in after)
    dtype = _dtype_by_numpy(np.einsum, operands, kwargs)
    return _result("einsum", arrays, shape, dtype)


def _transpose(a: Any, axes: Any = None) -> ShapeOnlyArray:
    n = a.ndim
    order = tuple(reversed(range(n))) if axes is None else tuple(_axis("transpose", i, n) for i in axes)
    if sorted(order) != list(range(n)):
        _fail(OperandShapeError, "transpose", f"axes {tuple(axes)} are not a permutation of {n} axes")
    return _result("transpose", (a,), tuple(a.shape[i] for i in order), a.dtype, view=True)


def _swapaxes(a: Any, axis1: int, axis2: int) -> ShapeOnlyArray:
    i, j = _axis("swapaxes", axis1, a.ndim), _axis("swapaxes", axis2, a.ndim)
    shape = list(a.shape)
    shape[i], shape[j] = shape[j], shape[i]
    return _result("swapaxes", (a,), tuple(shape), a.dtype, view=True)


def _reshape(a: Any, shape: Any, order: str = "C", *, copy: bool | None = None) -> ShapeOnlyArray:
    """The new shape, one −1 inferred; the number of elements must stay the same."""
    wanted = (operator.index(shape),) if not isinstance(shape, Sequence) else tuple(operator.index(n) for n in shape)
    known = math.prod(n for n in wanted if n != -1)
    if wanted.count(-1) > 1 or any(n < -1 for n in wanted):
        _fail(OperandShapeError, "reshape", f"invalid target shape {wanted}")
    if -1 in wanted:
        if known == 0 or a.size % known:
            _fail(OperandShapeError, "reshape", f"cannot reshape {a.shape} into {wanted}")
        wanted = tuple(a.size // known if n == -1 else n for n in wanted)
    if math.prod(wanted) != a.size:
        _fail(OperandShapeError, "reshape", f"cannot reshape {a.shape} ({a.size} elements) into {wanted}")
    return _result("reshape", (a,), wanted, a.dtype, view=not copy)


def _split_sizes(op: str, n: int, sections: Any, equal: bool) -> list[int]:
    if isinstance(sections, (int, np.integer)):
        if sections <= 0:
            _fail(OperandShapeError, op, f"number of sections must be positive, got {sections}")
        each, extra = divmod(n, int(sections))
        if equal and extra:
            _fail(OperandShapeError, op, f"an axis of {_named(n)} does not split into {sections} equal parts")
        return [each + 1] * extra + [each] * (int(sections) - extra)
    bounds = [0, *(operator.index(i) for i in sections), n]
    return [len(range(n)[lo:hi]) for lo, hi in zip(bounds, bounds[1:])]


def _splitter(name: str, equal: bool) -> Callable[..., list[ShapeOnlyArray]]:
    def split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[ShapeOnlyArray]:
        ax = _axis(name, axis, ary.ndim)
        parts = _split_sizes(name, ary.shape[ax], indices_or_sections, equal)
        return [
            _result(name, (ary,), ary.shape[:ax] + (n,) + ary.shape[ax + 1 :], ary.dtype, view=True) for n in parts
        ]

    split.__name__ = name
    return split


def _concatenate(arrays: Sequence[Any], axis: int | None = 0, out: Any = None, **kwargs: Any) -> ShapeOnlyArray:
    _no_out("concatenate", out)
    shapes = [_shape_of(x) for x in arrays]
    if not shapes:
        _fail(OperandShapeError, "concatenate", "needs at least one array")
    if axis is None:
        shape: Shape = (sum(math.prod(s) for s in shapes),)
    else:
        first = shapes[0]
        if not first:
            _fail(OperandShapeError, "concatenate", "zero-dimensional arrays cannot be concatenated")
        ax = _axis("concatenate", axis, len(first))
        for s in shapes[1:]:
            if len(s) != len(first) or s[:ax] + s[ax + 1 :] != first[:ax] + first[ax + 1 :]:
                _fail(OperandShapeError, "concatenate", f"shapes {first} and {s} differ off axis {axis}")
        shape = first[:ax] + (sum(s[ax] for s in shapes),) + first[ax + 1 :]
    dtype = _dtype_by_numpy(np.concatenate, (tuple(arrays),), {"axis": axis, **kwargs})
    return _result("concatenate", arrays, shape, dtype)


def _stack(arrays: Sequence[Any], axis: int = 0, out: Any = None, **kwargs: Any) -> ShapeOnlyArray:
    _no_out("stack", out)
    shapes = [_shape_of(x) for x in arrays]
    if not shapes or any(s != shapes[0] for s in shapes):
        _fail(OperandShapeError, "stack", f"needs arrays of one shape, got {', '.join(map(str, shapes)) or 'none'}")
    ax = _axis("stack", axis, len(shapes[0]) + 1)
    shape = shapes[0][:ax] + (len(shapes),) + shapes[0][ax:]
    dtype = _dtype_by_numpy(np.stack, (tuple(arrays),), {"axis": axis, **kwargs})
    return _result("stack", arrays, shape, dtype)


def _where(condition: Any, *xy: Any) -> ShapeOnlyArray:
    if len(xy) != 2:
        _fail(ValuesNeeded, "where", "np.where(condition) lists the positions of True entries, which need values")
    shape = _broadcast("where", [_shape_of(v) for v in (condition, *xy)])
    return _result("where", (condition, *xy), shape, _dtype_by_numpy(np.where, (condition, *xy)))


def _triangle(name: str, np_fn: Callable[..., Any]) -> Callable[..., ShapeOnlyArray]:
    def triangle(m: Any, k: int = 0) -> ShapeOnlyArray:
        if m.ndim == 0:
            _fail(OperandShapeError, name, "needs at least one axis")
        shape = (m.shape[0], m.shape[0]) if m.ndim == 1 else m.shape
        return _result(name, (m,), shape, _dtype_by_numpy(np_fn, (m, k)))

    triangle.__name__ = name
    return triangle


def _check_bounds(op: str, index: Any, size: int) -> None:
    """Indices that have values must lie in [−size, size): NumPy raises, and so do we."""
    if not has_values(index) or np.size(index) == 0:
        return
    low, high = int(np.min(index)), int(np.max(index))
    if low < -size or high >= size:
        bad = low if low < -size else high
        _fail(IndexOutOfBounds, op, f"index {bad} is out of bounds for an axis of size {_named(size)}")


def _take(a: Any, indices: Any, axis: int | None = None, out: Any = None, mode: str = "raise") -> ShapeOnlyArray:
    """a.take(i, axis): the axis replaced by the indices' shape (axis None: a is flattened)."""
    _no_out("take", out)
    index = indices if isinstance(indices, np.ndarray) else np.asarray(indices)
    if index.dtype.kind not in "iu":
        _fail(OperandShapeError, "take", f"indices must be integers, got dtype {index.dtype}")
    if axis is None:
        shape, size = index.shape, a.size
    else:
        ax = _axis("take", axis, a.ndim)
        shape, size = a.shape[:ax] + index.shape + a.shape[ax + 1 :], a.shape[ax]
    if mode == "raise":
        _check_bounds("take", index, size)
    return _result("take", (a, indices), shape, a.dtype)


def _getitem(a: ShapeOnlyArray, key: Any) -> ShapeOnlyArray:
    """x[key]: basic indexing is a NumPy view of the zero-stride array; integer arrays by rule."""
    items = key if isinstance(key, tuple) else (key,)
    if not any(isinstance(k, (np.ndarray, list)) for k in items):
        out = np.ndarray.__getitem__(a, key)
        if not isinstance(out, np.ndarray):  # every axis indexed by an int: a scalar, which has no value
            return _result("getitem", (a,), (), a.dtype, view=True)
        return _result("getitem", (a,), out.shape, a.dtype, view=True)
    return _result("getitem", (a, *items), _advanced_index_shape(a.shape, items), a.dtype)


def _advanced_index_shape(shape: Shape, items: tuple[Any, ...]) -> Shape:
    """NumPy's rule: index arrays (and ints among them) broadcast together; their shape goes where
    they stand if they are adjacent, else in front of the sliced axes."""
    expanded: list[Any] = []
    for k in items:
        if isinstance(k, (bool, np.bool_)):
            _fail(UnsupportedOperation, "getitem", "a bool scalar as an index")
        if isinstance(k, (np.ndarray, list)) and np.asarray(k[:0] if isinstance(k, list) else k).dtype == bool:
            if not has_values(k):
                _fail(ValuesNeeded, "getitem", "a boolean mask index: the result's length is the number of True entries")
            expanded.extend(np.nonzero(k))
        else:
            expanded.append(k)
    consumed = sum(1 for k in expanded if k is not None and k is not Ellipsis)
    if consumed > len(shape):
        _fail(IndexOutOfBounds, "getitem", f"{consumed} indices for an array with {len(shape)} axes")
    if sum(1 for k in expanded if k is Ellipsis) > 1:
        _fail(OperandShapeError, "getitem", "an index can only have a single ellipsis")
    fill = [slice(None)] * (len(shape) - consumed)
    at = next((i for i, k in enumerate(expanded) if k is Ellipsis), len(expanded))
    expanded[at + 1 : at + 1] = fill  # the Ellipsis stays: it separates indices even when it covers no axis
    parts: list[tuple[bool, Shape]] = []  # (advanced?, the axes this index contributes)
    axis = 0
    for k in expanded:
        if k is None or k is Ellipsis:
            parts.append((False, (1,) if k is None else ()))
            continue
        size = shape[axis]
        axis += 1
        if isinstance(k, slice):
            parts.append((False, (len(range(*k.indices(size))),)))
            continue
        index = k if isinstance(k, np.ndarray) else np.asarray(k)
        if index.dtype.kind not in "iu":
            _fail(IndexOutOfBounds, "getitem", f"only integers, slices, None and integer arrays are valid indices, got {index.dtype}")
        _check_bounds("getitem", index, size)
        parts.append((True, index.shape))
    advanced = [i for i, (adv, _) in enumerate(parts) if adv]
    broadcast = _broadcast("getitem", [parts[i][1] for i in advanced])
    if advanced == list(range(advanced[0], advanced[-1] + 1)):
        before = sum((p[1] for p in parts[: advanced[0]]), ())
        after = sum((p[1] for p in parts[advanced[-1] + 1 :]), ())
        return before + broadcast + after
    return broadcast + sum((p[1] for p in parts if not p[0]), ())


def _astype(a: Any, dtype: Any, order: str = "K", casting: Casting = "unsafe", subok: bool = True, copy: bool = True) -> Any:
    target = np.dtype(dtype)
    if not np.can_cast(a.dtype, target, casting):
        _fail(UnsupportedOperation, "astype", f"cannot cast {a.dtype} to {target} under casting={casting!r}")
    if target == a.dtype and not copy:
        return a
    return _result("astype", (a,), a.shape, target)


def _like(name: str, np_fn: Callable[..., Any]) -> Callable[..., ShapeOnlyArray]:
    """np.zeros_like and friends: ``a``'s shape (or ``shape=``), NumPy's dtype."""

    def like(a: Any, *args: Any, shape: Any = None, **kwargs: Any) -> ShapeOnlyArray:
        dtype = _dtype_by_numpy(np_fn, (a, *args), kwargs)
        return _result(name, (a,), a.shape if shape is None else tuple(np.atleast_1d(shape)), dtype)

    like.__name__ = name
    return like


def _creation(name: str, np_fn: Callable[..., Any]) -> Callable[..., ShapeOnlyArray]:
    """np.zeros(shape, like=x) and friends, when ``like`` is shape-only."""

    def create(shape: Any, *args: Any, **kwargs: Any) -> ShapeOnlyArray:
        dtype = _dtype_by_numpy(np_fn, ((), *args), kwargs)
        dims = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        return _result(name, (), dims, dtype)

    create.__name__ = name
    return create


def _broadcast_to(array: Any, shape: Any, subok: bool = False) -> ShapeOnlyArray:
    target = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if _broadcast("broadcast_to", (array.shape, target)) != target:
        _fail(OperandShapeError, "broadcast_to", f"cannot broadcast {array.shape} to {target}")
    return _result("broadcast_to", (array,), target, array.dtype, view=True)


def _result_type(*arrays_and_dtypes: Any) -> np.dtype[Any]:
    return np.result_type(*(x.dtype if isinstance(x, ShapeOnlyArray) else x for x in arrays_and_dtypes))


def _numpy_itself(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Functions NumPy writes in terms of methods this class provides (moveaxis → transpose)."""
    implementation = fn._implementation  # type: ignore[attr-defined]  # NumPy's dispatcher attribute, not in its stubs
    return lambda *args, **kwargs: implementation(*args, **kwargs)


@functools.lru_cache(maxsize=None)
def _ufunc_reduction(ufunc: np.ufunc) -> Callable[..., ShapeOnlyArray]:
    """np.add.reduce(x, axis) and the like."""
    return _reduction(ufunc.__name__, ufunc.reduce)


_REDUCTIONS = {
    name: _reduction(name, getattr(np, name))
    for name in ("sum", "prod", "max", "min", "amax", "amin", "mean", "var", "std", "any", "all", "argmax", "argmin")
}

_FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {
    **{getattr(np, name): rule for name, rule in _REDUCTIONS.items()},
    np.einsum: _einsum,
    np.transpose: _transpose,
    np.swapaxes: _swapaxes,
    np.reshape: _reshape,
    np.split: _splitter("split", equal=True),
    np.array_split: _splitter("array_split", equal=False),
    np.concatenate: _concatenate,
    np.stack: _stack,
    np.where: _where,
    np.tril: _triangle("tril", np.tril),
    np.triu: _triangle("triu", np.triu),
    np.take: _take,
    np.astype: lambda x, dtype, /, *, copy=True, device=None: _astype(x, dtype, copy=copy),
    np.copy: lambda a, order="K", subok=False: _result("copy", (a,), a.shape, a.dtype),
    np.broadcast_to: _broadcast_to,
    np.result_type: _result_type,
    np.shape: lambda a: a.shape,
    np.ndim: lambda a: a.ndim,
    np.size: lambda a, axis=None: a.size if axis is None else a.shape[axis],
    **{getattr(np, f"{n}_like"): _like(f"{n}_like", getattr(np, f"{n}_like")) for n in ("zeros", "ones", "empty", "full")},
    **{getattr(np, n): _creation(n, getattr(np, n)) for n in ("zeros", "ones", "empty", "full")},
    **{fn: _numpy_itself(fn) for fn in (np.moveaxis, np.expand_dims, np.squeeze, np.atleast_1d, np.atleast_2d, np.clip)},
}

SUPPORTED_FUNCTIONS = tuple(sorted({getattr(f, "__name__", str(f)) for f in _FUNCTIONS}))
"""The NumPy functions shape-only arrays implement (besides every elementwise ufunc and matmul)."""


# ---------------------------------------------------------------------------------------------
# The array class


_NOT_SUPPORTED = "not supported on shape-only arrays (they refuse rather than compute on values they lack)"


def _values_needed(what: str) -> Callable[..., NoReturn]:
    def refuse(self: ShapeOnlyArray, *args: Any, **kwargs: Any) -> NoReturn:
        _fail(ValuesNeeded, what, f"needs the values of {self!r}, which has none")

    return refuse


def _unsupported(what: str) -> Callable[..., NoReturn]:
    def refuse(self: ShapeOnlyArray, *args: Any, **kwargs: Any) -> NoReturn:
        _fail(UnsupportedOperation, what, _NOT_SUPPORTED)

    return refuse


class ShapeOnlyArray(np.ndarray):
    """An ndarray with a shape and a dtype but no values (see the module docstring)."""

    _gptspec_shape_only = True

    def __repr__(self) -> str:
        return f"shape_only({self.shape}, {self.dtype})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        if spec:
            _fail(ValuesNeeded, "format", f"formatting {self!r} with {spec!r} needs a value")
        return repr(self)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        _no_out(ufunc.__name__, kwargs.pop("out", None))
        if kwargs.get("where", True) is not True:
            _fail(UnsupportedOperation, ufunc.__name__, "where= on a ufunc")
        if method == "__call__":
            return _ufunc_call(ufunc, inputs, kwargs)
        if method == "reduce":
            return _ufunc_reduction(ufunc)(*inputs, **kwargs)
        _fail(UnsupportedOperation, f"{ufunc.__name__}.{method}", _NOT_SUPPORTED)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        rule = _FUNCTIONS.get(func)
        if rule is None:
            module = func.__module__.replace("numpy", "np", 1) if func.__module__ else "np"
            _fail(UnsupportedOperation, f"{module}.{func.__name__}", _NOT_SUPPORTED)
        return rule(*args, **kwargs)

    # views and shape changes
    @property
    def T(self) -> ShapeOnlyArray:
        return _transpose(self)

    @property
    def mT(self) -> ShapeOnlyArray:
        return _swapaxes(self, -1, -2)

    def transpose(self, *axes: Any) -> ShapeOnlyArray:
        one = len(axes) == 1 and (axes[0] is None or isinstance(axes[0], Sequence))
        return _transpose(self, (axes[0] if one else axes) or None)

    # The overrides below narrow ndarray's overloaded stubs (which return ndarray and accept forms
    # NumPy's own functions never pass here) to what this class returns: hence the ignores.
    def swapaxes(self, axis1: int, axis2: int) -> ShapeOnlyArray:  # type: ignore[override]
        return _swapaxes(self, axis1, axis2)

    def reshape(self, *shape: Any, order: str = "C", copy: bool | None = None) -> ShapeOnlyArray:  # type: ignore[override]
        one = len(shape) == 1 and isinstance(shape[0], Sequence)
        return _reshape(self, shape[0] if one else shape, order, copy=copy)

    def ravel(self, order: str = "C") -> ShapeOnlyArray:  # type: ignore[override]
        return _reshape(self, (-1,), order)

    def flatten(self, order: str = "C") -> ShapeOnlyArray:  # type: ignore[override]
        return _reshape(self, (-1,), order, copy=True)

    def __getitem__(self, key: Any) -> ShapeOnlyArray:
        return _getitem(self, key)

    # new arrays
    def astype(self, dtype: Any, order: str = "K", casting: Casting = "unsafe", subok: bool = True, copy: bool = True) -> Any:  # type: ignore[override]
        return _astype(self, dtype, order, casting, subok, copy)

    def copy(self, order: str = "C") -> ShapeOnlyArray:  # type: ignore[override]
        return _result("copy", (self,), self.shape, self.dtype)

    def take(self, indices: Any, axis: int | None = None, out: Any = None, mode: str = "raise") -> ShapeOnlyArray:  # type: ignore[override]
        return _take(self, indices, axis, out, mode)

    # what needs values
    __bool__ = _values_needed("the truth value")
    __int__ = _values_needed("int()")
    __float__ = _values_needed("float()")
    __complex__ = _values_needed("complex()")
    __index__ = _values_needed("use as an index")
    __contains__ = _values_needed("'in'")
    __setitem__ = _unsupported("assignment into an array")
    __dlpack__ = _unsupported("__dlpack__")

    @property
    def flat(self) -> NoReturn:
        _fail(ValuesNeeded, "flat", "iterating over the elements of a shape-only array needs values")

    @property
    def imag(self) -> NoReturn:
        _fail(UnsupportedOperation, "imag", _NOT_SUPPORTED)

    @imag.setter
    def imag(self, value: Any) -> NoReturn:
        _fail(UnsupportedOperation, "imag", _NOT_SUPPORTED)


for _name, _rule in _REDUCTIONS.items():
    if hasattr(np.ndarray, _name):
        setattr(ShapeOnlyArray, _name, lambda self, *a, _rule=_rule, **k: _rule(self, *a, **k))

_VIEWS_AND_METADATA = {"view", "squeeze", "diagonal", "clip", "setflags", "conj", "conjugate", "to_device", "__array_namespace__"}
_VALUE_METHODS = {"item", "tolist", "tobytes", "tofile", "dump", "dumps", "searchsorted", "nonzero"}

for _name in dir(np.ndarray):
    if _name.startswith("_") or _name in ShapeOnlyArray.__dict__ or _name in _VIEWS_AND_METADATA:
        continue
    if callable(getattr(np.ndarray, _name)):
        _refuse = _values_needed(_name) if _name in _VALUE_METHODS else _unsupported(f"ndarray.{_name}")
        setattr(ShapeOnlyArray, _name, _refuse)
