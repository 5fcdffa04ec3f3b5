"""Agreement: every provided function equals the reference :mod:`gptspec.impl` within tolerance.

The only family that calls the reference. One property per function of the spec; arguments are
drawn from the signature (:func:`strategies.arguments`, unit scale). Booleans and integers must be
equal; floats may differ by

    atol + rtol · max |reference| + 8 · max |reference − reference in a wider float|

per :mod:`tolerance`: the last term is how far the reference itself is from the exact value on
these inputs (float32 against float64, float64 against long double), so an ill-conditioned input
(a layer norm of a nearly constant column, a softmax at T = 1e-9) widens the tolerance exactly as
much as it costs any correct implementation. ``sample`` is random: it is compared at T = 0 (the
same maximal logit); its draws at T > 0 are the temperature family's statistical test.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st

from .. import impl as reference
from ..spec import SIGNATURES, BlockWeights, Weights, hints
from . import expect
from .common import describe
from .registry import Property, prop
from .strategies import arguments, logit_vectors
from .tolerance import tolerance

WIDER: dict[np.dtype, np.dtype] = {
    np.dtype(np.float32): np.dtype(np.float64),
    np.dtype(np.float64): np.dtype(np.longdouble),
}
CONDITIONING = 8
"""How many times the reference's own rounding error an implementation may make."""


def widened(value: Any) -> Any:
    """``value`` with every float array (also inside weights containers) cast to the next wider float."""
    return hints.map_struct(value, None, _wider)


def _wider(value: Any, hint: Any) -> Any:
    return value.astype(WIDER[value.dtype]) if isinstance(value, np.ndarray) and value.dtype in WIDER else value


def _dtype_of(args: tuple[Any, ...]) -> np.dtype:
    for a in args:
        if isinstance(a, np.ndarray) and a.dtype.kind == "f":
            return a.dtype
        if isinstance(a, (Weights, BlockWeights)):  # the only containers the spec's functions take
            return next(iter(a.arrays()))[1].dtype
    return np.dtype(np.float64)


def agrees(what: str, got: Any, want: Any, args: tuple[Any, ...], wide: Callable[[], Any]) -> None:
    if isinstance(want, tuple):  # (ΔE, K, V), (logits, cache): item by item, each with its index
        if not isinstance(got, (tuple, list)) or len(got) != len(want):
            raise expect.fail(f"{what}: expected a tuple of {len(want)} items, got {type(got).__name__}"
                              + (f" of {len(got)}" if isinstance(got, (tuple, list)) else ""))
        wide_once = functools.cache(wide)  # the widened reference, computed once for every item
        for i, (g, w) in enumerate(zip(got, want)):
            agrees(f"{what}[{i}]", g, w, args, functools.partial(lambda i: wide_once()[i], i))
        return
    want = np.asarray(want)
    if want.dtype.kind != "f":
        expect.equal(what, got, want)
        return
    w = want.astype(np.float64)
    own_error = float(np.max(np.abs(w - np.asarray(wide(), dtype=np.float64)), initial=0.0))
    tol = tolerance(_dtype_of(args)).of(float(np.max(np.abs(w), initial=0.0))) + CONDITIONING * own_error
    expect.close(what, got, w, tol, note=f"compared with gptspec.impl; the reference's own error here is {own_error:.2g}")


def _agreement_property(name: str) -> Property:
    def body(impl: Any, args: tuple[Any, ...]) -> None:
        want = getattr(reference, name)(*args)
        agrees(f"{name}({describe(args)})", getattr(impl, name)(*args), want, args,
               lambda: getattr(reference, name)(*widened(args)))

    body.__name__ = name
    return prop(
        f"agreement.{name}", needs=(name,),
        statement=f"{name} equals gptspec.impl.{name} within the dtype's tolerance",
        strategy=lambda: arguments(SIGNATURES[name]),
    )(body)


AGREEMENT_PROPERTIES = tuple(_agreement_property(name) for name in SIGNATURES if name != "sample")


@prop("agreement.sample", needs=("sample",),
      statement="sample(logits, 0, rng) picks a token whose logit is the reference's pick's (the maximum)",
      strategy=lambda: st.tuples(logit_vectors(), st.just(0.0), st.integers(0, 2**32 - 1)))
def sample_agrees(impl: Any, example: tuple[np.ndarray, float, int]) -> None:
    """The example is sample's own arguments, (logits, T = 0, the rng's seed): a report names them so."""
    x, temperature, seed = example
    want = int(reference.sample(x, temperature, np.random.default_rng(seed)))
    got = int(impl.sample(x, temperature, np.random.default_rng(seed)))
    if not (0 <= got < x.shape[0] and x[got] == x[want]):
        shown = f"token {got} with logit {expect.fmt(x[got])}" if 0 <= got < x.shape[0] else f"{got}, outside the vocab"
        raise expect.fail(
            f"sample(logits of {x.shape[0]}, T=0): expected token {want} (logit {expect.fmt(x[want])}) or a "
            f"tie with it, got {shown}"
        )
