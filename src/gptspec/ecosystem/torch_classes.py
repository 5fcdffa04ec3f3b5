"""Recognising a torch model's classes without importing torch: the torch families' one look at torch.

A model family written in torch (nanoGPT, minGPT) is recognised in the target's process from the
classes the user's module defines; torch is read from ``sys.modules`` (the user's module imported
it), never imported here, so recognising a NumPy file costs no torch import.
"""

from __future__ import annotations

import sys
import types

from .families import Miss, classes_of, has_parameters

__all__ = ["module_class"]


def module_class(module: types.ModuleType, generate: tuple[str, ...], what: str) -> type:
    """The first nn.Module class of ``module`` whose ``generate`` takes ``generate`` first; else
    :class:`~.families.Miss` (``what``: the signature looked for, for the message)."""
    torch = sys.modules.get("torch")
    if torch is None:
        raise Miss("it does not import torch")
    for cls in classes_of(module):
        if issubclass(cls, torch.nn.Module) and has_parameters(getattr(cls, "generate", None), generate):
            return cls
    raise Miss(f"no nn.Module with {what}")
