"""The options of a verify run, carried whole: validated once, read from a front end by name,
rendered back into the command's arguments (:meth:`Options.argv`) and the reproduce command.

``gptspec verify`` and the pytest plugin read an :class:`Options` from their own arguments with
:meth:`Options.read` (the plugin's ``--gptspec-NAME`` are the command's ``--NAME``), :func:`.session.verify`
builds one from its keywords, and every session, worker and report line takes it whole.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Callable
from typing import Any

from ..properties.domain import AssumptionError, parse
from . import conventions
from .choices import DEFAULT_TIMEOUT, FRAMEWORKS, LAYOUTS, PROFILE_NAMES, memory_size, memory_text
from .conventions import check_convention
from .errors import OptionError

__all__ = ["Options"]


@dataclasses.dataclass(frozen=True)
class Options:
    """How a target is verified: its layout and framework, the search profile, the per-call limit,
    the declared domain (``assume``, :mod:`gptspec.properties.domain`; the target module's own
    ``GPTSPEC_ASSUME`` adds to it), whether fragile counts as failed (``strict``), and the
    convention the target is written in (None: the spec's own function names)."""

    layout: str = "columns"
    framework: str | None = None  # None: detected from what the target imports
    profile: str = "default"
    timeout: float | None = DEFAULT_TIMEOUT  # seconds per call; None: no limit
    assume: tuple[str, ...] = ()  # --assume words, in canonical form once validated
    strict: bool = False  # fragile counts as failed
    convention: str | None = None  # "sdpa", "hf-attention", a module layout (.conventions)
    memory_limit: int | str | None = None  # of each target process: '2GiB', '512MiB' or bytes (an int once checked)

    def __post_init__(self) -> None:
        if self.memory_limit is not None:
            try:
                object.__setattr__(self, "memory_limit", memory_size(self.memory_limit))
            except ValueError as exc:
                raise OptionError(f"--memory-limit: {exc}") from None
        if isinstance(self.assume, str):
            raise OptionError(f"assume takes a list of words, e.g. [{self.assume!r}], not a string")
        try:
            declared = parse(self.assume)
        except AssumptionError as exc:
            raise OptionError(str(exc)) from None
        object.__setattr__(self, "assume", declared.words)
        object.__setattr__(self, "strict", bool(self.strict))
        if self.profile not in PROFILE_NAMES:
            raise OptionError(f"unknown profile {self.profile!r}; profiles: {', '.join(PROFILE_NAMES)}")
        if self.layout not in LAYOUTS:
            raise OptionError(f"layout must be one of {', '.join(LAYOUTS)}, got {self.layout!r}")
        if self.framework is not None and self.framework not in FRAMEWORKS:
            raise OptionError(f"framework must be one of {', '.join(FRAMEWORKS)}, got {self.framework!r}")
        if self.timeout is not None and not self.timeout > 0:
            raise OptionError(f"the per-call timeout must be positive seconds (or None), got {self.timeout!r}")
        check_convention(self.convention, layout=self.layout, framework=self.framework)

    @classmethod
    def read(cls, get: Callable[[str], Any]) -> Options:
        """The options a front end was given, each read by its field's name (``get("memory_limit")``):
        the command's arguments and the pytest plugin's options name them alike. A timeout of 0 is none."""
        values = {field.name: get(field.name) for field in dataclasses.fields(cls)}
        values["timeout"] = values["timeout"] or None
        values["assume"] = tuple(values["assume"])
        return cls(**values)

    def argv(self, *, framework: str | None = None, strict: bool = True) -> list[str]:
        """These options as ``gptspec verify`` takes them, defaults left out (``framework``: the one the
        target was found to use, else the one chosen; left out for NumPy and when the convention fixes
        it); ``strict=False`` leaves ``--strict`` out, as a reproduce command does (it judges a whole run,
        not one property's examples)."""
        parts = ["--convention", self.convention] if self.convention is not None else []
        for word in self.assume:
            parts += ["--assume", word]
        if self.layout != "columns":
            parts += ["--layout", self.layout]
        framework = framework or self.framework
        fixed = conventions.get(self.convention).framework if self.convention is not None else None
        if framework not in (None, "numpy", fixed):
            parts += ["--framework", framework]
        if self.profile != "default":
            parts += ["--profile", self.profile]
        if self.timeout != DEFAULT_TIMEOUT:
            parts += ["--timeout", f"{self.timeout or 0:g}"]
        if self.memory_limit is not None:
            assert isinstance(self.memory_limit, int)  # checked in __post_init__
            parts += ["--memory-limit", memory_text(self.memory_limit, option=True)]
        return parts + (["--strict"] if self.strict and strict else [])

    def reproducer(self, label: str, framework: str | None, seed: int) -> Callable[[str], str]:
        """The one-line command that reruns one property of this run on the same examples (the
        target module's own GPTSPEC_ASSUME needs no option)."""
        prefix = shlex.join(["gptspec", "verify", label, *self.argv(framework=framework, strict=False)])
        return lambda name: f"{prefix} --only {shlex.quote(name)} --seed {seed}"
