"""Arguments a call must hand back as it found them: the KV cache.

Branching and beam search feed one cache to several calls, so ``forward_cached`` and
``multi_head_attention_cached`` must not write into the cache they are given. A target runs in a
process of its own and gets a copy of every argument, so a write into one is invisible to the
property that made the call; the adapter, in the target's process, keeps a copy of these arguments
(:data:`READ_ONLY`) before the call and compares after it (:func:`keep`, :func:`check`), and a
changed one fails the property with :class:`ArgumentModified`, naming the argument and the entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..properties.registry import PropertyFailure

__all__ = ["READ_ONLY", "ArgumentModified", "read_only", "keep", "check", "written"]

READ_ONLY = frozenset({"K_past", "V_past", "cache"})
"""Parameters of the spec a call may read and never write."""


class ArgumentModified(PropertyFailure):
    """A target function wrote into an argument it must only read."""


def read_only(names: Sequence[str]) -> tuple[int, ...]:
    """The positions of the read-only parameters among a signature's ``names``."""
    return tuple(i for i, name in enumerate(names) if name in READ_ONLY)


def _leaves(value: Any, label: str) -> list[tuple[str, Any]]:
    """(label, array-like) for every array inside nested tuples and lists (``cache[0][1]``)."""
    if isinstance(value, (tuple, list)):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, f"{label}[{i}]")]
    return [(label, value)] if hasattr(value, "shape") else []


def _copy(value: Any) -> np.ndarray:
    clone = getattr(value, "clone", None)  # a torch tensor: its own copy, read as NumPy
    return np.array(clone().detach().cpu() if callable(clone) else value, copy=True)


def keep(names: Sequence[str], values: Sequence[Any], where: tuple[int, ...]) -> list[tuple[str, Any, np.ndarray]]:
    """(label, the argument's leaf, a copy of it) for every leaf of the read-only arguments."""
    return [(label, leaf, _copy(leaf)) for i in where if i < len(values)
            for label, leaf in _leaves(values[i], names[i])]


def check(fn: str, kept: list[tuple[str, Any, np.ndarray]]) -> None:
    """Raise :class:`ArgumentModified` for the first kept leaf that no longer equals its copy."""
    for label, leaf, before in kept:
        now = _copy(leaf)
        same = now.shape == before.shape and np.array_equal(now, before, equal_nan=now.dtype.kind == "f")
        if not same:
            diff = np.flatnonzero(now != before) if now.shape == before.shape else np.array([], dtype=int)
            if diff.size:
                where = [int(i) for i in np.unravel_index(int(diff[0]), now.shape)]
                at = f" at {where}: {before.flat[diff[0]].item()!r} became {now.flat[diff[0]].item()!r}"
            else:
                at = f": shape {before.shape} became {now.shape}"
            raise ArgumentModified(
                f"{fn} modified its argument {label} in place{at} ({diff.size} of {before.size} entries; the cache "
                "passed in must not change: branching and beam search feed it again)"
            )


def written(names: Sequence[str], before: Sequence[Any], after: Sequence[Any]) -> tuple[str, ...]:
    """The labels of the read-only arguments' leaves that differ between two copies of a call's arguments,
    ``before`` it and ``after`` it (in the process that made it): what the call wrote into."""
    where = read_only(names)
    if not where:
        return ()
    then = {label: copy for label, _, copy in keep(names, before, where)}
    out = []
    for label, _, now in keep(names, after, where):
        was = then.get(label)
        if was is None or was.shape != now.shape or not np.array_equal(was, now, equal_nan=now.dtype.kind == "f"):
            out.append(label)
    return tuple(out)
