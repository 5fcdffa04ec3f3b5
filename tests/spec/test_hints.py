"""What a spec annotation means: gptspec.spec.hints answers every question about a hint once."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import pathlib

import numpy as np
import pytest
from jaxtyping import Bool, Float, Int, Shaped

from gptspec.spec import GPT3, BlockWeights, Config, ShapeError, SpecError, Weights, hints, signatures as S, types as T

ODD = Config(vocab=17, d_model=10, n_heads=3, d_head=4, n_ctx=8, n_layers=2, d_mlp=7, name="odd")


def test_array_hints_and_the_rest():
    assert hints.is_array(T.Embeddings) and hints.is_array(T.AnyFloat) and hints.is_array(T.Mask)
    for hint in (float, int, bool, np.random.Generator, Weights, BlockWeights, tuple[BlockWeights, ...], None):
        assert not hints.is_array(hint) and hints.array(hint) is None
    assert not hints.is_array(Float)  # the dtype alone is no array type


def test_dims_of_every_kind():
    parsed = hints.array(Float[np.ndarray, "d_model 3 n_heads*d_head _ *batch"])
    assert parsed is not None
    assert [a.kind for a in parsed.dims] == ["named", "fixed", "sym", "any", "var"]
    named, fixed, sym, _, var = parsed.dims
    assert (named.name, fixed.size, var.name) == ("d_model", 3, "batch")
    assert (sym.name, sym.names) == ("n_heads*d_head", ("n_heads", "d_head"))
    assert parsed.variadic and parsed.split == 4
    anonymous = hints.array(Float[np.ndarray, "... d_model"])
    assert anonymous is not None and anonymous.dims[0].kind == "anyvar" and anonymous.split == 0
    assert hints.dims(T.OutputMatrix) == ("d_model", "n_heads*d_head")
    assert hints.dim_text(T.OutputMatrix) == "d_model n_heads*d_head"


def test_number_of_axes():
    assert hints.n_axes(T.StackedQueryMatrix) == 3
    assert hints.n_axes(T.Tokens) == 1
    assert hints.n_axes(T.AnyFloat) is None  # variadic: any number
    assert hints.n_axes(float) is None


def test_dtype_kinds_and_how_they_read():
    kinds = [hints.dtype_kind(h) for h in (T.Embeddings, T.Tokens, T.Mask, Shaped[np.ndarray, "ctx"])]
    assert kinds == ["f", "iu", "b", "biufc"]
    assert hints.array(T.Tokens).describe() == "integer[ctx]"  # type: ignore[union-attr]
    assert hints.show(T.Embeddings) == "Float[d_model ctx]"
    assert hints.show(Bool[np.ndarray, "ctx ctx"]) == "Bool[ctx ctx]"
    assert hints.show(float) == "float" and hints.show(Weights) == "Weights"


def test_shapes_under_a_config_evaluate_symbolic_dims():
    # d_model 10 differs from n_heads·d_head 12: a shape that confused them would fail
    assert hints.shape_for(T.OutputMatrix, ODD) == (10, 12)
    assert hints.shape_for(T.Scores, ODD, ctx=3, ctx_k=5) == (5, 3)
    assert hints.shape_for(T.Embeddings, GPT3) == (12288, 2048)  # ctx defaults to n_ctx
    assert hints.shape(Int[np.ndarray, "2 vocab"], hints.dim_sizes(ODD, 1)) == (2, 17)
    with pytest.raises(ShapeError):
        hints.shape_for(T.AnyFloat, ODD)  # a variadic hint has no one shape
    with pytest.raises(SpecError):
        hints.shape_for(float, ODD)


@pytest.mark.parametrize("text", ["open(d_model)", "d_model.real", "d_model<2", "n_heads*1.5", "[d_model][0]"])
def test_a_symbolic_dim_is_integer_arithmetic_on_names_or_refused(text):
    with pytest.raises(SpecError, match="not integer arithmetic"):
        hints.array(Float[np.ndarray, f"d_model {text}"])


def test_a_plan_is_the_signature_with_its_hints():
    plan = hints.Plan.of(S.multi_head_attention)
    assert plan is hints.Plan.of("multi_head_attention")  # by function or by name, compiled once
    assert plan.names == ("E", "W_Q", "W_K", "W_V_down", "W_O", "causal")
    stacked = (T.StackedQueryMatrix, T.StackedKeyMatrix, T.StackedValueDown)
    assert plan.hints == (T.Embeddings, *stacked, T.OutputMatrix, bool)
    assert plan.result is T.DeltaE and plan.hint("return") is T.DeltaE and plan.hint("W_O") is T.OutputMatrix
    assert plan.defaults[-1] is True and plan.defaults[0] is inspect.Parameter.empty


def test_a_plan_binds_arguments_as_python_would():
    plan = hints.Plan.of(S.softmax)
    x = np.zeros(3)
    assert list(plan.arguments((x,), {"axis": 0})) == [x, 1.0, 0]
    assert plan.positional((x,), {"axis": 0}) == [x, 1.0, 0]
    assert plan.positional((x,), {"temperature": 2.0}) == [x, 2.0]  # the user's own defaults apply after
    with pytest.raises(TypeError, match=r"softmax\(\) got an unexpected keyword argument 'dim'"):
        plan.arguments((x,), {"dim": 0})
    with pytest.raises(TypeError, match=r"softmax\(\) missing required argument 'x'"):
        plan.arguments((), {"axis": 0})


def test_fields_of_the_containers():
    fields = hints.fields(Weights)
    assert [f.name for f in fields] == [f.name for f in dataclasses.fields(Weights)]
    blocks = next(f for f in fields if f.name == "blocks")
    assert blocks.item is BlockWeights
    assert all(f.item is None and hints.is_array(f.hint) for f in hints.fields(BlockWeights))
    assert hints.is_struct(Weights) and not hints.is_struct(T.Embeddings) and not hints.is_struct(Weights(*[None] * 6))


def test_build_follows_the_fields_and_shapes():
    seen = []

    def leaf(name, hint):
        seen.append(name)
        return np.zeros(hints.shape_for(hint, ODD, 1))

    w = hints.build(Weights, leaf, ODD.n_layers)
    assert isinstance(w, Weights) and len(w.blocks) == 2 and isinstance(w.blocks[1], BlockWeights)
    assert w.blocks[0].W_O.shape == (10, 12) and w.W_pos.shape == (10, 8)
    block = [f.name for f in hints.fields(BlockWeights)]
    assert seen == ["W_E", "W_pos", *block, *block, "lnf_gain", "lnf_bias", "W_U"]  # field order, depth first


def test_map_struct_reaches_every_leaf_with_its_hint():
    w = hints.build(Weights, lambda name, hint: np.zeros(hints.shape_for(hint, ODD, 1)), ODD.n_layers)
    seen = []
    out = hints.map_struct(w, Weights, lambda v, h: seen.append(h) or np.ones(1))
    assert len(seen) == 5 + 12 * 2 and T.OutputMatrix in seen
    assert isinstance(out, Weights) and isinstance(out.blocks, tuple) and out.blocks[1].W_O.shape == (1,)
    assert hints.map_struct([1, 2], tuple[int, ...], lambda v, h: (v, h)) == ((1, int), (2, int))
    assert hints.map_struct(3, float, lambda v, h: (v, h)) == (3, float)


def test_map_struct_without_a_hint_walks_the_value():
    w = hints.build(BlockWeights, lambda name, hint: np.zeros(hints.shape_for(hint, ODD, 1)), 1)
    out = hints.map_struct((np.zeros(2), w, 3), None, lambda v, h: (type(v).__name__, h))
    assert out[0] == ("ndarray", None) and out[2] == ("int", None)
    assert out[1].W_O == ("ndarray", T.OutputMatrix)


def test_struct_mapper_gives_what_map_struct_gives_with_each_hint_read_once():
    w = hints.build(Weights, lambda name, hint: np.zeros(hints.shape_for(hint, ODD, 1)), ODD.n_layers)
    asked = []

    def leaf_for(hint):
        asked.append(hint)
        return lambda v: (hints.dim_text(hint) if hints.is_array(hint) else hint, getattr(v, "shape", v))

    mapper = hints.struct_mapper(Weights, leaf_for)
    asked_at_build = len(asked)
    for _ in range(3):
        assert mapper(w) == hints.map_struct(w, Weights, lambda v, h: leaf_for(h)(v))
    assert len(asked) == asked_at_build + 3 * 29  # map_struct asks per leaf per call; the mapper never again
    assert hints.struct_mapper(tuple[int, ...], leaf_for)([1, 2]) == ((int, 1), (int, 2))
    assert hints.struct_mapper(Weights, leaf_for)("not a container") == (Weights, "not a container")
    walked = hints.struct_mapper(None, leaf_for)((np.zeros(2), 3))
    assert walked == hints.map_struct((np.zeros(2), 3), None, lambda v, h: leaf_for(h)(v))


def test_no_other_module_reads_jaxtyping_or_typing_hints():
    """The one place: every other module asks this one."""
    src = pathlib.Path(hints.__file__).parents[1]
    readers = []
    for path in sorted(src.rglob("*.py")):
        names = {n.attr if isinstance(n, ast.Attribute) else n.id for n in ast.walk(ast.parse(path.read_text()))
                 if isinstance(n, (ast.Attribute, ast.Name))}
        if names & {"get_type_hints", "dim_str", "_NamedDim", "_SymbolicDim", "_FixedDim"}:
            readers.append(path.relative_to(src).as_posix())
    assert readers == ["spec/hints.py"]
