"""Shape-only weights and tokens for a config: GPT-3's 175 billion parameters in a few kilobytes.

Every shape comes from the spec's own annotations (the fields of ``Weights`` and ``BlockWeights``)
evaluated with the config's sizes, so the containers cannot drift from the types they check.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..spec import Config, Weights, hints
from .array import ShapeOnlyArray, shape_only

__all__ = ["shape_only_weights", "shape_only_tokens", "shape_of"]


def shape_of(hint: Any, config: Config, ctx: int | None = None) -> tuple[int, ...]:
    """The shape a jaxtyping annotation of the spec has under ``config`` (ctx defaults to n_ctx)."""
    return hints.shape_for(hint, config, ctx)


def shape_only_weights(config: Config, dtype: Any = np.float32) -> Weights:
    """A ``Weights`` container of shape-only arrays, one ``BlockWeights`` per layer."""
    return hints.build(Weights, lambda name, hint: shape_only(shape_of(hint, config), dtype), config.n_layers)


def shape_only_tokens(ctx: int, dtype: Any = np.int64) -> ShapeOnlyArray:
    """``ctx`` token ids with no values: the reference skips its range check on them."""
    return shape_only((ctx,), dtype)
