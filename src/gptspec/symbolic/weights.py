"""Shape-only weights and tokens for a config: GPT-3's 175 billion parameters in a few kilobytes.

Every shape comes from the spec's own annotations (the fields of ``Weights`` and ``BlockWeights``)
evaluated with the config's sizes, so the containers cannot drift from the types they check.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import numpy as np

from ..spec import BlockWeights, Config, Weights
from ..spec.tensors import dim_sizes, hint_shape
from .array import ShapeOnlyArray, shape_only

__all__ = ["shape_only_weights", "shape_only_tokens", "shape_of"]


def shape_of(hint: Any, config: Config, ctx: int | None = None) -> tuple[int, ...]:
    """The shape a jaxtyping annotation of the spec has under ``config`` (ctx defaults to n_ctx)."""
    return hint_shape(hint, dim_sizes(config, ctx))


def _field_shapes(cls: type, config: Config) -> dict[str, tuple[int, ...]]:
    """The shape of every array field of a weights container under ``config``."""
    hints = typing.get_type_hints(cls)
    return {f.name: shape_of(hints[f.name], config) for f in dataclasses.fields(cls) if f.name != "blocks"}


def shape_only_weights(config: Config, dtype: Any = np.float32) -> Weights:
    """A ``Weights`` container of shape-only arrays, one ``BlockWeights`` per layer."""
    block = _field_shapes(BlockWeights, config)
    blocks = tuple(
        BlockWeights(**{name: shape_only(shape, dtype) for name, shape in block.items()}) for _ in range(config.n_layers)
    )
    return Weights(**{name: shape_only(shape, dtype) for name, shape in _field_shapes(Weights, config).items()}, blocks=blocks)


def shape_only_tokens(ctx: int, dtype: Any = np.int64) -> ShapeOnlyArray:
    """``ctx`` token ids with no values: the reference skips its range check on them."""
    return shape_only((ctx,), dtype)
