"""The errors of a verify run's options (the target's own are :class:`gptspec.target.TargetError`)."""

from __future__ import annotations

from ..spec import SpecError

__all__ = ["OptionError", "SelectionError"]


class OptionError(SpecError, ValueError):
    """An option of a verify run that names nothing: a profile, layout, framework or job count."""


class SelectionError(OptionError):
    """An ``--only``/``--skip`` name that names no property, family or spec function."""
