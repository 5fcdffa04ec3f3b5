"""Declared domains: what a target says it supports, and how the strategies stay inside it.

A target may declare (``gptspec verify --assume WORD``, ``verify(..., assume=[...])``, the pytest
plugin's ``--gptspec-assume``, or ``GPTSPEC_ASSUME = [...]`` in its module) that it supports only

- ``causal-only``: its causal functions are never called with ``causal=False``;
- ``d_model=n_heads*d_head``: multi-head attention (and the block and model that use it) only
  where the heads fill d_model exactly, as nanoGPT's ``.view(B, T, n_heads, d_model // n_heads)``;
- ``float32`` or ``float64``: only that dtype;
- ``max-ctx=N``: at most N tokens per call.

and may declare the **variants** real models use (DESIGN "Variants real models use"), which are
differences on purpose, not failures (:data:`VARIANTS`):

- ``gelu=erf``: its GELU is the erf form ½x(1 + erf(x/√2)) (nanoGPT's ``nn.GELU()``): the
  reference's MLP switches to it for the run (:func:`scoped`);
- ``tied-embeddings``: W_U = W_Eᵀ (GPT-2, nanoGPT, picoGPT): every weights container is drawn tied;
- ``d_mlp=4*d_model``: its MLP is 4·d_model wide: configs draw d_mlp = 4·d_model;
- ``no-bias``: it has no biases (nanoGPT's ``bias=False``): every bias is drawn zero;
- ``greedy-only``: its ``generate`` only argmaxes: the sampling properties are not applicable.

The strategies **generate inside** the declared domain; they never draw outside and reject
(``hypothesis.assume`` or a filter would count examples that were never run). A property that
cannot be stated inside the domain — it needs ``causal=False``, or a bound that says nothing when
d_model = n_heads·d_head — is "not applicable" (:meth:`Domain.excludes`), and one whose examples
the domain narrows says how (:meth:`Scope.narrowed`): "causal=True only", "d_model =
n_heads·d_head: heads 1–3 of d_head 1–4".

The runner opens a :class:`Scope` for each property (:func:`scoped`): the target's domain as it
bears on that property (the heads rule only where multi-head attention is called), which the
strategies consult through :func:`current` like :func:`.strategies.reach`, and a record of what the
example being drawn looked like (a ``causal=False``, a d_model ≠ n_heads·d_head), which the
runner reads to say when a target's errors cluster where a declaration would exclude them.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import re
from collections.abc import Iterable, Iterator
import numpy as np
from hypothesis import strategies as st

__all__ = [
    "CAUSAL_ONLY", "HEADS_FILL", "WORDS", "VARIANTS", "GELU_ERF", "TIED", "D_MLP_4", "NO_BIAS", "GREEDY_ONLY",
    "AssumptionError", "Domain", "Scope", "Features",
    "parse", "scoped", "current", "cover", "causal_flags", "ctx_limit", "HEADS_FUNCTIONS", "REQUIREMENTS",
]

CAUSAL_ONLY = "causal-only"
HEADS_FILL = "d_model=n_heads*d_head"
GELU_ERF = "gelu=erf"
TIED = "tied-embeddings"
D_MLP_4 = "d_mlp=4*d_model"
NO_BIAS = "no-bias"
GREEDY_ONLY = "greedy-only"
VARIANTS = (GELU_ERF, TIED, D_MLP_4, NO_BIAS, GREEDY_ONLY)
"""The variants a target may declare (see the module's docstring)."""
WORDS = (CAUSAL_ONLY, HEADS_FILL, "float32", "float64", "max-ctx=N", *VARIANTS)
"""The words of a declaration, as the command line takes them."""

HEADS_FUNCTIONS = frozenset({"multi_head_attention", "batched_multi_head_attention", "block", "forward",
                             "next_token_probs", "multi_head_attention_cached", "forward_cached", "generate",
                             "forward_padded", "forward_padded_cached"})
"""The spec functions that split d_model into heads: the d_model = n_heads·d_head rule bears on
properties that call one of them, and no other (attention_head takes one head of any d_head)."""

# What a property may require (``prop(..., requires=...)``), each excluded by one declaration.
NEEDS_NON_CAUSAL = "causal=False"
NEEDS_HEADS_BELOW = "n_heads·d_head < d_model"
NEEDS_FLOAT64 = "float64"
NEEDS_FLOAT32 = "float32"
NEEDS_TWO_TOKENS = "ctx >= 2"
NEEDS_SAMPLING = "T > 0"
REQUIREMENTS = (NEEDS_NON_CAUSAL, NEEDS_HEADS_BELOW, NEEDS_FLOAT64, NEEDS_FLOAT32, NEEDS_TWO_TOKENS, NEEDS_SAMPLING)


class AssumptionError(ValueError):
    """A declared assumption that is not one of :data:`WORDS` (the verifier raises it as an OptionError)."""


def _canonical(word: str) -> str:
    """``d_model = n_heads·d_head``, ``D_MODEL=N_HEADS*D_HEAD`` → ``d_model=n_heads*d_head``; ``max_ctx=8`` → ``max-ctx=8``."""
    w = re.sub(r"\s+", "", str(word)).lower().replace("·", "*").replace("×", "*")
    w = w.replace("max_ctx", "max-ctx").replace("causal_only", "causal-only").replace("_", "-")
    for dim in ("d_model", "n_heads", "d_head", "d_mlp"):
        w = w.replace(dim.replace("_", "-"), dim)
    if w in ("d_mlp=d_model*4", "4*d_model=d_mlp", "d_model*4=d_mlp"):
        return D_MLP_4
    if w in ("d_model=d_head*n_heads", "n_heads*d_head=d_model", "d_head*n_heads=d_model"):
        return HEADS_FILL
    return w


@dataclasses.dataclass(frozen=True)
class Domain:
    """What a target supports. The default supports everything the spec does."""

    causal_only: bool = False
    heads_fill: bool = False  # d_model = n_heads·d_head
    dtypes: tuple[str, ...] = ()  # only these ("float32", "float64"); empty: both
    max_ctx: int | None = None
    variants: tuple[str, ...] = ()  # of VARIANTS, in their order

    def has(self, variant: str) -> bool:
        return variant in self.variants

    @property
    def words(self) -> tuple[str, ...]:
        """The declaration in its canonical words (what the report's header and reproduce commands print)."""
        words = [CAUSAL_ONLY] if self.causal_only else []
        words += [HEADS_FILL] if self.heads_fill else []
        words += list(self.dtypes)
        words += [f"max-ctx={self.max_ctx}"] if self.max_ctx is not None else []
        return (*words, *self.variants)

    def __bool__(self) -> bool:
        return bool(self.words)

    def excludes(self, requires: Iterable[str]) -> str | None:
        """Why a property requiring ``requires`` cannot be stated inside this domain, or None."""
        for need in requires:
            if need == NEEDS_NON_CAUSAL and self.causal_only:
                return f"needs causal=False, which {CAUSAL_ONLY} excludes"
            if need == NEEDS_HEADS_BELOW and self.heads_fill:
                return f"needs n_heads·d_head < d_model (with {HEADS_FILL} the bound says nothing)"
            if need in (NEEDS_FLOAT64, NEEDS_FLOAT32) and self.dtypes and need not in self.dtypes:
                return f"is stated in {need} only, which {'/'.join(self.dtypes)} excludes"
            if need == NEEDS_TWO_TOKENS and self.max_ctx is not None and self.max_ctx < 2:
                return f"needs ctx >= 2, which max-ctx={self.max_ctx} excludes"
            if need == NEEDS_SAMPLING and GREEDY_ONLY in self.variants:
                return f"needs sampling at T > 0, which {GREEDY_ONLY} excludes"
        return None

    def allowed_dtypes(self, dtypes: tuple[np.dtype, ...]) -> tuple[np.dtype, ...]:
        return tuple(d for d in dtypes if not self.dtypes or d.name in self.dtypes)

    def for_property(self, needs: Iterable[str]) -> Domain:
        """This domain as it bears on a property that calls ``needs``: the heads rule only where
        multi-head attention is called."""
        heads = self.heads_fill and bool(HEADS_FUNCTIONS & set(needs))
        return dataclasses.replace(self, heads_fill=heads)


def parse(words: Iterable[str], *, source: str = "--assume") -> Domain:
    """The domain ``words`` declare (repeated words are fine). An unknown or malformed word is an
    :class:`AssumptionError` listing the known ones."""
    causal = heads = False
    dtypes: list[str] = []
    max_ctx: int | None = None
    variants: set[str] = set()
    for raw in words:
        if not isinstance(raw, str):
            raise AssumptionError(f"{source}: an assumption is a string, got {type(raw).__name__} {raw!r:.40}")
        word = _canonical(raw)
        if word == CAUSAL_ONLY:
            causal = True
        elif word == HEADS_FILL:
            heads = True
        elif word in VARIANTS:
            variants.add(word)
        elif word in ("float32", "float64"):
            if word not in dtypes:
                dtypes.append(word)
        elif word.startswith("max-ctx="):
            try:
                n = int(word.split("=", 1)[1])
            except ValueError:
                n = 0
            if n < 1:
                raise AssumptionError(f"{source} {raw!r}: max-ctx takes a positive whole number of tokens, e.g. max-ctx=8")
            max_ctx = n if max_ctx is None else min(max_ctx, n)
        else:
            raise AssumptionError(f"{source}: unknown assumption {raw!r}; known: {', '.join(WORDS)}")
    if len(dtypes) == 2:
        dtypes = []  # both dtypes: the spec's own domain
    return Domain(causal, heads, tuple(sorted(dtypes)), max_ctx, tuple(v for v in VARIANTS if v in variants))


# ---------------------------------------------------------------------------------------------
# The scope of one property's search


@dataclasses.dataclass
class Features:
    """What the example being drawn looked like, as far as a declaration could exclude it."""

    causal: bool | None = None  # the causal flag drawn for the example (None: none drawn)
    heads: tuple[int, int, int] | None = None  # (d_model, n_heads, d_head), where the heads rule bears

    @property
    def outside(self) -> tuple[str, ...]:
        """The declarations that would exclude this example."""
        words = [CAUSAL_ONLY] if self.causal is False else []
        if self.heads is not None and self.heads[0] != self.heads[1] * self.heads[2]:
            words.append(HEADS_FILL)
        return tuple(words)

    @property
    def inside(self) -> tuple[str, ...]:
        """The declarations this example satisfies while drawing what they constrain."""
        words = [CAUSAL_ONLY] if self.causal is True else []
        if self.heads is not None and self.heads[0] == self.heads[1] * self.heads[2]:
            words.append(HEADS_FILL)
        return tuple(words)

    def heads_text(self) -> str | None:
        """``d_model 1 ≠ n_heads·d_head 2 (1 head of 2)`` when the example's heads do not fill d_model."""
        if self.heads is None or HEADS_FILL not in self.outside:
            return None
        d_model, n_heads, d_head = self.heads
        return (f"d_model {d_model} ≠ n_heads·d_head {n_heads * d_head}: "
                f"{n_heads} head{'s' if n_heads != 1 else ''} of d_head {d_head}")


class Scope:
    """One property's search: the domain the strategies generate in, how it narrowed them, and
    the features of the example being drawn."""

    def __init__(self, domain: Domain, *, heads_bear: bool = True) -> None:
        self.domain = domain
        self.heads_bear = heads_bear  # whether the example's heads are worth recording
        self._narrowed: dict[str, str] = {}
        self.features = Features()

    # what strategies call

    def narrow(self, key: str, text: str) -> None:
        self._narrowed.setdefault(key, text)

    def note_causal(self, value: bool) -> bool:
        self.features.causal = bool(value)
        return value

    def note_heads(self, d_model: int, n_heads: int, d_head: int) -> None:
        if self.heads_bear:
            self.features.heads = (int(d_model), int(n_heads), int(d_head))

    # what the runner calls

    def take_features(self) -> Features:
        """The features of the example just drawn; the next example starts afresh."""
        features, self.features = self.features, Features()
        return features

    @property
    def narrowed(self) -> str | None:
        """How the domain narrowed the examples drawn so far, in a fixed order (None: not at all)."""
        order = ("causal", "heads", "dtype", "ctx")
        keys = sorted(self._narrowed, key=lambda k: order.index(k) if k in order else len(order))
        return "; ".join(self._narrowed[k] for k in keys) or None


_SCOPE: contextvars.ContextVar[Scope] = contextvars.ContextVar("gptspec_domain", default=Scope(Domain(), heads_bear=False))


def current() -> Scope:
    """The scope the strategies draw in (outside a verify run: the whole spec, nothing recorded)."""
    return _SCOPE.get()


@contextlib.contextmanager
def scoped(domain: Domain, needs: Iterable[str] = ()) -> Iterator[Scope]:
    """Strategies built or drawn inside the block generate inside ``domain`` as it bears on a
    property calling ``needs`` (all of it when ``needs`` is empty)."""
    from ..impl.mlp import GELU_FORM

    needs = tuple(needs)
    bears = not needs or bool(HEADS_FUNCTIONS & set(needs))
    scope = Scope(domain.for_property(needs) if needs else domain, heads_bear=bears)
    token = _SCOPE.set(scope)
    gelu = GELU_FORM.set("erf" if domain.has(GELU_ERF) else "tanh")  # the reference's GELU for the run
    try:
        yield scope
    finally:
        GELU_FORM.reset(gelu)
        _SCOPE.reset(token)


def cover(examples: Iterable[Features]) -> tuple[str, ...]:
    """The fewest declarations that exclude every one of ``examples`` (empty if one of them no
    declaration excludes, or there are none)."""
    outside = [set(f.outside) for f in examples]
    if not outside or any(not o for o in outside):
        return ()
    chosen: list[str] = []
    left = outside
    while left:
        counts: dict[str, int] = {}
        for o in left:
            for w in o:
                counts[w] = counts.get(w, 0) + 1
        best = max(sorted(counts), key=lambda w: (counts[w], w == CAUSAL_ONLY))
        chosen.append(best)
        left = [o for o in left if best not in o]
    return tuple(w for w in (CAUSAL_ONLY, HEADS_FILL) if w in chosen)


def describe_range(low: int, high: int) -> str:
    return f"{low}" if low == high else f"{low}–{high}"


# ---------------------------------------------------------------------------------------------
# What strategies draw through


def causal_flags() -> st.SearchStrategy[bool]:
    """A causal flag: either (shrinking to False) in the spec's domain, True only under causal-only."""
    if current().domain.causal_only:
        current().narrow("causal", "causal=True only")
        flags: st.SearchStrategy[bool] = st.just(True)
    else:
        flags = st.booleans()
    return flags.map(lambda value: current().note_causal(value))


def ctx_limit(most: int) -> int:
    """The most tokens a strategy may draw where it would draw up to ``most``: fewer under max-ctx=N."""
    cap = current().domain.max_ctx
    if cap is not None and cap < most:
        current().narrow("ctx", f"ctx ≤ {cap}")
        return cap
    return most
