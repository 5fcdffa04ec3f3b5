"""Recording a shape-only run: the operations it did and the bytes its arrays would have held.

Inside ``with recording() as rec:`` every shape-only operation appends an :class:`Op` to
``rec.events`` (the runner adds its own call events to the same list), and every array an
operation creates counts its full ``nbytes`` as live until Python frees it. NumPy frees
temporaries the same way, so ``rec.peak`` is what a real run of the same code would hold at its
peak, on top of whatever existed before recording began (the weights). Views (transpose, basic
slicing, reshape) cost nothing, as in NumPy.
"""

from __future__ import annotations

import contextlib
import contextvars
import typing
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["Op", "Recorder", "recording", "active_recorder"]

Shape = tuple[int, ...]


class Op(typing.NamedTuple):
    """One shape-only operation: its name, its operands' shapes, its result's shape and dtype."""

    name: str
    operands: tuple[Shape, ...]
    shape: Shape
    dtype: np.dtype[Any]
    allocates: bool


class Recorder:
    """The events of one run, and the live and peak bytes of the arrays its operations created."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.live = 0
        self.peak = 0
        self._sizes: dict[int, tuple[weakref.ref[np.ndarray], int]] = {}

    def allocated(self, array: np.ndarray) -> None:
        """Count ``array``'s bytes as live until it is garbage."""
        n = int(array.nbytes)
        self.live += n
        self.peak = max(self.peak, self.live)
        ref = weakref.ref(array, self._freed)
        self._sizes[id(ref)] = (ref, n)

    def _freed(self, ref: weakref.ref[np.ndarray]) -> None:
        self.live -= self._sizes.pop(id(ref))[1]


_ACTIVE: contextvars.ContextVar[Recorder | None] = contextvars.ContextVar("gptspec_recorder", default=None)


def active_recorder() -> Recorder | None:
    return _ACTIVE.get()


@contextlib.contextmanager
def recording() -> Iterator[Recorder]:
    """Record the shape-only operations of the block (nested recordings each see their own)."""
    recorder = Recorder()
    token = _ACTIVE.set(recorder)
    try:
        yield recorder
    finally:
        _ACTIVE.reset(token)
