"""Hypothesis strategies generated from the spec: configs, tokens, weights, logits, temperatures.

Every array is drawn as simple values times one magnitude: the values are small integers or
floats in (−4, 4) (shrinking ends on integers, mostly 0), the magnitude is unit in half the
examples and small (1e-3) or large (1e1 … 1e5) in the other half. Weights containers, hundreds of
numbers, come from a seeded recipe (seed, integers or floats, magnitude) instead.
Large magnitudes make attention scores KᵀQ/√d_head reach 1e5 and far beyond, where a finite
mask constant (−1e4, −1e5) leaks and a softmax without max-subtraction overflows. Configs have
every dim from 1 upward and include d_model ≠ n_heads·d_head; every size shrinks towards 1 and
every magnitude towards unit, so a counterexample ends small and readable.

How an array is drawn, cheaply: :mod:`.coded` (one code byte per entry, decoded through
256-entry tables, one Hypothesis choice per array whatever its size); ``arrays`` and the rest
are importable from here as before. Strategies are built
once per argument tuple and reach (``_reused``): Hypothesis validates each strategy object on its
first draw, and composites that built their inner strategies afresh paid that on every example.
``benchmarks/draw_examples.py`` measures the cost per example against an earlier revision, and
``benchmarks/shrunk_examples.py`` the size of the planted bugs' counterexamples.

This module is the public surface: the simple draws are :mod:`.draws`, the examples made of
many tensors (weights containers, heads, models, the arguments of any spec function, batched
attention inputs) :mod:`.compound`, built on them.

``reach(extremes=False, near_ties=False)`` narrows every strategy drawn inside the block to unit
magnitudes and well-separated logits: the planted-bug tests use it to show which bugs only the
extremes or the near-ties find.
"""

from __future__ import annotations

from .compound import (
    Batched, Head, Model, MultiHead, Recipe, arguments, batched_inputs, block_weights, heads, models, multi_heads,
    recipes, weights,
)
from .draws import (
    CONFIG_FIELDS, DTYPES, LARGE, LOGIT_LARGE, SMALL, UNIT, Reach, SoftmaxInput, arrays, config_fields, configs,
    current_reach, dtypes, logit_vectors, magnitudes, reach, sample_temperatures, softmax_inputs, temperatures, tokens,
    values,
)

__all__ = [
    "Reach", "reach", "current_reach", "DTYPES", "UNIT", "SMALL", "LARGE", "LOGIT_LARGE",
    "dtypes", "magnitudes", "values", "arrays", "CONFIG_FIELDS", "configs", "config_fields", "tokens",
    "temperatures", "sample_temperatures", "logit_vectors", "SoftmaxInput", "softmax_inputs",
    "Recipe", "recipes", "block_weights", "weights", "arguments",
    "Head", "MultiHead", "Model", "heads", "multi_heads", "models", "Batched", "batched_inputs",
]
