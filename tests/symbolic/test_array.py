"""Every supported operation gives exactly the shape and dtype NumPy gives on real arrays.

Each property draws small real arrays, runs an operation on them and on shape-only twins, and
requires the same shape and dtype — or, when NumPy raises, that the shape-only run raises too.
"""

from __future__ import annotations

import operator
import re

import numpy as np
import pytest
from beartype import beartype
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from jaxtyping import Float, jaxtyped

from gptspec import SpecError
from gptspec.spec import has_values
from gptspec.symbolic import (
    OperandShapeError,
    ShapeOnlyArray,
    UnsupportedOperation,
    ValuesNeeded,
    shape_only,
    tri,
)

DTYPES = [np.bool_, np.uint8, np.int32, np.int64, np.float16, np.float32, np.float64]
dtypes = st.sampled_from(DTYPES)
floats = st.sampled_from([np.float16, np.float32, np.float64])
shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4)
nonscalar = hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4)
python_scalars = st.one_of(st.integers(-3, 3), st.floats(-2, 2, allow_nan=False), st.booleans())


def real(shape, dtype):
    return np.ones(shape, dtype)


def twin(x):
    """The shape-only twin of a real array; anything else is passed as it is."""
    return shape_only(x.shape, x.dtype) if isinstance(x, np.ndarray) else x


def twins(values, keep_real=()):
    """Shape-only twins of ``values``, except the positions in ``keep_real`` (mixed operands)."""
    return [v if i in keep_real else twin(v) for i, v in enumerate(values)]


mixed = st.sampled_from([(), (0,), (1,)])  # all shape-only, or one operand left real


def outcome(fn, *args, **kwargs):
    """('ok', shape, dtype) of fn's result(s), or ('raises',)."""
    try:
        with np.errstate(all="ignore"):
            out = fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - any exception NumPy raises counts
        return ("raises", exc)
    outs = out if isinstance(out, (tuple, list)) else [out]
    return ("ok", [(np.shape(o), np.result_type(o)) for o in outs])


def assert_same(fn, real_args, symbolic_args=None, **kwargs):
    """fn on shape-only twins has NumPy's shapes and dtypes, and raises where NumPy raises."""
    expected = outcome(fn, *real_args, **kwargs)
    got = outcome(fn, *(twins(real_args) if symbolic_args is None else symbolic_args), **kwargs)
    if expected[0] == "raises":
        assert got[0] == "raises", f"NumPy raised {expected[1]!r}, shape-only gave {got}"
        return
    assert got[0] == "ok", f"shape-only raised {got[1]!r}, NumPy gave {expected[1]}"
    assert got[1] == expected[1]


# ---------------------------------------------------------------------------------------------
# Elementwise ufuncs and operators

BINARY = [
    np.add, np.subtract, np.multiply, np.true_divide, np.power, np.maximum, np.greater, np.equal,
    np.logical_and, np.arctan2, operator.add, operator.sub, operator.mul, operator.truediv,
    operator.pow, operator.lt, operator.ge,
]
UNARY = [np.exp, np.tanh, np.sqrt, np.negative, np.abs, np.isnan, np.isfinite, np.log, np.square, np.logical_not]


@given(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=4), dtypes, dtypes, st.sampled_from(BINARY), mixed)
def test_binary_ufuncs_broadcast_with_numpys_dtype(shapes2, dt1, dt2, op, keep_real):
    a, b = (real(s, dt) for s, dt in zip(shapes2.input_shapes, (dt1, dt2)))
    assert_same(op, [a, b], twins([a, b], keep_real))


@given(shapes, dtypes, python_scalars, st.sampled_from(BINARY), st.booleans())
def test_python_scalars_are_weak_as_in_nep_50(shape, dtype, scalar, op, scalar_first):
    a = real(shape, dtype)
    assert_same(op, [scalar, a] if scalar_first else [a, scalar])


