"""Random weights for a config: for tests, demos and the symbolic checks' real-size twin.

Every shape comes from the spec's containers (:func:`gptspec.spec.hints.build` walks their
fields in order), so the weights cannot drift from the types that check them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..spec import BlockWeights, Config, Weights, hints

__all__ = ["random_weights", "random_block_weights"]


def _normal(rng: np.random.Generator, shape: tuple[int, ...], scale: float, dtype: Any) -> np.ndarray:
    return (rng.standard_normal(shape, dtype=np.float32) * np.float32(scale)).astype(dtype, copy=False)


def _random(config: Config, rng: np.random.Generator, dtype: Any, scale: float) -> Callable[[str, Any], np.ndarray]:
    """One field's array: vectors are layer-norm gains (1) or biases (0); matrices ~ N(0, scale²), W_pos at scale/2."""

    def field(name: str, hint: Any) -> np.ndarray:
        shape = hints.shape_for(hint, config)
        if len(shape) == 1:
            return np.ones(shape, dtype) if name.endswith("gain") else np.zeros(shape, dtype)
        return _normal(rng, shape, scale / 2 if name == "W_pos" else scale, dtype)

    return field


def random_block_weights(
    config: Config, rng: np.random.Generator, *, dtype: Any = np.float32, scale: float = 0.02
) -> BlockWeights:
    """One block's weights: matrices ~ N(0, scale²), layer-norm gains 1, biases 0."""
    return hints.build(BlockWeights, _random(config, rng, dtype, scale), config.n_layers)


def random_weights(
    config: Config, seed: int | np.random.Generator = 0, *, dtype: Any = np.float32, scale: float = 0.02
) -> Weights:
    """A full ``Weights`` container for ``config`` (mind the size: GPT-3 would need 700 GB)."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return hints.build(Weights, _random(config, rng, dtype, scale), config.n_layers)
