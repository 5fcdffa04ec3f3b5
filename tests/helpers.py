"""Small shared builders for the foundation tests."""

from __future__ import annotations

import numpy as np

from gptspec import Config

TINY = Config(vocab=13, d_model=8, n_heads=2, d_head=3, n_ctx=6, n_layers=2, d_mlp=16, name="tiny")


def randn(rng: np.random.Generator, *shape: int, dtype=np.float64) -> np.ndarray:
    return rng.standard_normal(shape).astype(dtype)