@given(shapes, dtypes, st.sampled_from(UNARY))
def test_unary_ufuncs(shape, dtype, op):
    assert_same(op, [real(shape, dtype)])


def test_ufunc_with_two_outputs():
    assert_same(np.divmod, [real((2, 3), np.float32), 2.0])


# ---------------------------------------------------------------------------------------------
# matmul and einsum


@st.composite
def matmul_operands(draw):
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3))
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    k_b = draw(st.one_of(st.just(k), st.integers(1, 4)))  # sometimes mismatched: both must raise
    sa, sb = batch.input_shapes[0] + (n, k), batch.input_shapes[1] + (k_b, m)
    if not batch.input_shapes[0] and draw(st.booleans()):
        sa = (k,)
    if not batch.input_shapes[1] and draw(st.booleans()):
        sb = (k_b,)
    return real(sa, draw(dtypes)), real(sb, draw(dtypes))


@given(matmul_operands(), st.sampled_from([np.matmul, operator.matmul]), mixed)
def test_matmul_batched_and_1d(operands, op, keep_real):
    assert_same(op, list(operands), twins(operands, keep_real))


EINSUM = [
    "ij,jk->ik", "hij,hjk->hik", "ij->ji", "ii->i", "ij,ij->", "ij,jk", "ij->", "hdc,dm->hcm",
    "...ij,...jk->...ik", "bhqd,bhkd->bhqk", "i,j->ij", "...i->i...",
]


@given(st.sampled_from(EINSUM), st.dictionaries(st.sampled_from("ijkhdcmbq"), st.integers(1, 4)), shapes, dtypes, dtypes)
def test_einsum(subscripts, sizes, ellipsis, dt1, dt2):
    terms = subscripts.split("->")[0].split(",")

    def shape_of(term):
        left, dots, right = term.partition("...")
        return tuple(sizes.get(c, 2) for c in left) + (ellipsis[:2] if dots else ()) + tuple(sizes.get(c, 2) for c in right)

    arrays = [real(shape_of(t), dt) for t, dt in zip(terms, (dt1, dt2))]
    assert_same(np.einsum, [subscripts, *arrays])


def test_einsum_mismatched_labels_name_the_sizes():
    with pytest.raises(OperandShapeError, match="label 'j' is 3 in one operand, 4 in another"):
        np.einsum("ij,jk->ik", shape_only((2, 3)), shape_only((4, 5)))


# ---------------------------------------------------------------------------------------------
# Views and shape changes


@given(st.data(), nonscalar, dtypes)
def test_transpose_T_swapaxes_moveaxis(data, shape, dtype):
    x = real(shape, dtype)
    nd = len(shape)
    perm = data.draw(st.permutations(range(nd)))
    i, j = data.draw(st.integers(-nd, nd - 1)), data.draw(st.integers(-nd, nd - 1))
    assert_same(np.transpose, [x, perm])
    assert_same(lambda a: a.transpose(*perm), [x])
    assert_same(lambda a: a.T, [x])
    assert_same(np.swapaxes, [x, i, j])
    assert_same(np.moveaxis, [x, i, j])
    if nd >= 2:
        assert_same(lambda a: a.mT, [x])


@given(st.data(), shapes, dtypes)
def test_reshape(data, shape, dtype):
    x = real(shape, dtype)
    new = list(data.draw(st.permutations(shape)))
    if new and data.draw(st.booleans()):
        new[data.draw(st.integers(0, len(new) - 1))] = -1
    new.insert(data.draw(st.integers(0, len(new))), data.draw(st.sampled_from([1, 1, 2])))  # 2: must raise unless it fits
    assert_same(np.reshape, [x, tuple(new)])
    assert_same(lambda a: a.reshape(*new), [x])
    assert_same(lambda a: a.ravel(), [x])
    assert_same(np.expand_dims, [x, 0])


