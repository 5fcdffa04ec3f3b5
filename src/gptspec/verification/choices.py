"""The choices of a verify run, in one cheap module: the pytest plugin reads them at start-up
without importing NumPy's adapters or Hypothesis, and the engine builds on the same constants."""

from __future__ import annotations

__all__ = ["LAYOUTS", "FRAMEWORKS", "PROFILE_EXAMPLES", "SHRINK_TRIES", "PROFILE_NAMES", "DEFAULT_TIMEOUT"]

LAYOUTS = ("columns", "rows")
FRAMEWORKS = ("numpy", "torch")

PROFILE_EXAMPLES = {"quick": 25, "default": 100, "thorough": 500}
"""Examples per property in each search profile: fixed, whatever the clock says (default is
Hypothesis's own default)."""

SHRINK_TRIES = {"quick": 100, "default": 300, "thorough": 2000}
"""Tries Hypothesis gets to shrink a failure in each profile; then the smallest failing example
found is reported. A count, not seconds: the same counterexample on any machine."""

PROFILE_NAMES = tuple(PROFILE_EXAMPLES)

DEFAULT_TIMEOUT = 5.0
"""Seconds one call of a target function may take before its process is killed as hanging."""
