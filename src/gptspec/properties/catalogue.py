"""Imports every family module of the catalogue, so that their properties are registered."""
