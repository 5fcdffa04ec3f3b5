"""The simple draws of the strategies: numbers and arrays, configs, tokens, temperatures, logits.

Part of :mod:`.strategies` (its public surface, with the docs of how every array is drawn): the
reach of a search (:func:`reach`), the cache of strategy objects (:func:`_reused`), dtypes and
magnitudes, configs with every dim from 1 upward, tokens, temperatures, logit vectors and softmax
inputs. :mod:`.compound` builds the examples made of many tensors on them.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import re
from collections.abc import Callable, Iterator
from typing import Any, Literal, ParamSpec, TypeVar

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..spec import Config
from ..spec import hints
from ..spec.dims import DIMS
from . import domain
from .coded import UNIT, arrays, integers
from .coded import draw_codes as _codes
from .coded import coded as _coded

__all__ = [
    "Reach", "reach", "current_reach", "DTYPES", "UNIT", "SMALL", "LARGE", "LOGIT_LARGE",
    "dtypes", "magnitudes", "values", "arrays", "CONFIG_FIELDS", "configs", "config_fields", "tokens",
    "temperatures", "sample_temperatures", "logit_vectors", "SoftmaxInput", "softmax_inputs",
]

DTYPES = (np.dtype(np.float64), np.dtype(np.float32))

SMALL = 1e-3
LARGE = (1e1, 1e2, 1e3)  # with E and weights at 1e1 scores reach ~1e5; at 1e3 ~1e13 (finite in float32)
LOGIT_LARGE = (1e1, 1e3, 1e5)  # logits and scores drawn directly: up to 4e5


@dataclasses.dataclass(frozen=True)
class Reach:
    """How far strategies reach: extreme magnitudes, near-tied logits."""

    extremes: bool = True
    near_ties: bool = True


_REACH: contextvars.ContextVar[Reach] = contextvars.ContextVar("gptspec_reach", default=Reach())


@contextlib.contextmanager
def reach(*, extremes: bool = True, near_ties: bool = True) -> Iterator[Reach]:
    """Strategies built or drawn inside the block reach only as far as asked."""
    token = _REACH.set(Reach(extremes, near_ties))
    try:
        yield _REACH.get()
    finally:
        _REACH.reset(token)


def current_reach() -> Reach:
    return _REACH.get()


_P = ParamSpec("_P")
_T = TypeVar("_T")


def _reused(factory: Callable[_P, st.SearchStrategy[_T]]) -> Callable[_P, st.SearchStrategy[_T]]:
    """``factory`` returning one strategy object per argument tuple and reach.

    Hypothesis validates a strategy object once, on its first draw; composites that build their
    inner strategies on every draw would pay that on every example, more than the draw itself.
    The reach and the declared domain are part of the key: some factories (``recipes``) read the
    reach when they build, and one built inside a domain must not serve outside it.
    """

    @functools.lru_cache(maxsize=1024)
    def cached(reach: Reach, within: domain.Domain, args: tuple[Any, ...],
               kwargs: tuple[tuple[str, Any], ...]) -> st.SearchStrategy[_T]:
        return factory(*args, **dict(kwargs))

    @functools.wraps(factory)
    def reuse(*args: _P.args, **kwargs: _P.kwargs) -> st.SearchStrategy[_T]:
        key = (current_reach(), domain.current().domain, args, tuple(sorted(kwargs.items())))
        try:
            hash(key)
        except TypeError:  # an unhashable argument: build afresh
            return factory(*args, **kwargs)
        return cached(*key)

    return reuse


# ---------------------------------------------------------------------------------------------
# Numbers and arrays


_DTYPES: st.SearchStrategy[np.dtype] = st.sampled_from(DTYPES)


def dtypes() -> st.SearchStrategy[np.dtype]:
    """float64 or float32 (shrinks to float64); only the declared one under ``--assume float32|float64``."""
    allowed = domain.current().domain.allowed_dtypes(DTYPES)
    if allowed == DTYPES:
        return _DTYPES
    domain.current().narrow("dtype", f"{'/'.join(d.name for d in allowed)} only")
    return st.sampled_from(allowed)


def magnitudes(large: tuple[float, ...] = LARGE) -> st.SearchStrategy[float]:
    """The scale of one example's arrays: unit in half the examples (and where shrinking ends), else small or large.

    Equivalences are only informative at unit scale (at 1e-3 every pattern is uniform, at 1e3
    one-hot, whatever the bug), so the extremes take only the other half.
    """
    return _magnitudes(tuple(large), current_reach().extremes)


@functools.lru_cache(maxsize=64)
def _magnitudes(large: tuple[float, ...], extremes: bool) -> st.SearchStrategy[float]:
    if not extremes:
        return st.just(UNIT)
    others = (SMALL, *large)
    return st.sampled_from((UNIT,) * len(others) + others)  # one choice (one_of cost two); index 0, unit, first


def _width(dtype: np.dtype) -> Literal[32, 64]:
    """The bit width Hypothesis draws floats of ``dtype`` at, so every draw is representable."""
    return 32 if dtype == np.float32 else 64


def values(dtype: np.dtype) -> st.SearchStrategy[float]:
    """One simple value: integers −3..3 first (shrinking ends there), else floats in [−4, 4]."""
    return st.one_of(st.integers(-3, 3).map(float), st.floats(-4, 4, width=_width(dtype)))


CONFIG_FIELDS = ("vocab", "d_model", "n_heads", "d_head", "n_ctx", "n_layers", "d_mlp")


@_reused
@st.composite
def configs(
    draw: st.DrawFn,
    *,
    min_vocab: int = 1, max_vocab: int = 6,
    min_d_model: int = 1, max_d_model: int = 6,
    min_heads: int = 1, max_heads: int = 3,
    min_d_head: int = 1, max_d_head: int = 4,
    min_ctx: int = 1, max_ctx: int = 5,
    max_layers: int = 2,
    max_d_mlp: int = 6,
    uses: tuple[str, ...] = CONFIG_FIELDS,
) -> Config:
    """A small config; every field shrinks towards its minimum, d_model and n_heads·d_head independent.

    Only the fields in ``uses`` are drawn (each draw is a choice, and Hypothesis's engine costs
    ~50 µs a choice): a size nobody reads is at its minimum, and n_ctx, a bound, at its largest,
    so whatever ctx the caller draws fits it. Inside a declared domain (:mod:`.domain`):
    d_model = n_heads·d_head is drawn as n_heads and d_head (never filtered), and n_ctx is at
    most max-ctx."""
    scope = domain.current()
    max_ctx = domain.ctx_limit(max_ctx)

    def size(field: str, lo: int, hi: int, *, needed: bool = False) -> int:
        """Drawn if the caller reads ``field`` (or a field it reads is made of it), else ``lo``."""
        return draw(integers(lo, max(lo, hi))) if needed or field in uses else lo

    vocab = size("vocab", min_vocab, max_vocab)
    wide = scope.domain.has(domain.D_MLP_4)  # d_mlp = 4·d_model: made of d_model
    if scope.domain.heads_fill:
        heads = (min_heads, max(min_heads, max_heads))
        head = (min_d_head, max(min_d_head, max_d_head))
        count = "1 head" if heads == (1, 1) else f"heads {domain.describe_range(*heads)}"
        scope.narrow("heads", f"d_model = n_heads·d_head: {count} of d_head {domain.describe_range(*head)}")
        filled = "d_model" in uses or wide and "d_mlp" in uses  # d_model is made of both
        n_heads, d_head = size("n_heads", *heads, needed=filled), size("d_head", *head, needed=filled)
        d_model = n_heads * d_head
    else:
        d_model = size("d_model", min_d_model, max_d_model, needed=wide and "d_mlp" in uses)
        n_heads = size("n_heads", min_heads, max_heads)
        d_head = size("d_head", min_d_head, max_d_head)
    scope.note_heads(d_model, n_heads, d_head)
    return Config(
        vocab=vocab, d_model=d_model, n_heads=n_heads, d_head=d_head,
        n_ctx=size("n_ctx", min_ctx, max_ctx) if "n_ctx" in uses else max(min_ctx, max_ctx),
        n_layers=size("n_layers", 1, max_layers),
        d_mlp=4 * d_model if wide else size("d_mlp", 1, max_d_mlp),
        name="drawn",
    )


@functools.lru_cache(maxsize=None)
def config_fields(hint: Any) -> tuple[str, ...]:
    """The config fields a value typed ``hint`` reads (an array's dims that equal a field, a
    container's fields, n_layers for its blocks), in Config's order: what :func:`configs` needs
    to draw for it. ctx, ctx_q and ctx_k only need n_ctx as a bound, so they read none."""
    used: set[str] = set()
    inner, parts = hints.optional_of(hint), hints.tuple_items(hint)
    if inner is not None:
        return config_fields(inner)
    if parts is not None:  # a tuple (the KV cache: one pair per layer)
        used.update(f for item in parts[0] for f in config_fields(item))
        used.update(("n_layers",) if parts[1] else ())
    elif hints.is_struct(hint):
        for f in hints.fields(hint):
            used.update(config_fields(f.item if f.item is not None else f.hint))
            if f.item is not None:
                used.add("n_layers")
    elif hints.is_array(hint) and hints.n_axes(hint) is not None:
        for text in hints.dims(hint):
            used.update(DIMS[n].equals or "" for n in re.findall(r"[A-Za-z_]+", text) if n in DIMS)
    return tuple(f for f in CONFIG_FIELDS if f in used)


@_reused
def tokens(vocab: int, ctx: int) -> st.SearchStrategy[np.ndarray]:
    """ctx token ids in [0, vocab), shrinking towards id 0."""
    if vocab > 256:
        return hnp.arrays(np.int64, (ctx,), elements=st.integers(0, vocab - 1))
    return st.composite(lambda draw: _codes(draw, (ctx,))[0] * vocab // 256)()  # code bytes in vocab runs


# ---------------------------------------------------------------------------------------------
# Temperatures and logits

_SOFTMAX_T_EDGES = (1.0, 0.5, 2.0, 1e-3, 1e-6, 1e-9, 1e3, 1e6)
_SAMPLE_T_EDGES = (1.0, 0.5, 2.0, 1e-6, 2.0 - 1e-9, 1.999, 1e-300, 5e-324)


@_reused
def temperatures(*, low: float = 1e-9, high: float = 1e6) -> st.SearchStrategy[float]:
    """Softmax temperatures 0 < T < inf: named edges (near 0, large) first, then any in [low, high]."""
    edges = [t for t in _SOFTMAX_T_EDGES if low <= t <= high]
    return st.one_of(st.sampled_from(edges), st.floats(low, high))


@_reused
def sample_temperatures() -> st.SearchStrategy[float]:
    """``sample`` temperatures 0 < T <= 2, including values just above 0 and just below 2."""
    return st.one_of(st.sampled_from(_SAMPLE_T_EDGES), st.floats(1e-6, 2.0))


_NEAR_TIE_GAPS = (0.0, 1e-9, 1e-7, 1e-5, -1e-9, -1e-7)


@functools.lru_cache(maxsize=64)
def _near_ties(n: int) -> st.SearchStrategy[list[tuple[int | None, int, float]]]:
    """Up to two (i, j, gap): x[j] becomes x[i] + gap; i None is the current maximum, where ties matter most."""
    return st.lists(st.tuples(st.one_of(st.none(), st.integers(0, n - 1)), st.integers(0, n - 1),
                              st.sampled_from(_NEAR_TIE_GAPS)), max_size=2)


@_reused
@st.composite
def logit_vectors(draw: st.DrawFn, *, dtype: np.dtype | None = None, max_vocab: int = 8) -> np.ndarray:
    """A logit vector: simple values at one magnitude, with exact ties and near-ties planted.

    A near-tie copies one entry (often the maximum) to another and adds a gap of 1e-9..1e-5
    (rounded in the dtype, so some near-ties become exact ties or one ulp apart). Without near-ties, values are
    quarters of integers, so distinct logits differ by at least 0.25 × magnitude.
    """
    dtype = dtype or draw(dtypes())
    n = draw(integers(1, max_vocab))
    r = current_reach()
    x = draw(_coded(dtype, (n,), "quarters_floats" if r.extremes else "quarters")) * draw(magnitudes(LOGIT_LARGE))
    if r.near_ties and n > 1:
        for i, j, gap in draw(_near_ties(n)):
            i = int(np.argmax(x)) if i is None else i
            x[j] = x[i] + gap * max(1.0, abs(float(x[i])))
    return x.astype(dtype)


_SHAPES = st.lists(st.integers(1, 4), min_size=1, max_size=3)
_OFFSETS = st.sampled_from((0.0, -8.0))


@dataclasses.dataclass(frozen=True)
class SoftmaxInput:
    """An array x and the axis softmax normalises along."""

    x: np.ndarray
    axis: int


@_reused
@st.composite
def softmax_inputs(draw: st.DrawFn, *, any_finite: bool = False, neg_inf: bool = False) -> SoftmaxInput:
    """x with 1 to 3 axes of 1 to 4 entries and an axis (negative or not).

    Entries are simple values times a magnitude, the whole array sometimes shifted down by 8 times
    it (so every logit can sit near −1e5 at once). ``any_finite``: entries anywhere in the
    dtype's finite range (up to ±max). ``neg_inf``: some entries −inf, never a whole slice.
    """
    dt = draw(dtypes())
    shape = tuple(draw(_SHAPES))
    axis = draw(integers(-len(shape), len(shape) - 1))
    if any_finite and current_reach().extremes:
        x = draw(_coded(dt, shape, "any_finite"))
    else:
        m = draw(magnitudes(LOGIT_LARGE))
        offset = draw(_OFFSETS) * m  # all logits far below 0, as masked scores can be
        x = (draw(arrays(dt, shape, m)) + dt.type(offset)).astype(dt)
    if neg_inf:
        holes = _codes(draw, shape)[0] >= 128  # half the entries; shrinking removes them
        holes.flat[draw(integers(0, int(holes.size) - 1))] = True  # at least one −∞ (unless its slice has one entry)
        keep = np.expand_dims(np.argmax(x, axis=axis), axis)  # one finite entry per slice survives
        np.put_along_axis(holes, keep, False, axis=axis)
        x = np.where(holes, -np.inf, x).astype(dt)
    return SoftmaxInput(x, axis)

