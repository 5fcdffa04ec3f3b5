"""Imports every family module of the catalogue, so that their properties are registered."""

from . import softmax  # noqa: F401

FAMILIES = ("softmax",)
"""The families of the catalogue, in the order a report lists them."""
