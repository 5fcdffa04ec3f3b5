"""The checks switch: on, off, or "first" (only the first call of each shape signature).

Checks are on by default. ``GPTSPEC_CHECKS=0`` in the environment turns them off at import, and
``set_checks`` / ``checks`` switch them at run time; off, a call costs one flag test.
``GPTSPEC_CHECKS=first`` or ``set_checks("first")`` selects the "first" mode of
:mod:`gptspec.spec.check`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from .errors import ArgumentTypeError

__all__ = ["checks", "set_checks", "checks_enabled", "checks_mode", "SWITCH"]

_MODES = ("on", "off", "first")


def _checks_from_env() -> str:
    value = os.environ.get("GPTSPEC_CHECKS", "1").strip().lower()
    if value == "first":
        return "first"
    return "off" if value in ("0", "false", "no", "off") else "on"


def _mode(enabled: bool | str) -> str:
    """True/False, or one of "on", "off", "first"."""
    if isinstance(enabled, str):
        if enabled not in _MODES:
            raise ArgumentTypeError(f"checks mode should be True, False or one of {', '.join(_MODES)}; got {enabled!r}")
        return enabled
    return "on" if enabled else "off"


class _Switch:
    """The checks mode, read on every call: ``enabled`` (on or first) and ``first`` (first only)."""

    __slots__ = ("enabled", "first")

    def __init__(self) -> None:
        self.set(_checks_from_env())

    def set(self, mode: str) -> None:
        self.enabled = mode != "off"
        self.first = mode == "first"

    @property
    def mode(self) -> str:
        return "off" if not self.enabled else "first" if self.first else "on"


SWITCH = _Switch()
"""The process's switch; checked functions read ``SWITCH.enabled`` and ``SWITCH.first`` on every call."""


def checks_enabled() -> bool:
    """Whether calls of checked functions are checked now (in "first" mode: their first calls)."""
    return SWITCH.enabled


def checks_mode() -> str:
    """"on", "off", or "first" (the first call of each shape signature only)."""
    return SWITCH.mode


def set_checks(enabled: bool | str) -> None:
    """Turn run-time checks on or off for the whole process, or ``"first"``: see gptspec.spec.check."""
    SWITCH.set(_mode(enabled))


@contextlib.contextmanager
def checks(enabled: bool | str) -> Iterator[None]:
    """``with checks(False): ...`` runs a block with checks off (or on, or "first"), then restores."""
    before = SWITCH.mode
    SWITCH.set(_mode(enabled))
    try:
        yield
    finally:
        SWITCH.set(before)
