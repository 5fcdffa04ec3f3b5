"""Imports every family module of the catalogue, so that their properties are registered."""

from . import agreement, causality, embedding, head_concat, shapes, softmax, temperature, value  # noqa: F401
from . import decode  # noqa: F401, I001  (incremental decoding, the last of the spec's families)
# after the spec's families: registration order is report order
from . import sdpa, sdpa_decode, batch  # noqa: F401, I001

FAMILIES = ("softmax", "temperature", "causality", "head_concat", "embedding", "value", "shapes", "agreement",
            "decode", "sdpa", "batch")
"""The families of the catalogue, in the order a report lists them. The last two need entry
points only a convention provides (:data:`gptspec.target.ENTRY_POINTS`)."""

CONVENTION_FAMILIES = ("sdpa", "batch")
"""The families whose properties call a convention's own entry points, not the spec's functions."""