@given(st.data(), nonscalar, dtypes)
def test_split_and_array_split(data, shape, dtype):
    x = real(shape, dtype)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    sections = data.draw(st.one_of(st.integers(1, 5), st.lists(st.integers(-5, 5), max_size=3)))
    assert_same(np.split, [x, sections, axis])
    assert_same(np.array_split, [x, sections, axis])


@given(st.data(), shapes, dtypes)
def test_the_smaller_functions(data, shape, dtype):
    x = real(shape, dtype)
    target = np.broadcast_shapes(shape, data.draw(hnp.broadcastable_shapes(shape, max_dims=4, max_side=4)))
    assert_same(np.broadcast_to, [x, target])
    assert_same(np.squeeze, [x])
    assert_same(np.atleast_2d, [x])
    assert_same(np.clip, [x, 0, 1])
    assert_same(np.full_like, [x, 7])
    assert_same(np.copy, [x])
    assert_same(lambda a: a.copy(), [x])
    assert (np.shape(twin(x)), np.ndim(twin(x)), np.size(twin(x))) == (np.shape(x), np.ndim(x), np.size(x))
    assert np.result_type(twin(x), 1.5) == np.result_type(x, 1.5)


@st.composite
def joinable(draw, same_shape):
    base = list(draw(nonscalar))
    axis = draw(st.integers(-len(base), len(base) - 1))
    arrays = []
    for _ in range(draw(st.integers(1, 3))):
        shape = list(base)
        if not same_shape:
            shape[axis] = draw(st.integers(1, 3))
        arrays.append(real(tuple(shape), draw(dtypes)))
    return arrays, axis


@given(joinable(same_shape=False))
def test_concatenate(arrays_axis):
    arrays, axis = arrays_axis
    assert_same(lambda *xs: np.concatenate(xs, axis=axis), arrays)
    assert_same(lambda *xs: np.concatenate(xs, axis=None), arrays)


@given(joinable(same_shape=True), st.integers(-5, 4))
def test_stack(arrays_axis, axis):
    arrays, _ = arrays_axis
    assert_same(lambda *xs: np.stack(xs, axis=axis), arrays)


# ---------------------------------------------------------------------------------------------
# where, triangles, reductions, astype


@given(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3), dtypes, dtypes, st.booleans(), python_scalars)
def test_where(shapes3, dt_x, dt_y, scalar_y, y_scalar):
    cond, x, y = (real(s, dt) for s, dt in zip(shapes3.input_shapes, (np.bool_, dt_x, dt_y)))
    assert_same(np.where, [cond, x, y_scalar if scalar_y else y])
    assert_same(np.where, [cond, x, -np.inf], [cond, twin(x), -np.inf])  # a real mask, as causal attention has


@given(nonscalar, dtypes, st.integers(-3, 3), st.sampled_from([np.tril, np.triu]))
def test_tril_triu(shape, dtype, k, fn):
    assert_same(fn, [real(shape, dtype), k])


@given(st.integers(1, 5), st.one_of(st.none(), st.integers(1, 5)), st.integers(-2, 2), dtypes)
def test_tri(n, m, k, dtype):
    got, expected = tri(n, m, k, dtype), np.tri(n, m, k, dtype)
    assert (got.shape, got.dtype) == (expected.shape, expected.dtype)


REDUCTIONS = ["sum", "mean", "var", "std", "max", "min", "prod", "any", "all"]


@given(st.data(), shapes, dtypes, st.sampled_from(REDUCTIONS), st.booleans(), st.booleans())
def test_reductions_with_axis_and_keepdims(data, shape, dtype, name, keepdims, as_method):
    nd = len(shape)
    axis = data.draw(st.one_of(
        st.none(),
        st.integers(-nd, nd - 1) if nd else st.none(),
        st.lists(st.integers(0, nd - 1), unique=True).map(tuple) if nd else st.none(),
    ))
    x = real(shape, dtype)
    if as_method:
        assert_same(lambda a: getattr(a, name)(axis=axis, keepdims=keepdims), [x])
    else:
        assert_same(getattr(np, name), [x], axis=axis, keepdims=keepdims)


