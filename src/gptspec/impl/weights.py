"""Random weights for a config: for tests, demos and the symbolic checks' real-size twin."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..spec import BlockWeights, Config, Weights

__all__ = ["random_weights", "random_block_weights"]


def _normal(rng: np.random.Generator, shape: tuple[int, ...], scale: float, dtype: Any) -> np.ndarray:
    return (rng.standard_normal(shape, dtype=np.float32) * np.float32(scale)).astype(dtype, copy=False)


def random_block_weights(
    config: Config, rng: np.random.Generator, *, dtype: Any = np.float32, scale: float = 0.02
) -> BlockWeights:
    """One block's weights: matrices ~ N(0, scale²), layer-norm gains 1, biases 0."""
    c = config
    ones, zeros = np.ones(c.d_model, dtype), np.zeros(c.d_model, dtype)
    head = (c.n_heads, c.d_head, c.d_model)
    return BlockWeights(
        ln1_gain=ones.copy(), ln1_bias=zeros.copy(),
        W_Q=_normal(rng, head, scale, dtype), W_K=_normal(rng, head, scale, dtype),
        W_V_down=_normal(rng, head, scale, dtype), W_O=_normal(rng, (c.d_model, c.d_attn), scale, dtype),
        ln2_gain=ones.copy(), ln2_bias=zeros.copy(),
        W_up=_normal(rng, (c.d_mlp, c.d_model), scale, dtype), b_up=np.zeros(c.d_mlp, dtype),
        W_down=_normal(rng, (c.d_model, c.d_mlp), scale, dtype), b_down=zeros.copy(),
    )


def random_weights(
    config: Config, seed: int | np.random.Generator = 0, *, dtype: Any = np.float32, scale: float = 0.02
) -> Weights:
    """A full ``Weights`` container for ``config`` (mind the size: GPT-3 would need 700 GB)."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    c = config
    return Weights(
        W_E=_normal(rng, (c.d_model, c.vocab), scale, dtype),
        W_pos=_normal(rng, (c.d_model, c.n_ctx), scale / 2, dtype),
        blocks=tuple(random_block_weights(c, rng, dtype=dtype, scale=scale) for _ in range(c.n_layers)),
        lnf_gain=np.ones(c.d_model, dtype), lnf_bias=np.zeros(c.d_model, dtype),
        W_U=_normal(rng, (c.vocab, c.d_model), scale, dtype),
    )
