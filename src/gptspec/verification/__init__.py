"""gptspec.verification: run the property catalogue against a user's own implementation.

``gptspec.verify(target, layout=..., framework=..., profile=...)`` (this package's
:func:`verify`, re-exported at the top level) loads the target (a module
name, a ``.py`` path, or any object with some of the spec's functions), presents it to the
properties as a columns-layout NumPy implementation (:mod:`.adapters`), runs every applicable
property under a per-call time limit with output captured (:mod:`.guard`), and returns a
:class:`Report`. The ``gptspec verify`` command and the pytest plugin
(``pytest --gptspec-target=...``) are built on the same pieces.
"""

from .adapters import FRAMEWORKS, LAYOUTS, Adapted, ResultTypeError, adapt, detect_framework
from .loader import SPEC_NAMES, Target, TargetError, load
from .report import STATUSES, Failure, PropertyResult, Report, render
from .runner import DEFAULT_TIMEOUT, PROFILES, Profile, Progress, SelectionError, run_property, select, verify
from .timeouts import CallTimeout

__all__ = [
    "verify", "Report", "PropertyResult", "Failure", "STATUSES", "render",
    "load", "Target", "TargetError", "SPEC_NAMES", "SelectionError",
    "adapt", "Adapted", "detect_framework", "ResultTypeError", "LAYOUTS", "FRAMEWORKS",
    "PROFILES", "Profile", "Progress", "run_property", "select", "DEFAULT_TIMEOUT", "CallTimeout",
]
