"""Failed or fragile: a property failing on an ordinary input fails; one failing only beyond the
ordinary domain is fragile, with its onset; --strict counts fragile as failed."""

from __future__ import annotations

import functools
import types

import numpy as np
import pytest

from gptspec import impl
from gptspec.properties.catalogue import get, properties
from gptspec.verification.fragility import EVALUATIONS, assess
from gptspec.verification.report import Onset, PropertyResult, Report
from gptspec.verification.runner import Profile, run_property

from ..properties.mutants import MUTANTS, NOT_BUGS, PLANTED, VERDICTS

VERDICT = Profile("verdict", 200, 100)
"""Enough examples to find the extremes-only planted bugs with seed 0; shrinking bounded."""


@functools.cache
def verdict(name: str, bug: str) -> PropertyResult:
    return run_property(get(name), MUTANTS[bug], VERDICT, 0, "reproduce")


def at_risk() -> list[tuple[str, str]]:
    """Planted bugs whose verdict could be fragile: found with the extremes, on a property that declares a scale."""
    return sorted({(name, bug) for name, bugs in PLANTED.items() for bug, needs in bugs
                   if get(name).scale is not None and ("extremes" in needs or (name, bug) in VERDICTS)})


@pytest.mark.parametrize("name, bug", at_risk(), ids=lambda v: v)
def test_each_planted_bug_found_with_the_extremes_fails_or_is_fragile_as_its_table_says(name, bug):
    result = verdict(name, bug)
    want = VERDICTS.get((name, bug), "failed")
    if want == "failed":
        assert result.status in ("failed", "error") and result.onset is None, (result.status, result.onset, result.notes)
    else:
        assert result.status == "fragile" and result.onset is not None, (result.status, result.failure, result.notes)


def test_a_minus_1e10_mask_is_fragile_with_its_onset_at_scores_of_1e10():
    result = verdict("causality.masked_entries_zero", "mask_minus_1e10")
    onset = result.onset
    assert result.status == "fragile" and onset is not None and onset.quantity == "|scores|" and not onset.below
    assert 3e9 <= onset.holds_up_to <= onset.fails_from <= 3e10
    assert onset.fails_from / onset.holds_up_to < 1.001
    assert "finite constant (−1e10?)" in (onset.cause or "")
    assert any("passes at |scores| = 9.99e5, 999, 0.999" in n for n in result.notes)


@pytest.mark.parametrize("bug", ["mask_minus_1e4", "mask_minus_1e5"])
def test_masks_of_minus_1e4_and_minus_1e5_fail_real_scores_reach_them(bug):
    result = verdict("causality.masked_entries_zero", bug)
    assert result.status == "failed" and result.onset is None


def test_a_softmax_without_max_subtraction_fails_float32_overflows_inside_the_ordinary_domain():
    result = verdict("softmax.finite_for_finite_input", "softmax_no_max_subtraction")
    assert result.status == "failed" and result.onset is None


def test_softmax_of_logits_over_a_subnormal_T_in_sample_is_fragile_with_its_onset_below_T_min():
    result = verdict("temperature.sample_follows_softmax", "sample_divides_first")
    onset = result.onset
    assert result.status == "fragile" and onset is not None and onset.quantity == "T" and onset.below
    assert onset.fails_from <= onset.holds_up_to < 1e-300  # far below any temperature anyone samples at
    assert "overflows" in (onset.cause or "") and str(onset).startswith("holds while T ≥ ")


@pytest.mark.parametrize("bug", sorted(NOT_BUGS))
@pytest.mark.parametrize("name", ["causality.masked_entries_zero", "causality.head_future_independent"])
def test_a_mask_of_finfo_min_passes_like_minus_inf(name, bug):
    assert run_property(get(name), NOT_BUGS[bug], VERDICT, 0, "reproduce").status == "passed"
    assert run_property(get(name), impl, VERDICT, 0, "reproduce").status == "passed"


def test_every_planted_fragile_verdict_names_a_planted_bug_and_a_property_with_a_scale():
    for (name, bug), status in VERDICTS.items():
        assert status == "fragile" and bug in dict(PLANTED[name]) and get(name).scale is not None


# ---------------------------------------------------------------------------------------------
# The rule itself, on hand-made implementations


def _softmax_failing_above(limit: float) -> types.SimpleNamespace:
    """A softmax that is right while |x| <= limit and returns NaN beyond."""

    def softmax(x, temperature=1.0, axis=-1):
        p = impl.softmax(x, temperature, axis)
        return np.full_like(p, np.nan) if np.max(np.abs(np.where(np.isfinite(x), x, 0))) > limit else p

    return types.SimpleNamespace(softmax=softmax)


def _case(size: float):
    from gptspec.properties.strategies import SoftmaxInput

    return SoftmaxInput(np.array([size, 0.0, -1.0]), -1)


def test_a_failure_beyond_the_ordinary_domain_that_passes_inside_it_is_fragile_with_a_bounded_search():
    calls = []
    target = _softmax_failing_above(3e7)
    counted = types.SimpleNamespace(softmax=lambda *a: calls.append(1) or target.softmax(*a))
    found = assess(get("softmax.sums_to_one"), counted, _case(1e12))
    assert found is not None and found.fragile and len(calls) <= EVALUATIONS == found.evaluations
    assert found.onset is not None and 3e7 * 0.999 <= found.onset.holds_up_to <= 3e7 <= found.onset.fails_from <= 3e7 * 1.001


def test_a_failure_that_also_fails_inside_the_ordinary_domain_is_failed():
    found = assess(get("softmax.sums_to_one"), _softmax_failing_above(500.0), _case(1e12))
    assert found is not None and not found.fragile and found.onset is None
    assert "fails when moved inside the ordinary domain" in found.note


def test_an_ordinary_counterexample_or_a_property_without_a_scale_is_never_assessed():
    assert assess(get("softmax.sums_to_one"), _softmax_failing_above(1.0), _case(10.0)) is None  # ordinary: failed
    assert get("agreement.softmax").scale is None
    assert assess(get("agreement.softmax"), _softmax_failing_above(1.0), ()) is None


def test_the_declared_scales_cover_the_numerical_properties():
    declared = {p.name for p in properties() if p.scale is not None}
    assert {"causality.masked_entries_zero", "softmax.finite_for_finite_input",
            "temperature.sample_follows_softmax", "shapes.sample"} <= declared
    assert declared <= {p.name for p in properties()}


def _report(status: str, strict: bool) -> Report:
    result = PropertyResult("causality.masked_entries_zero", "causality", "…", ("attention_pattern",), status,
                            onset=Onset("|scores|", 9.99e9, 1e10) if status == "fragile" else None)
    return Report("t", "columns", "numpy", "default", 0, ("attention_pattern",), (), [result], strict=strict)


@pytest.mark.parametrize("status, strict, code", [
    ("fragile", False, 0), ("fragile", True, 1), ("failed", False, 1), ("failed", True, 1), ("passed", True, 0),
])
def test_fragile_exits_0_unless_strict_failed_always_exits_1(status, strict, code):
    report = _report(status, strict)
    assert report.exit_code == code and report.to_dict()["exit_code"] == code
    if status == "fragile":
        assert report.to_dict()["results"][0]["onset"] == {"quantity": "|scores|", "holds_up_to": 9.99e9,
                                                           "fails_from": 1e10, "cause": None, "below": False}
