"""Imports every family module of the catalogue, so that their properties are registered."""

from . import agreement, causality, embedding, head_concat, shapes, softmax, temperature, value  # noqa: F401

FAMILIES = ("softmax", "temperature", "causality", "head_concat", "embedding", "value", "shapes", "agreement")
"""The families of the catalogue, in the order a report lists them."""
