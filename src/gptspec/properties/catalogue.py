"""Imports every family module of the catalogue, so that their properties are registered."""

from . import causality, softmax, temperature  # noqa: F401

FAMILIES = ("softmax", "temperature", "causality")
"""The families of the catalogue, in the order a report lists them."""
