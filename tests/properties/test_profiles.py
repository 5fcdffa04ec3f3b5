"""The profiles are defined once: the suite's and verify's share the thorough count, and the
verifier's option module reads them without importing Hypothesis."""

import subprocess
import sys

import pytest

from gptspec.properties import profiles
from gptspec.verification import PROFILES, choices


def test_thorough_is_one_number_for_the_suite_and_for_verify():
    assert profiles.SUITE_PROFILES["thorough"]["max_examples"] == PROFILES["thorough"].max_examples == 500
    assert choices.PROFILE_EXAMPLES is profiles.PROFILE_EXAMPLES


def test_the_option_module_reads_the_profiles_without_hypothesis():
    code = ("import sys, gptspec.verification.choices as c; "
            "print(c.PROFILE_EXAMPLES['thorough'], 'hypothesis' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["500", "False"], out.stderr


@pytest.mark.parametrize("env, want", [({"GPTSPEC_PROFILE": "thorough"}, "thorough"), ({"CI": "true"}, "ci"),
                                       ({}, "dev")])
def test_the_suite_profile_follows_the_environment(monkeypatch, env, want):
    for name in ("GPTSPEC_PROFILE", "CI"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert profiles.profile_from_env() == want


def test_an_unknown_suite_profile_is_refused_by_name(monkeypatch):
    monkeypatch.setenv("GPTSPEC_PROFILE", "fast")
    with pytest.raises(ValueError, match="GPTSPEC_PROFILE='fast': known profiles are ci, dev, thorough"):
        profiles.profile_from_env()
