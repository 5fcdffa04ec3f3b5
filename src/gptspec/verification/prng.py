"""A search that depends on its seed alone: NumPy's global generator seeded once per property, not
once per example (:func:`seeded_once`), and no constants harvested from the modules the process
happens to have imported (:func:`fixed_constants`).

Hypothesis saves, seeds and restores every global generator it knows around each example, NumPy's
(``numpy.random``'s legacy RandomState) among them: ``get_state`` and ``set_state`` copy its 624
words each time, ~0.1–0.2 ms an example, a few per cent of a verdict. gptspec's properties and
reference never draw from that generator (they draw from the Generators they are given or seed;
``tests/verification/test_prng.py`` checks the source for it), so :func:`seeded_once` takes it out
of Hypothesis's hands for one search and does the same once around the whole search instead: the
state is saved, seeded from the search's seed, and restored afterwards. Code that did draw from it
would still see one fixed sequence per property and seed.

Hypothesis (6.13x on) draws about one integer, float or bytes choice in twenty from a pool of
constants, and adds to that pool every literal it finds in the source of the "local" modules in
``sys.modules`` (any module outside site-packages and the standard library: gptspec itself when
installed editable, a test suite's modules, a notebook's). The examples of one seed then depend on
what the process imported before the search: under ``pytest -n auto`` a diagnosis test drew a
different counterexample, and named another cause, depending on which tests its worker ran first.
:func:`fixed_constants` gives every search the same empty local pool (Hypothesis's own global pool
of powers of two, boundaries and the like stays), so a seed means one sequence of examples.

This reads private names of Hypothesis: ``RANDOMS_TO_MANAGE`` and ``NumpyRandomWrapper`` of
``hypothesis.internal.entropy``, ``_get_local_constants`` and ``CONSTANTS_CACHE`` of
``hypothesis.internal.conjecture.providers``; where one is gone, the search runs as Hypothesis runs
it (``active()`` and ``constants_fixed()`` say which, and tests assert both for the Hypothesis the
project installs).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["seeded_once", "active", "fixed_constants", "constants_fixed"]


def _hypothesis_entropy() -> Any:
    try:
        from hypothesis.internal import entropy
    except ImportError:  # pragma: no cover - Hypothesis reorganised
        return None
    if not hasattr(entropy, "RANDOMS_TO_MANAGE") or not hasattr(entropy, "NumpyRandomWrapper"):
        return None
    return entropy


def active() -> bool:
    """Whether :func:`seeded_once` can take NumPy's generator out of Hypothesis's per-example care."""
    return _hypothesis_entropy() is not None


@contextlib.contextmanager
def seeded_once(seed: int) -> Iterator[None]:
    """Within the block, Hypothesis leaves NumPy's global generator alone; it is seeded once with
    ``seed`` and restored on the way out, as Hypothesis restores it after each example."""
    entropy = _hypothesis_entropy()
    if entropy is None:
        yield
        return
    if getattr(entropy, "NP_RANDOM", None) is None:  # Hypothesis registers it on its first search
        entropy.get_seeder_and_restorer(0)
    managed = entropy.RANDOMS_TO_MANAGE
    numpy_keys = [k for k, r in list(managed.items()) if isinstance(r, entropy.NumpyRandomWrapper)]
    taken = {k: managed.pop(k) for k in numpy_keys}
    state = np.random.get_state()
    np.random.seed(seed % 2**32)
    try:
        yield
    finally:
        np.random.set_state(state)
        managed.update(taken)


def _hypothesis_providers() -> Any:
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - Hypothesis reorganised
        return None
    names = ("_get_local_constants", "CONSTANTS_CACHE", "Constants")
    if not all(hasattr(providers, n) for n in names) or not hasattr(providers.CONSTANTS_CACHE, "cache"):
        return None
    return providers


def constants_fixed() -> bool:
    """Whether :func:`fixed_constants` can keep imported modules' literals out of a search."""
    return _hypothesis_providers() is not None


@contextlib.contextmanager
def fixed_constants() -> Iterator[None]:
    """Within the block, Hypothesis's pool of local constants is empty whatever the process has
    imported; its cache of allowed constants is cleared on the way in and out (it holds choices
    from the pool that was in force when it was filled)."""
    providers = _hypothesis_providers()
    if providers is None:
        yield
        return
    empty = providers.Constants()
    original = providers._get_local_constants
    providers.CONSTANTS_CACHE.cache.clear()
    providers._get_local_constants = lambda: empty
    try:
        yield
    finally:
        providers._get_local_constants = original
        providers.CONSTANTS_CACHE.cache.clear()
