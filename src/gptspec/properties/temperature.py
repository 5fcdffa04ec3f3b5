"""Temperature: softmax(x, T) = softmax(x / T), monotone in T, and ``sample`` draws from it.

Hotter is flatter: entropy never falls and the top probability never rises as T grows; the argmax
never moves; T → 0 is one-hot at a unique maximum, T → ∞ uniform. ``sample(logits, T, rng)`` is
argmax at T = 0 (even between maxima 1e-9 apart), draws from softmax(logits / T) for 0 < T <= 2,
and refuses any other T.

The ordinary domain (:mod:`.ordinary`): |x / T| up to 1e6 for softmax, 0.01 <= T <= 2 for ``sample``; a
``softmax(logits / T)`` that overflows at a subnormal T is fragile, not failed.

The two refusals (``temperature.invalid_rejected``, ``temperature.sample_rejects_out_of_range``)
check the spec's input contract, not the math, and are tagged ``contract``: libraries such as
Hugging Face's ``TemperatureLogitsWarper`` accept T > 2 and never promised to refuse it, so a
report words their failure as the contract's and ``--skip contract`` skips them. They apply
under every declared domain (:mod:`.domain`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from . import expect
from .common import calls, plain_softmax, repeated
from .ordinary import LOGITS_MAX, T_MAX, T_MIN, Scale, divide_first_cause, finite_size, overflow_cause, times
from .registry import CONTRACT, prop
from .strategies import logit_vectors, sample_temperatures, temperatures
from .tolerance import tolerance

SOFTMAX = ("softmax",)
SAMPLE = ("sample",)

INVALID_SOFTMAX_T = (0.0, -0.0, -1.0, -1e-300, math.nan, math.inf, -math.inf)
INVALID_SAMPLE_T = (-1e-9, -1.0, 2.0 + 2**-51, 2.5, 1e6, math.inf, -math.inf, math.nan)

DRAWS = 400
"""Draws per example of the statistical test of ``sample``."""

FALSE_ALARM = 1e-7
"""Chance that the statistical test fails one example of a correct ``sample`` (Bernstein + union bound)."""


@dataclasses.dataclass(frozen=True)
class Tempered:
    """A logit vector and temperatures T1 <= T2 (T1 is the one used alone)."""

    x: np.ndarray
    T1: float
    T2: float = 1.0


@st.composite
def tempered(draw: st.DrawFn) -> Tempered:
    x = draw(logit_vectors())
    T1, T2 = sorted((draw(temperatures()), draw(temperatures())))
    return Tempered(x, T1, T2)


# The ordinary domain (see .ordinary). Plain logits: |x| up to LOGITS_MAX. Tempered: the effective
# logits |x / T| at the colder temperature, up to LOGITS_MAX; both move by multiplying x.
# ``sample``: T itself, from T_MIN to T_MAX; it moves by setting T.


def _times_x(x: np.ndarray, value: float, now: float) -> np.ndarray:
    return times(x, value / now if now > 0 else 1.0)


def _tempered_size(case: Tempered) -> float:
    return finite_size(case.x) / case.T1


LOGITS = Scale("|x|", finite_size, lambda x, v: _times_x(x, v, finite_size(x)), high=LOGITS_MAX,
               cause=lambda x, holds, fails: overflow_cause(x.dtype, fails))
TEMPERED = Scale("|x/T|", _tempered_size,
                 lambda case, v: dataclasses.replace(case, x=_times_x(case.x, v, _tempered_size(case))),
                 high=LOGITS_MAX, cause=lambda case, holds, fails: overflow_cause(case.x.dtype, fails))


def probs(impl: Any, x: np.ndarray, T: float) -> np.ndarray:
    return _shaped(impl.softmax(x, T, -1), x, T)


def probs_both(impl: Any, x1: np.ndarray, T1: float, x2: np.ndarray, T2: float) -> tuple[np.ndarray, np.ndarray]:
    """``probs(impl, x1, T1), probs(impl, x2, T2)`` in one request to the target."""
    made = calls(impl, ("softmax", (x1, T1, -1)), ("softmax", (x2, T2, -1)))
    first = _shaped(made[0], x1, T1)
    return first, _shaped(made[1], x2, T2)


def _shaped(result: Any, x: np.ndarray, T: float) -> np.ndarray:
    return expect.shape(f"softmax(x of {x.shape[0]} logits, T={T:g})", result, x.shape)


def entropy(p: np.ndarray) -> float:
    """H(p) = −Σ p log p in nats, 0 log 0 = 0."""
    q = p.astype(np.float64)
    return float(-np.sum(np.where(q > 0, q * np.log(np.where(q > 0, q, 1.0)), 0.0)))


@prop("temperature.one_is_plain", needs=SOFTMAX, statement="softmax(x, T = 1) = exp(x_i) / Σ_j exp(x_j)",
      strategy=lambda: logit_vectors(),
      scale=LOGITS)
def one_is_plain(impl: Any, x: np.ndarray) -> None:
    expect.close("softmax(x, T=1)", probs(impl, x, 1.0), plain_softmax(x),
                 tolerance(x.dtype).normalisation(x.shape[0]))


@prop("temperature.divides_logits", needs=SOFTMAX, statement="softmax(x, T) = softmax(x / T, 1)",
      strategy=tempered,
      scale=TEMPERED)
def divides_logits(impl: Any, case: Tempered) -> None:
    x, T = case.x, case.T1
    scaled = (x / x.dtype.type(T)).astype(x.dtype)
    assume(np.all(np.isfinite(scaled)))
    size = float(np.max(np.abs(scaled)))
    expect.close(f"softmax(x, T={T:g})", *probs_both(impl, x, T, scaled, 1.0),
                 tolerance(x.dtype).logits_shift(size), note="compared with softmax(x / T, 1)")


def _expect_monotone_in_T(impl: Any, case: Tempered, what: str, symbol: str, stat: Callable[[np.ndarray], float],
                          slack: float, *, rising: bool) -> None:
    """For T1 <= T2: stat(softmax(x, T1)) <= stat(softmax(x, T2)) + slack if ``rising``, else >= − slack."""
    x = case.x
    v1, v2 = (stat(p) for p in probs_both(impl, x, case.T1, x, case.T2))
    if (v1 > v2 + slack) if rising else (v1 < v2 - slack):
        want, got = ("<=", ">") if rising else (">=", "<")
        raise expect.fail(
            f"{what} of softmax(x, T) for {x.shape[0]} logits spanning {expect.fmt(np.ptp(x))}: expected "
            f"{symbol}(T={case.T1:g}) {want} {symbol}(T={case.T2:g}), got {expect.fmt(v1)} {got} {expect.fmt(v2)}"
        )


def _entropy_slack(x: np.ndarray) -> float:
    """Rounding in p moves H by at most ~10 (n + 3)² eps (p |log p| and p s² e^−s are bounded)."""
    return 10 * (x.shape[0] + 3) ** 2 * tolerance(x.dtype).eps


@prop("temperature.entropy_non_decreasing", needs=SOFTMAX,
      statement="T1 <= T2 ⇒ H(softmax(x, T1)) <= H(softmax(x, T2)): hotter is flatter",
      strategy=tempered,
      scale=TEMPERED)
def entropy_non_decreasing(impl: Any, case: Tempered) -> None:
    _expect_monotone_in_T(impl, case, "entropy", "H", entropy, _entropy_slack(case.x), rising=True)


@prop("temperature.top_prob_non_increasing", needs=SOFTMAX,
      statement="T1 <= T2 ⇒ max softmax(x, T1) >= max softmax(x, T2)", strategy=tempered,
      scale=TEMPERED)
def top_prob_non_increasing(impl: Any, case: Tempered) -> None:
    slack = 2 * tolerance(case.x.dtype).normalisation(case.x.shape[0])
    _expect_monotone_in_T(impl, case, "top probability", "max p", lambda p: float(np.max(p)), slack, rising=False)


@prop("temperature.argmax_unchanged", needs=SOFTMAX,
      statement="for every T the largest probability sits at a largest logit", strategy=tempered,
      scale=TEMPERED)
def argmax_unchanged(impl: Any, case: Tempered) -> None:
    x, T = case.x, case.T1
    p = probs(impl, x, T)
    at_max = p[x == np.max(x)]
    if not np.max(at_max) >= np.max(p):
        i, j = int(np.argmax(p)), int(np.argmax(x))
        raise expect.fail(
            f"softmax(x, T={T:g}): the largest logit is x[{j}] = {expect.fmt(x[j])} with p = {expect.fmt(p[j])}, "
            f"but p[{i}] = {expect.fmt(p[i])} is larger (x[{i}] = {expect.fmt(x[i])})"
        )


@prop("temperature.cold_is_one_hot", needs=SOFTMAX,
      statement="with a unique max and T = gap / 64, softmax(x, T) puts 1 − O(e^−64) on the max",
      strategy=lambda: logit_vectors())
def cold_is_one_hot(impl: Any, x: np.ndarray) -> None:
    top = np.sort(x.astype(np.float64))[::-1]
    assume(x.shape[0] >= 2 and top[0] > top[1])
    T = float(top[0] - top[1]) / 64
    assume(T > 0)
    p = probs(impl, x, T)
    j = int(np.argmax(x))
    if not p[j] >= 1 - tolerance(x.dtype).normalisation(x.shape[0]):
        raise expect.fail(
            f"softmax(x, T={T:g}) with max logit x[{j}] = {expect.fmt(x[j])}, {expect.fmt(64 * T)} above the "
            f"next: expected p[{j}] ≈ 1, got {expect.fmt(p[j])}"
        )


@prop("temperature.hot_is_uniform", needs=SOFTMAX,
      statement="with T = 1e6 × the spread of x, softmax(x, T) is within 1e-6 of uniform",
      strategy=lambda: logit_vectors())
def hot_is_uniform(impl: Any, x: np.ndarray) -> None:
    spread = float(np.max(x.astype(np.float64)) - np.min(x))
    T = 1e6 * max(spread, 1.0)
    n = x.shape[0]
    expect.close(f"softmax(x, T={T:g}) for logits spanning {expect.fmt(spread)}", probs(impl, x, T),
                 np.full(n, 1 / n), 2e-6 / n + tolerance(x.dtype).normalisation(n))


@prop("temperature.invalid_rejected", needs=SOFTMAX,
      statement="softmax refuses T <= 0, NaN and ±inf (raises; returning anything is a failure)",
      strategy=lambda: st.tuples(logit_vectors(), st.sampled_from(INVALID_SOFTMAX_T)), tags=(CONTRACT,))
def invalid_rejected(impl: Any, example: tuple[np.ndarray, float]) -> None:
    x, T = example
    expect.rejects(f"softmax(x, T={T!r})", lambda: impl.softmax(x, T, -1))


@dataclasses.dataclass(frozen=True)
class Draw:
    """Logits, a temperature and the seed of the generator ``sample`` draws with."""

    logits: np.ndarray
    T: float
    seed: int


def _draws(temperature: st.SearchStrategy[float]) -> st.SearchStrategy[Draw]:
    return st.builds(Draw, logit_vectors(), temperature, st.integers(0, 2**32 - 1))


@prop("temperature.sample_greedy_at_zero", needs=SAMPLE,
      statement="sample(logits, 0, rng) is an index of the largest logit, even with maxima 1e-9 apart",
      strategy=lambda: _draws(st.just(0.0)))
def sample_greedy_at_zero(impl: Any, case: Draw) -> None:
    x = case.logits
    tries = 8  # a random pick among near-ties must lose at least once in 8
    made = calls(impl, *(("sample", (x, 0.0, np.random.default_rng(case.seed + k))) for k in range(tries)))
    for k in range(tries):
        i = int(made[k])
        if not (0 <= i < x.shape[0] and x[i] == np.max(x)):
            j = int(np.argmax(x))
            got = f"{i}, with logit {expect.fmt(x[i])}" if 0 <= i < x.shape[0] else f"{i}, outside the vocab"
            raise expect.fail(
                f"sample(logits, T=0) over {x.shape[0]} logits: expected the argmax {j} (logit "
                f"{expect.fmt(x[j])}), got {got}"
            )


def bernstein_bound(n_draws: int, p: np.ndarray, false_alarm: float) -> np.ndarray:
    """t_i with P(any |count_i − N p_i| > t_i) <= false_alarm over all i (Bernstein, union bound).

    P(|c − Np| >= t) <= 2 exp(−t² / (2 (N p (1 − p) + t/3))); solving 2n exp(...) = α for t gives
    t = L/3 + √(L²/9 + 2 L N p (1 − p)) with L = ln(2n / α).
    """
    L = math.log(2 * p.shape[0] / false_alarm)
    v = n_draws * p * (1 - p)
    return L / 3 + np.sqrt(L * L / 9 + 2 * L * v)


@prop("temperature.sample_follows_softmax", needs=SAMPLE,
      statement=f"{DRAWS} draws of sample(logits, T, rng) fit softmax(logits / T) "
                f"(Bernstein test, false alarm {FALSE_ALARM:g} per example)",
      strategy=lambda: _draws(sample_temperatures()),
      scale=Scale("T", lambda case: case.T, lambda case, v: dataclasses.replace(case, T=float(v)), low=T_MIN,
                  high=T_MAX, cause=lambda case, holds, fails: divide_first_cause(case.logits, fails)))
def sample_follows_softmax(impl: Any, case: Draw) -> None:
    x = case.logits
    rng = np.random.default_rng(case.seed)
    ids = np.array([int(i) for i in repeated(impl, "sample", DRAWS, x, case.T, rng)])
    outside = (ids < 0) | (ids >= x.shape[0])
    if outside.any():
        raise expect.fail(f"sample(logits, T={case.T:g}): expected ids in [0, {x.shape[0]}), got {ids[outside][0]}")
    p = plain_softmax(x, case.T)
    expected = DRAWS * p
    counts = np.bincount(ids, minlength=x.shape[0])
    bound = bernstein_bound(DRAWS, p, FALSE_ALARM)
    excess = np.abs(counts - expected) - bound
    if np.any(excess > 0):
        i = int(np.argmax(excess))
        raise expect.fail(
            f"sample(logits, T={case.T:g}) drew token {i} {counts[i]} times in {DRAWS}: expected "
            f"{expect.fmt(expected[i])} ± {expect.fmt(bound[i])} (p = {expect.fmt(p[i])}, logit "
            f"{expect.fmt(x[i])} of {x.shape[0]}; false-alarm rate {FALSE_ALARM:g})"
        )


@prop("temperature.sample_rejects_out_of_range", needs=SAMPLE,
      statement="sample refuses T < 0, T > 2 and NaN (raises; returning a token is a failure)",
      strategy=lambda: _draws(st.sampled_from(INVALID_SAMPLE_T)), tags=(CONTRACT,))
def sample_rejects_out_of_range(impl: Any, case: Draw) -> None:
    expect.rejects(f"sample(logits, T={case.T!r})",
                   lambda: impl.sample(case.logits, case.T, np.random.default_rng(case.seed)))
