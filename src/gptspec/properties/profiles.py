"""How hard a search looks, defined once: the search profiles of ``gptspec verify``
(:data:`PROFILE_EXAMPLES`, :data:`SHRINK_TRIES`: quick, default, thorough) and the test suite's
Hypothesis profiles (:data:`SUITE_PROFILES`), chosen by ``GPTSPEC_PROFILE`` (default ``ci`` under
``CI=true``, else ``dev``). ``thorough`` is one number in both. This module imports Hypothesis
only when a profile is registered, so the verifier's cheap option module can read it.

- ``ci``: 40 examples per property, derandomized (the same examples on every run, so a red run
  is reproducible from its log and a green one stays green), no deadline. The whole property
  suite — the catalogue against the reference plus every planted bug — runs in about a minute
  on 2 cores.
- ``dev``: 60 random examples per property, for everyday work: each run explores new inputs.
- ``thorough``: verify's thorough count, 500 random examples per property (12.5× ci), for a
  release or a suspicion.

``tests/conftest.py`` loads the profile. The
planted-bug tests do not follow the profile: they hunt with fixed, bounded settings of their
own (``tests/properties/planting.py``), since a planted bug must be found on every run.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["PROFILE_EXAMPLES", "SHRINK_TRIES", "SUITE_PROFILES", "register_profiles", "load_profile",
           "profile_from_env"]

PROFILE_EXAMPLES = {"quick": 25, "default": 100, "thorough": 500}
"""Examples per property in each search profile of ``gptspec verify``: fixed, whatever the clock
says (default is Hypothesis's own default)."""

SHRINK_TRIES = {"quick": 100, "default": 300, "thorough": 2000}
"""Tries Hypothesis gets to shrink a failure in each search profile; then the smallest failing
example found is reported. A count, not seconds: the same counterexample on any machine."""

SUITE_PROFILES: dict[str, dict[str, Any]] = {
    "ci": dict(max_examples=40, derandomize=True, print_blob=True),
    "dev": dict(max_examples=60),
    "thorough": dict(max_examples=PROFILE_EXAMPLES["thorough"]),
}
"""The suite's profiles; each also gets no deadline and no too-slow / data-too-large health check."""


def register_profiles() -> None:
    from hypothesis import HealthCheck, settings

    common: dict[str, Any] = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    for name, kwargs in SUITE_PROFILES.items():
        settings.register_profile(name, **kwargs, **common)


def profile_from_env() -> str:
    name = os.environ.get("GPTSPEC_PROFILE", "").strip()
    if name:
        if name not in SUITE_PROFILES:
            raise ValueError(f"GPTSPEC_PROFILE={name!r}: known profiles are {', '.join(SUITE_PROFILES)}")
        return name
    return "ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev"


def load_profile(name: str | None = None) -> str:
    from hypothesis import settings

    register_profiles()
    chosen = name or profile_from_env()
    settings.load_profile(chosen)
    return chosen
