"""The choices of a verify run, in one cheap module: the pytest plugin reads them at start-up
without importing NumPy's adapters or Hypothesis, and the engine builds on the same constants."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from ..properties.profiles import PROFILE_EXAMPLES, SHRINK_TRIES  # one home, no Hypothesis at import
from .frameworks import NAMES as FRAMEWORKS

__all__ = ["LAYOUTS", "KERNEL", "FRAMEWORKS", "PROFILE_EXAMPLES", "SHRINK_TRIES", "PROFILE_NAMES", "DEFAULT_TIMEOUT",
           "Argument", "arguments", "memory_size", "memory_text"]

LAYOUTS = ("columns", "rows")
KERNEL = "kernel"
"""Not a choice: the layout a failure's counterexample is shown in when it is a convention kernel's
own ``[batch heads L D]`` arrays (the properties of :data:`.conventions.KERNEL_ENTRY_POINTS`)."""


PROFILE_NAMES = tuple(PROFILE_EXAMPLES)

DEFAULT_TIMEOUT = 5.0
"""Seconds one call of a target function may take before its process is killed as hanging."""


@dataclasses.dataclass(frozen=True)
class Argument:
    """One field of :class:`.options.Options` as a command line takes it: ``gptspec verify``'s
    ``--FLAG`` and the pytest plugin's ``--gptspec-FLAG`` are both added from it (``settings`` are
    argparse's keywords, which pytest's ``addoption`` takes too), and ``Options.read`` reads it
    back by ``name``, the field's name."""

    name: str
    help: str
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def arguments() -> tuple[Argument, ...]:
    """Every option of a verify run, in the order ``--help`` lists them: one per Options field."""
    from .conventions import NAMES as CONVENTIONS  # the convention registry (cheap: no adapter, no Hypothesis)

    return (
        Argument("convention", "TARGET is one function in this ecosystem convention, not the spec's names: "
                 + ", ".join(CONVENTIONS) + " (gptspec builds the spec's attention functions around it)",
                 dict(choices=CONVENTIONS, default=None)),
        Argument("layout", "columns: the spec's (tokens are columns); rows: every 2-D tensor transposed (nanoGPT)",
                 dict(choices=LAYOUTS, default="columns")),
        Argument("framework", "what your functions take and return: " + ", ".join(FRAMEWORKS)
                 + " (default: the one whose library the target imports)", dict(choices=FRAMEWORKS, default=None)),
        Argument("profile", "how hard to search: " + ", ".join(f"{k} {n}" for k, n in PROFILE_EXAMPLES.items())
                 + " examples per property", dict(choices=PROFILE_NAMES, default="default")),
        Argument("assume", "declare what your code supports, so the search stays inside it (repeatable): "
                 "causal-only, d_model=n_heads*d_head, float32, float64, max-ctx=N; adds to the module's "
                 "GPTSPEC_ASSUME. A property the declaration excludes is 'not applicable'",
                 dict(action="append", default=[], metavar="WORD")),
        Argument("timeout", f"per-call time limit, after which your code's process is killed; 0 for none "
                 f"(default {DEFAULT_TIMEOUT:g})", dict(type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS")),
        Argument("memory_limit", "most memory (address space) each process of your code may take, e.g. 2GiB or "
                 "512MiB; going over it is an error that says so (default: none)",
                 dict(default=None, metavar="SIZE")),
        Argument("strict", "count fragile properties (they fail only beyond the ordinary domain: scores above "
                 "1e6, T below 0.01, ...) as failed: exit 1", dict(action="store_true", default=False)),
    )


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
