"""Running a property against a planted bug: does Hypothesis find it, and with what reach?"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import HypothesisException

from gptspec import impl
from gptspec.properties import domain
from gptspec.properties.catalogue import properties
from gptspec.properties.registry import Property
from gptspec.properties.strategies import reach

from .mutants import MUTANTS, PLANTED

HUNT = settings(
    max_examples=500,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # finding is the point here; shrinking is tested apart
    suppress_health_check=list(HealthCheck),
    report_multiple_bugs=False,
)
"""Bounded, reproducible settings for hunting a planted bug (independent of the profile)."""

ESCAPE_EXAMPLES = 50
"""Examples run to show that a bug escapes without what it needs (it escapes by construction:
unit-scale scores stay far from −1e4, separated logits far from float16's or 1e-6's resolution)."""


def hunt(
    prop: Property, bug: str, *, extremes: bool = True, near_ties: bool = True, max_examples: int | None = None
) -> Exception | None:
    """The failure Hypothesis finds when ``prop`` runs on planted bug ``bug``, or None."""
    hunt_settings = settings(HUNT, max_examples=max_examples or HUNT.max_examples)
    with reach(extremes=extremes, near_ties=near_ties), declared(MUTANTS[bug], prop):  # read as strategies draw
        try:
            prop.hypothesis_test(MUTANTS[bug], settings=hunt_settings)()
        except HypothesisException:
            raise  # a health check or flaky test is not a found bug
        except Exception as exc:  # PropertyFailure, or the exception the bug raises
            return exc
    return None


def declared(implementation: Any, prop: Property) -> Any:
    """The scope of the domain ``implementation`` declares (a module convention's ``assume``), as
    the verifier opens it for ``prop``: the search stays inside it here too."""
    return domain.scoped(domain.parse(getattr(implementation, "assume", ()) or ()), prop.needs)


def reference_cases(family: str) -> list[Any]:
    return [pytest.param(p, id=p.name) for p in properties(family)]


def planted_cases(family: str) -> list[Any]:
    return [
        pytest.param(p, bug, needs, id=f"{p.name}-{bug}")
        for p in properties(family)
        for bug, needs in PLANTED.get(p.name, [])
    ]


def assert_found(prop: Property, bug: str) -> None:
    found = hunt(prop, bug)
    assert found is not None, f"{prop.name} did not find the planted bug {bug!r} in {HUNT.max_examples} examples"


def assert_needs(prop: Property, bug: str, needs: str) -> None:
    """The bug escapes without what it is marked as needing, and is found with each alternative alone.

    ``""``: found at unit scale without near-ties. ``"extremes"`` / ``"near_ties"``: escapes without
    both, found with that one alone. ``"extremes|near_ties"``: escapes without both, found with either.
    """
    narrow = hunt(prop, bug, extremes=False, near_ties=False, max_examples=None if not needs else ESCAPE_EXAMPLES)
    if not needs:
        assert narrow is not None, f"{bug!r} escapes {prop.name} at unit scale without near-ties: mark what it needs"
        return
    assert narrow is None, (
        f"{bug!r} is marked as needing {needs}, but {prop.name} found it without in {ESCAPE_EXAMPLES} examples: {narrow}"
    )
    for alone in needs.split("|"):
        found = hunt(prop, bug, extremes=alone == "extremes", near_ties=alone == "near_ties")
        assert found is not None, f"{prop.name} does not find {bug!r} with {alone} alone"


def family_tests(family: str, references: dict[str, Callable[[], Any]] | None = None,
                 provides: dict[str, tuple[str, ...]] | None = None) -> tuple[Any, Any, Any]:
    """The three tests every family module runs, parametrized over the family's properties:
    the reference satisfies each property; each planted bug is found; each planted bug needs
    exactly what it is marked with. ``references``: implementations that must satisfy the family
    instead of :mod:`gptspec.impl` (a convention's family), each built by a function on first use;
    ``provides``: what each reference provides, so it is held only to the properties it can run
    (every property has at least one reference)."""
    if references is None:
        cases = [pytest.param(p, "", id=p.name) for p in properties(family)]
        builders: dict[str, Callable[[], Any]] = {"": lambda: impl}
    else:
        cases = [pytest.param(p, label, id=f"{p.name}-{label}") for p in properties(family) for label in references
                 if provides is None or set(p.needs) <= set(provides[label])]
        assert {c.values[0].name for c in cases} == {p.name for p in properties(family)}, "a property without reference"
        builders = references

    @pytest.mark.parametrize("prop, reference", cases)
    def test_reference_satisfies(prop: Property, reference: str) -> None:
        implementation = builders[reference]()
        with declared(implementation, prop):
            prop.hypothesis_test(implementation)()

    @pytest.mark.parametrize("prop, bug, needs", planted_cases(family))
    def test_planted_bug_is_found(prop: Property, bug: str, needs: str) -> None:
        assert_found(prop, bug)

    @pytest.mark.parametrize("prop, bug, needs", planted_cases(family))
    def test_planted_bug_needs_what_it_is_marked_with(prop: Property, bug: str, needs: str) -> None:
        assert_needs(prop, bug, needs)

    return test_reference_satisfies, test_planted_bug_is_found, test_planted_bug_needs_what_it_is_marked_with
