"""NumPy's global generator during a search: seeded once per property, not once per example.

Hypothesis saves, seeds and restores every global generator it knows around each example, NumPy's
(``numpy.random``'s legacy RandomState) among them: ``get_state`` and ``set_state`` copy its 624
words each time, ~0.1–0.2 ms an example, a few per cent of a verdict. gptspec's properties and
reference never draw from that generator (they draw from the Generators they are given or seed;
``tests/verification/test_prng.py`` checks the source for it), so :func:`seeded_once` takes it out
of Hypothesis's hands for one search and does the same once around the whole search instead: the
state is saved, seeded from the search's seed, and restored afterwards. Code that did draw from it
would still see one fixed sequence per property and seed.

This reads two private names of ``hypothesis.internal.entropy`` (``RANDOMS_TO_MANAGE`` and
``NumpyRandomWrapper``); if either is gone, the search runs as Hypothesis runs it, only slower
(``active()`` says which, and a test asserts it for the Hypothesis the project installs).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["seeded_once", "active"]


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
