"""Imports every family module of the catalogue, so that their properties are registered."""

from . import agreement, causality, embedding, head_concat, shapes, softmax, temperature, value  # noqa: F401
from . import decode  # noqa: F401, I001  (incremental decoding, the last of the spec's families)
# after the spec's families: registration order is report order
from . import generation, sdpa, sdpa_decode, batch  # noqa: F401, I001

FAMILIES = ("softmax", "temperature", "causality", "head_concat", "embedding", "value", "shapes", "agreement",
            "decode", "generation", "sdpa", "batch")
"""The families of the catalogue, in the order a report lists them. The last three need entry
points only a convention or a model family provides (:data:`gptspec.target.ENTRY_POINTS`)."""

CONVENTION_FAMILIES = ("generation", "sdpa", "batch")
"""The families whose properties call entry points (:data:`gptspec.target.ENTRY_POINTS`) a convention
or a model family provides, not the spec's functions."""
