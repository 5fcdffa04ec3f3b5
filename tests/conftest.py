"""Shared test set-up: the Hypothesis profile (GPTSPEC_PROFILE, default ci under CI=true)."""

from gptspec.properties.profiles import load_profile

load_profile()