@given(st.data(), nonscalar, dtypes, st.sampled_from(["argmax", "argmin"]), st.booleans())
def test_argmax_argmin(data, shape, dtype, name, keepdims):
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    assert_same(getattr(np, name), [real(shape, dtype)], axis=axis, keepdims=keepdims)


@given(shapes, dtypes, st.sampled_from([np.add, np.maximum, np.multiply]), st.booleans())
def test_ufunc_reduce(shape, dtype, ufunc, keepdims):
    assume(shape)
    assert_same(lambda a: ufunc.reduce(a, axis=-1, keepdims=keepdims), [real(shape, dtype)])


@given(shapes, dtypes, dtypes, st.booleans())
def test_astype(shape, dtype, to, copy):
    assert_same(lambda a: a.astype(to, copy=copy), [real(shape, dtype)])
    assert_same(lambda a: np.astype(a, to), [real(shape, dtype)])


@given(shapes, dtypes, st.one_of(st.none(), dtypes), st.sampled_from(["zeros", "ones", "empty"]))
def test_like_and_creation(shape, dtype, to, kind):
    x = real(shape, dtype)
    assert_same(getattr(np, f"{kind}_like"), [x], dtype=to)
    created, expected = getattr(np, kind)(shape, dtype=to, like=twin(x)), getattr(np, kind)(shape, dtype=to)
    assert isinstance(created, ShapeOnlyArray)
    assert (created.shape, created.dtype) == (expected.shape, expected.dtype)


# ---------------------------------------------------------------------------------------------
# take and indexing by token ids


@st.composite
def index_arrays(draw, size):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    return draw(hnp.arrays(np.int64, shape, elements=st.integers(-size, size - 1)))


@given(st.data(), nonscalar, dtypes, st.booleans())
def test_take(data, shape, dtype, shape_only_indices):
    x = real(shape, dtype)
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    size = x.size if axis is None else shape[axis]
    indices = data.draw(index_arrays(size))
    assert_same(np.take, [x, indices], [twin(x), twin(indices) if shape_only_indices else indices], axis=axis)
    assert_same(lambda a, i: a.take(i, axis=axis), [x, indices])


@st.composite
def index_keys(draw, shape):
    """A key mixing slices, ints, integer arrays, None and at most one Ellipsis (between the
    indices of the leading axes and those of the trailing axes)."""

    def index(n):
        kind = draw(st.sampled_from(["slice", "int", "array", "array"]))
        if kind == "slice":
            bound = st.one_of(st.none(), st.integers(-n - 1, n + 1))
            return slice(draw(bound), draw(bound), draw(st.sampled_from([None, 1, 2, -1])))
        if kind == "int":
            return draw(st.integers(-n, n - 1))
        return draw(index_arrays(n))

    def with_newaxes(items):
        return [k for item in items for k in ([None] if draw(st.integers(0, 5)) == 0 else []) + [item]]

    n_front = draw(st.integers(0, len(shape)))
    front = with_newaxes([index(n) for n in shape[:n_front]])
    if not draw(st.booleans()):
        return tuple(front)
    n_back = draw(st.integers(0, len(shape) - n_front))
    back = with_newaxes([index(n) for n in shape[len(shape) - n_back :]])
    return (*front, Ellipsis, *back)


@given(st.data(), nonscalar, dtypes, st.booleans())
def test_indexing_basic_and_by_integer_arrays(data, shape, dtype, shape_only_indices):
    x = real(shape, dtype)
    key = data.draw(index_keys(shape))
    symbolic_key = tuple(twin(k) if shape_only_indices else k for k in key)
    assert_same(lambda a, k: a[k], [x, key], [twin(x), symbolic_key])


