"""Imports every family module of the catalogue, so that their properties are registered."""

from . import causality, embedding, head_concat, softmax, temperature, value  # noqa: F401

FAMILIES = ("softmax", "temperature", "causality", "head_concat", "embedding", "value")
"""The families of the catalogue, in the order a report lists them."""
