"""The causality family: the reference satisfies it, and every planted bug is found."""

import pytest

from gptspec import impl

from .planting import assert_found, assert_needs, planted_cases, reference_cases

FAMILY = "causality"


@pytest.mark.parametrize("prop", reference_cases(FAMILY))
def test_reference_satisfies(prop):
    prop.hypothesis_test(impl)()


@pytest.mark.parametrize("prop, bug, needs", planted_cases(FAMILY))
def test_planted_bug_is_found(prop, bug, needs):
    assert_found(prop, bug)


@pytest.mark.parametrize("prop, bug, needs", planted_cases(FAMILY))
def test_planted_bug_needs_what_it_is_marked_with(prop, bug, needs):
    assert_needs(prop, bug, needs)
