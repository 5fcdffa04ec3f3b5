"""gptspec.verification: run the property catalogue against a user's own implementation.

``gptspec.verify(target, layout=..., framework=..., profile=...)`` (this package's
:func:`verify`, re-exported at the top level) hands the target (a module name, a ``.py`` path,
or a picklable object with some of the spec's functions) to a process of its own
(:mod:`.isolation`), where it is loaded (:mod:`gptspec.target`), presented to the properties as
a columns-layout NumPy implementation (:mod:`.adapters`) and guarded (:mod:`.guard`); runs every
applicable property with a fixed, seeded search (:mod:`.runner`), on one or more worker
processes (:mod:`.session`); and returns a :class:`Report` (:mod:`.report`). Its two front ends,
the ``gptspec verify`` command (:mod:`gptspec.cli.verify`) and the pytest plugin
(:mod:`.pytest_plugin`), hold the same :class:`Session`.

Names are imported on first use, so that loading the pytest plugin (which pytest does in every
run where gptspec is installed) costs nothing until ``--gptspec-target`` is given.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_HOMES = {
    "SPEC_NAMES": "..target", "Target": "..target", "TargetError": "..target", "detect_framework": "..target",
    "load": "..target",
    "FRAMEWORKS": ".adapters", "LAYOUTS": ".adapters", "Adapted": ".adapters", "ResultTypeError": ".adapters",
    "adapt": ".adapters",
    "OptionError": ".errors", "SelectionError": ".errors",
    "CallTimeout": ".isolation", "Remote": ".isolation", "TargetCrashed": ".isolation", "TargetProcess": ".isolation",
    "TargetRaised": ".isolation",
    "STATUSES": ".report", "Failure": ".report", "PropertyResult": ".report", "Report": ".report", "render": ".report",
    "DEFAULT_TIMEOUT": ".runner", "PROFILES": ".runner", "Profile": ".runner", "Progress": ".runner",
    "run_property": ".runner", "select": ".runner",
    "Options": ".session", "Session": ".session", "verify": ".session",
}

__all__ = [
    "verify", "Options", "Session", "Report", "PropertyResult", "Failure", "STATUSES", "render",
    "load", "Target", "TargetError", "SPEC_NAMES", "detect_framework", "SelectionError", "OptionError",
    "adapt", "Adapted", "ResultTypeError", "LAYOUTS", "FRAMEWORKS",
    "PROFILES", "Profile", "Progress", "run_property", "select", "DEFAULT_TIMEOUT",
    "Remote", "TargetProcess", "CallTimeout", "TargetCrashed", "TargetRaised",
]
assert sorted(__all__) == sorted(_HOMES)

if TYPE_CHECKING:
    from ..target import SPEC_NAMES, Target, TargetError, detect_framework, load
    from .adapters import FRAMEWORKS, LAYOUTS, Adapted, ResultTypeError, adapt
    from .errors import OptionError, SelectionError
    from .isolation import CallTimeout, Remote, TargetCrashed, TargetProcess, TargetRaised
    from .report import STATUSES, Failure, PropertyResult, Report, render
    from .runner import DEFAULT_TIMEOUT, PROFILES, Profile, Progress, run_property, select
    from .session import Options, Session, verify


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value