def test_embedding_lookup_by_token_ids_at_gpt3_size():
    W_E, tokens = shape_only((12288, 50257)), shape_only((2048,), np.int64)
    assert W_E[:, tokens].shape == (12288, 2048)
    assert W_E.T[tokens].shape == (2048, 12288)


def test_real_token_ids_out_of_range_are_refused():
    with pytest.raises(IndexError, match="index 7 is out of bounds for an axis of size 5"):
        shape_only((3, 5))[:, np.array([0, 7])]


def test_real_boolean_mask_index_uses_its_values():
    mask = np.array([True, False, True, True])
    assert shape_only((4, 2))[mask].shape == (3, 2)


# ---------------------------------------------------------------------------------------------
# What shape-only arrays refuse


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda x: bool(x.any()), "the truth value"),
        (lambda x: int(x[0, 0]), "int()"),
        (lambda x: float(x.sum()), "float()"),
        (lambda x: x.item(), "item"),
        (lambda x: x.tolist(), "tolist"),
        (lambda x: x[x > 0], "getitem"),
        (lambda x: np.where(x > 0), "where"),
        (lambda x: f"{x.max():.3f}", "format"),
    ],
)
def test_what_needs_values_is_refused_by_name(call, name):
    with pytest.raises(ValuesNeeded, match=f"^{re.escape(name)}: "):
        call(shape_only((3, 4)))


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda x: np.sort(x), "np.sort"),
        (lambda x: np.linalg.norm(x), "np.linalg.norm"),
        (lambda x: np.cumsum(x), "np.cumsum"),
        (lambda x: np.add.accumulate(x), "add.accumulate"),
        (lambda x: x.dot(x.T), "ndarray.dot"),
        (lambda x: x.argsort(), "ndarray.argsort"),
        (lambda x: np.add(x, 1, out=x), "add"),
        (lambda x: np.vecdot(x, x), "vecdot"),
        (lambda x: x.imag, "imag"),
        (lambda x: setattr(x, "imag", 0), "imag"),
    ],
)
def test_unsupported_operations_are_refused_by_name(call, name):
    with pytest.raises(UnsupportedOperation, match=f"^{re.escape(name)}: "):
        call(shape_only((3, 4)))


def test_in_place_operators_are_refused():
    x = shape_only((3, 4))
    with pytest.raises(UnsupportedOperation, match="read-only"):
        x += 1


def test_mismatched_matmul_names_the_config_dims():
    from gptspec import GPT3, bind

    with bind(GPT3), pytest.raises(OperandShapeError, match=r"12288 \(d_model\) vs 2048 \(n_ctx\)"):
        shape_only((128, 12288)) @ shape_only((2048, 12288))


def test_errors_are_spec_errors_and_builtin_errors():
    assert issubclass(UnsupportedOperation, (SpecError, TypeError))
    assert issubclass(ValuesNeeded, (SpecError, ValueError))
    assert issubclass(OperandShapeError, (SpecError, ValueError))


# ---------------------------------------------------------------------------------------------
# What the checkers see


def test_one_element_of_storage_behind_a_full_size_array():
    x = shape_only((96, 2048, 2048))
    assert isinstance(x, np.ndarray) and x.nbytes == 96 * 2048 * 2048 * 4
    assert x.strides == (0, 0, 0) and x.base.nbytes == 4
    assert not x.flags.writeable
    assert not has_values(x) and has_values(np.zeros(3))
    assert repr(x) == "shape_only((96, 2048, 2048), float32)"


def test_jaxtyping_and_beartype_check_shape_only_arrays_at_full_size():
    @jaxtyped(typechecker=beartype)
    def project(W: Float[np.ndarray, "d_head d_model"], E: Float[np.ndarray, "d_model ctx"]) -> Float[np.ndarray, "d_head ctx"]:
        return W @ E

    assert project(shape_only((128, 12288)), shape_only((12288, 2048))).shape == (128, 2048)
    with pytest.raises(Exception, match="d_model"):
        project(shape_only((128, 12288)), shape_only((2048, 12288)))
