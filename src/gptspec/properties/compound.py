"""Examples made of many tensors: weights containers, one head, several heads, a whole model, the
arguments of any spec function, and batched attention in SDPA's layout.

Each is built from the draws of :mod:`.draws` (configs, dtypes, magnitudes, arrays), with its
shapes read from the spec (the containers' and functions' annotations, :mod:`gptspec.spec.hints`).
A weights container is drawn as a :class:`Recipe` (seed, kind, magnitude), not number by number.
Everything here is importable from :mod:`.strategies` as before.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from hypothesis import strategies as st

from ..spec import BlockWeights, Config, Weights
from ..spec import hints
from . import domain
from .coded import UNIT, arrays, integers
from .draws import (
    _SHAPES, CONFIG_FIELDS, _reused, config_fields, configs, dtypes, magnitudes, sample_temperatures, temperatures,
    tokens,
)

__all__ = ["Recipe", "BIASES", "declared_variants", "recipes", "block_weights", "weights", "Head", "MultiHead", "Model",
           "multi_heads", "heads", "models", "arguments", "Batched", "batched_inputs"]


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How a weights container is drawn: seeded values of one kind, times a magnitude.

    A container holds hundreds of numbers; drawing each through Hypothesis would cost ~1 ms per
    array, so the search draws the recipe (seed, kind, magnitude), which shrinks towards seed 0,
    integers and unit scale, and NumPy fills the arrays from it.
    """

    seed: int
    kind: str  # "integers": −3..3; "floats": uniform in [−4, 4)
    magnitude: float

    def __str__(self) -> str:
        return f"{self.kind} from seed {self.seed} × {self.magnitude:g}"

    def build(self, cls: type, config: Config, dtype: np.dtype) -> Any:
        """A ``cls`` container (Weights, BlockWeights) for ``config``, every field at its annotated
        shape; inside a declared ``tied-embeddings``, W_U = W_Eᵀ, and under ``no-bias`` every bias 0."""
        return declared_variants(_fill(cls, config, dtype, self, np.random.default_rng(self.seed)))

    def values(self, rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        base = rng.integers(-3, 4, shape) if self.kind == "integers" else rng.uniform(-4, 4, shape)
        return (base * self.magnitude).astype(dtype)


BIASES = ("ln1_bias", "ln2_bias", "b_up", "b_down", "lnf_bias", "bias")
"""The bias fields of the weights containers and of the spec's functions (zero under ``no-bias``)."""


def declared_variants(value: Any) -> Any:
    """``value`` (a weights container, or a tuple of arguments) as the declared variants allow it:
    ``tied-embeddings`` W_U = W_Eᵀ, ``no-bias`` every bias zero."""
    within = domain.current().domain
    if isinstance(value, (Weights, BlockWeights)):
        changes: dict[str, Any] = {}
        if within.has(domain.NO_BIAS):
            changes.update({f: np.zeros_like(getattr(value, f)) for f in BIASES if hasattr(value, f)})
            if isinstance(value, Weights):
                changes["blocks"] = tuple(declared_variants(b) for b in value.blocks)
        if isinstance(value, Weights) and within.has(domain.TIED):
            changes["W_U"] = np.ascontiguousarray(value.W_E.T)
        return dataclasses.replace(value, **changes) if changes else value
    return value


def _fill(cls: type, config: Config, dtype: np.dtype, recipe: Recipe, rng: np.random.Generator) -> Any:
    """Every field in order (blocks: one per layer), each at its annotated shape with ctx 1."""
    def field(name: str, hint: Any) -> np.ndarray:
        return recipe.values(rng, hints.shape_for(hint, config, 1), dtype)

    return hints.build(cls, field, config.n_layers)


@_reused
def recipes(magnitude: float | None = None) -> st.SearchStrategy[Recipe]:
    m = magnitudes() if magnitude is None else st.just(magnitude)
    return st.builds(Recipe, st.integers(0, 2**16 - 1), st.sampled_from(("integers", "floats")), m)


def block_weights(config: Config, dtype: np.dtype, magnitude: float = UNIT) -> st.SearchStrategy[BlockWeights]:
    return recipes(magnitude).map(lambda r: r.build(BlockWeights, config, dtype))


def weights(config: Config, dtype: np.dtype, magnitude: float = UNIT) -> st.SearchStrategy[Weights]:
    return recipes(magnitude).map(lambda r: r.build(Weights, config, dtype))


# ---------------------------------------------------------------------------------------------
# Examples: one head, several heads, a whole model


@dataclasses.dataclass(frozen=True)
class Head:
    """Inputs of one attention head: E [d_model ctx] and the four head matrices."""

    E: np.ndarray
    W_Q: np.ndarray
    W_K: np.ndarray
    W_V_down: np.ndarray
    W_V_up: np.ndarray
    magnitude: float

    @property
    def args(self) -> tuple[np.ndarray, ...]:
        return (self.E, self.W_Q, self.W_K, self.W_V_down, self.W_V_up)


@dataclasses.dataclass(frozen=True)
class MultiHead:
    """Inputs of multi-head attention: E, stacked W_Q, W_K, W_V_down, and W_O."""

    E: np.ndarray
    W_Q: np.ndarray
    W_K: np.ndarray
    W_V_down: np.ndarray
    W_O: np.ndarray
    magnitude: float

    @property
    def args(self) -> tuple[np.ndarray, ...]:
        return (self.E, self.W_Q, self.W_K, self.W_V_down, self.W_O)

    @property
    def d_head(self) -> int:
        return int(self.W_Q.shape[1])

    def head(self, h: int) -> Head:
        """Head h alone: its slices, and column block h of W_O as its W_V_up."""
        d = self.d_head
        W_V_up = self.W_O[:, h * d : (h + 1) * d]
        return Head(self.E, self.W_Q[h], self.W_K[h], self.W_V_down[h], W_V_up, self.magnitude)


@dataclasses.dataclass(frozen=True)
class Model:
    """Tokens and a full weights container, drawn from ``recipe``."""

    tokens: np.ndarray
    weights: Weights
    config: Config
    recipe: Recipe

    def __repr__(self) -> str:
        return f"Model(tokens={self.tokens.tolist()}, config={self.config}, weights: {self.recipe}, {self.weights.W_E.dtype})"


def _matrix(draw: st.DrawFn, dtype: np.dtype, shape: tuple[int, ...], magnitude: float) -> np.ndarray:
    return draw(arrays(dtype, shape, magnitude))


@_reused
@st.composite
def multi_heads(draw: st.DrawFn, *, dtype: np.dtype | None = None, config: st.SearchStrategy[Config] | None = None,
                magnitude: float | None = None, min_ctx: int = 1, single: bool = False) -> MultiHead:
    """Multi-head inputs for a drawn config (n_heads·d_head independent of d_model); ``single``: one head."""
    one_head_fills = single and domain.current().domain.heads_fill  # one head of d_head = d_model
    uses = ("d_model", "d_head") if single else ("d_model", "n_heads", "d_head")
    c = draw(config if config is not None else configs(min_ctx=min_ctx, uses=uses,
                                                       **({"max_heads": 1} if one_head_fills else {})))
    dt = dtype or draw(dtypes())
    m = draw(magnitudes()) if magnitude is None else magnitude
    ctx = draw(integers(min_ctx, c.n_ctx))
    n_heads = 1 if single else c.n_heads
    domain.current().note_heads(c.d_model, n_heads, c.d_head)
    stacked = (n_heads, c.d_head, c.d_model)
    return MultiHead(
        _matrix(draw, dt, (c.d_model, ctx), m), _matrix(draw, dt, stacked, m), _matrix(draw, dt, stacked, m),
        _matrix(draw, dt, stacked, m), _matrix(draw, dt, (c.d_model, n_heads * c.d_head), m), m,
    )


@_reused
def heads(**kwargs: Any) -> st.SearchStrategy[Head]:
    """One head's inputs for a drawn config, dtype and magnitude (self-attention, ctx from 1)."""
    return multi_heads(single=True, **kwargs).map(lambda mh: mh.head(0))


@_reused
@st.composite
def models(draw: st.DrawFn, *, dtype: np.dtype | None = None, magnitude: float | None = None,
           min_ctx: int = 1) -> Model:
    """A config, a weights container for it and ctx tokens (1 <= ctx <= n_ctx)."""
    c = draw(configs(min_ctx=min_ctx))
    dt = dtype or draw(dtypes())
    recipe = draw(recipes(magnitude))
    ctx = draw(integers(min_ctx, c.n_ctx))
    return Model(draw(tokens(c.vocab, ctx)), recipe.build(Weights, c, dt), c, recipe)


# ---------------------------------------------------------------------------------------------
# Arguments of any spec function, from its annotations


@st.composite
def arguments(draw: st.DrawFn, spec_fn: Any) -> tuple[Any, ...]:
    """Positional arguments for ``spec_fn``, every array at the shape its annotation names.

    Arrays are unit-scale (the agreement and shape properties compare ordinary values; the
    extremes belong to the properties that state what must survive them). Non-array arguments
    by name: ``temperature`` within the function's range, ``axis`` within x's axes, ``causal``
    either way (True makes ctx_k = ctx_q: causal attention is self-attention), ``rng`` seeded.
    """
    plan = hints.Plan.of(spec_fn)
    params = list(plan.names)
    uses = {f for hint in plan.hints for f in config_fields(hint)} | ({"vocab"} if "tokens" in params else set())
    c = draw(configs(uses=tuple(f for f in CONFIG_FIELDS if f in uses)))
    dt = draw(dtypes())
    ctx = draw(integers(1, c.n_ctx))
    causal = draw(domain.causal_flags()) if "causal" in params else False
    ctx_k = ctx if causal or "E_kv" not in params and "K" not in params else draw(integers(1, c.n_ctx))
    ctx_past = draw(integers(0, c.n_ctx - ctx)) if {"K_past", "cache"} & set(params) else 0
    sizes = hints.dim_sizes(c, ctx, ctx_k, ctx_past)
    args: list[Any] = []
    for name, hint in zip(params, plan.hints):
        if name == "cache":  # a KV cache of ctx_past positions (None when there are none)
            pair = hints.tuple_items(hints.optional_of(hint))[0][0]  # type: ignore[index]
            shapes = [hints.shape(h, sizes) for h in hints.tuple_items(pair)[0]]  # type: ignore[index]
            args.append(None if ctx_past == 0 else
                        tuple(tuple(draw(arrays(dt, s)) for s in shapes) for _ in range(c.n_layers)))
        elif name == "causal":
            args.append(causal)
        elif name == "ctx":
            args.append(ctx)
        elif name == "temperature":
            args.append(draw(sample_temperatures() if spec_fn.__name__ == "sample" else temperatures(high=1e3)))
        elif name == "axis":
            args.append(draw(integers(-len(args[0].shape), len(args[0].shape) - 1)))
        elif name == "rng":
            args.append(np.random.default_rng(draw(integers(0, 2**32 - 1))))
        elif hints.is_struct(hint):
            args.append(draw(recipes(UNIT)).build(hint, c, dt))
        elif name == "tokens":
            args.append(draw(tokens(c.vocab, ctx)))
        elif hints.n_axes(hint) is None:  # *shape: any number of axes
            shape = tuple(draw(_SHAPES))
            args.append(draw(arrays(dt, shape)))
        elif name in BIASES and domain.current().domain.has(domain.NO_BIAS):
            args.append(np.zeros(hints.shape(hint, sizes), dt))
        else:
            args.append(draw(arrays(dt, hints.shape(hint, sizes))))
    return tuple(args)



# ---------------------------------------------------------------------------------------------
# Batched attention in SDPA's layout (conventions: rows within each head, [batch heads L D])


@dataclasses.dataclass(frozen=True)
class Batched:
    """query [batch heads L D], key [batch heads S D], value [batch heads S Dv]; causal (then S = L)."""

    query: np.ndarray
    key: np.ndarray
    value: np.ndarray
    causal: bool
    magnitude: float

    @property
    def args(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (self.query, self.key, self.value)

    def select(self, batch: slice | int = slice(None), head: slice | int = slice(None)) -> Batched:
        """The same inputs for some batch entries and heads (an int keeps its axis, of size 1)."""
        b = slice(batch, batch + 1) if isinstance(batch, int) else batch
        h = slice(head, head + 1) if isinstance(head, int) else head
        return Batched(self.query[b, h], self.key[b, h], self.value[b, h], self.causal, self.magnitude)

    def __repr__(self) -> str:
        return (f"Batched(query {self.query.shape}, key {self.key.shape}, value {self.value.shape}, "
                f"causal={self.causal}, {self.query.dtype}, magnitude {self.magnitude:g})")


@st.composite
def batched_inputs(
    draw: st.DrawFn, *, min_batch: int = 1, min_heads: int = 1, min_keys: int = 1, min_length: int = 1,
    causal: bool | None = False, magnitude: float | None = None, max_batch: int = 3, max_heads: int = 3,
    max_length: int = 5, max_dim: int = 4,
) -> Batched:
    """Batched attention inputs: every size from 1 (batch, heads and keys S from their minimum), L
    and S independent unless causal (self-attention: S = L), Dv independent of D; ``causal=None``
    draws it. Simple values times one magnitude (drawn unless given), as every array here.
    ``min_keys=2`` where one key would make the softmax 1 whatever the scores (a scale or a mask
    could not matter)."""
    dt = draw(dtypes())
    m = draw(magnitudes()) if magnitude is None else magnitude
    is_causal = draw(st.booleans()) if causal is None else causal
    batch = draw(integers(min_batch, max(min_batch, max_batch)))
    heads = draw(integers(min_heads, max(min_heads, max_heads)))
    length = draw(integers(max(min_length, min_keys if is_causal else 1), max(min_keys, min_length, max_length)))
    keys = length if is_causal else draw(integers(min_keys, max(min_keys, max_length)))
    dim, dim_v = draw(integers(1, max_dim)), draw(integers(1, max_dim))
    return Batched(
        draw(arrays(dt, (batch, heads, length, dim), m)), draw(arrays(dt, (batch, heads, keys, dim), m)),
        draw(arrays(dt, (batch, heads, keys, dim_v), m)), is_causal, m,
    )
