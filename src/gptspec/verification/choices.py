"""The choices of a verify run, in one cheap module: the pytest plugin reads them at start-up
without importing NumPy's adapters or Hypothesis, and the engine builds on the same constants."""

from __future__ import annotations

import re
from typing import Any

from ..properties.profiles import PROFILE_EXAMPLES, SHRINK_TRIES  # one home, no Hypothesis at import
from .frameworks import NAMES as FRAMEWORKS

__all__ = ["LAYOUTS", "KERNEL", "FRAMEWORKS", "PROFILE_EXAMPLES", "SHRINK_TRIES", "PROFILE_NAMES", "DEFAULT_TIMEOUT",
           "memory_size", "memory_text"]

LAYOUTS = ("columns", "rows")
KERNEL = "kernel"
"""Not a choice: the layout a failure's counterexample is shown in when it is a convention kernel's
own ``[batch heads L D]`` arrays (the properties of :data:`.conventions.KERNEL_ENTRY_POINTS`)."""


PROFILE_NAMES = tuple(PROFILE_EXAMPLES)

DEFAULT_TIMEOUT = 5.0
"""Seconds one call of a target function may take before its process is killed as hanging."""

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kib": 1 << 10, "kb": 10**3, "m": 1 << 20, "mib": 1 << 20, "mb": 10**6,
          "g": 1 << 30, "gib": 1 << 30, "gb": 10**9, "t": 1 << 40, "tib": 1 << 40, "tb": 10**12}


def memory_size(size: str | int) -> int:
    """Bytes of a memory limit written as ``2GiB``, ``512MiB``, ``1.5GB``, ``4G`` (K, M, G, T are
    binary, as ulimit's) or a number of bytes; ValueError saying what it takes for anything else."""
    if isinstance(size, int) and not isinstance(size, bool):
        number, unit = float(size), ""
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]*)\s*", str(size))
        if match is None or match.group(2).lower() not in _UNITS:
            raise ValueError(f"a memory limit is a size such as 2GiB, 512MiB or 1.5GB, got {size!r:.40}")
        number, unit = float(match.group(1)), match.group(2).lower()
    limit = int(number * _UNITS[unit])
    if limit < 1 << 20:
        raise ValueError(f"a memory limit below 1 MiB leaves no room for Python, got {size!r:.40}")
    return limit


def memory_text(size: int, *, option: bool = False) -> str:
    """'512 MiB', '2 GiB', '1000000 bytes' (``option``: as ``--memory-limit`` takes it, '512MiB')."""
    for unit, power in (("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if size % (1 << power) == 0:
            return f"{size >> power}{'' if option else ' '}{unit}"
    return f"{size}" if option else f"{size} bytes"


def __getattr__(name: str) -> Any:
    """``CONVENTIONS`` (name → help), now read from the Convention records (deprecated)."""
    if name != "CONVENTIONS":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import warnings

    from . import conventions

    warnings.warn("gptspec.verification.choices.CONVENTIONS is replaced by the Convention records of "
                  "gptspec.verification.conventions (registered())", DeprecationWarning, stacklevel=2)
    return {c.name: c.help for c in conventions.registered()}
