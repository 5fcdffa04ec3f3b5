"""The test suite's Hypothesis profiles (``SUITE_PROFILES``), chosen by ``GPTSPEC_PROFILE``
(default ``ci`` under ``CI=true``, else ``dev``). Not the search profiles of ``gptspec verify``
(quick, default, thorough: :data:`gptspec.verification.PROFILES`), which fix their own settings.

- ``ci``: 40 examples per property, derandomized (the same examples on every run, so a red run
  is reproducible from its log and a green one stays green), no deadline. The whole property
  suite — the catalogue against the reference plus every planted bug — runs in about a minute
  on 2 cores.
- ``dev``: 60 random examples per property, for everyday work: each run explores new inputs.
- ``thorough``: 600 random examples per property (15× ci, 10× dev), for a release or a suspicion.

``tests/conftest.py`` loads the profile. The
planted-bug tests do not follow the profile: they hunt with fixed, bounded settings of their
own (``tests/properties/planting.py``), since a planted bug must be found on every run.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

__all__ = ["SUITE_PROFILES", "register_profiles", "load_profile", "profile_from_env"]

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

SUITE_PROFILES = {
    "ci": dict(max_examples=40, derandomize=True, print_blob=True, **_COMMON),
    "dev": dict(max_examples=60, **_COMMON),
    "thorough": dict(max_examples=600, **_COMMON),
}


def register_profiles() -> None:
    for name, kwargs in SUITE_PROFILES.items():
        settings.register_profile(name, **kwargs)  # type: ignore[arg-type]  # each keyword has its own type; the dict's values are object


def profile_from_env() -> str:
    name = os.environ.get("GPTSPEC_PROFILE", "").strip()
    if name:
        if name not in SUITE_PROFILES:
            raise ValueError(f"GPTSPEC_PROFILE={name!r}: known profiles are {', '.join(SUITE_PROFILES)}")
        return name
    return "ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev"


def load_profile(name: str | None = None) -> str:
    register_profiles()
    chosen = name or profile_from_env()
    settings.load_profile(chosen)
    return chosen
