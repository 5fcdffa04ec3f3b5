"""The catalogue: every family registered, every property well-formed and provably able to fail."""

import types

import pytest

from gptspec import impl
from gptspec.properties.catalogue import CONVENTION_FAMILIES, FAMILIES
from gptspec.properties.catalogue import applicable, get, properties
from gptspec.spec import SIGNATURES
from gptspec.verification.conventions import ENTRY_POINTS

from .mutants import MUTANTS, PLANTED

NEEDS_KINDS = {"", "extremes", "near_ties", "extremes|near_ties"}


def test_every_family_of_the_catalogue_has_properties_and_no_other_family_exists():
    registered = {p.family for p in properties()}
    assert registered == set(FAMILIES)
    for family in FAMILIES:
        assert properties(family), family


@pytest.mark.parametrize("prop", properties(), ids=lambda p: p.name)
def test_property_is_well_formed(prop):
    family, what = prop.name.split(".", 1)
    assert family == prop.family and what
    assert prop.needs and set(prop.needs) <= set(SIGNATURES) | set(ENTRY_POINTS), prop.needs
    spec_only = set(prop.needs) <= set(SIGNATURES)
    assert spec_only == (prop.family not in CONVENTION_FAMILIES), (prop.family, prop.needs)
    assert prop.statement.strip() and "\n" not in prop.statement
    assert get(prop.name) is prop


def test_every_property_has_a_planted_bug_and_every_planted_bug_exists():
    assert set(PLANTED) == {p.name for p in properties()}
    for name, bugs in PLANTED.items():
        assert bugs, name
        for bug, needs in bugs:
            assert bug in MUTANTS, (name, bug)
            assert needs in NEEDS_KINDS, (name, needs)


def test_every_mutant_is_planted_under_some_property():
    planted = {bug for bugs in PLANTED.values() for bug, _ in bugs}
    assert planted == set(MUTANTS)


def test_a_planted_bug_differs_from_the_reference_only_where_planted():
    bug = MUTANTS["mask_wrong_triangle"]
    assert bug.causal_mask(2).tolist() == [[True, False], [True, True]]
    assert impl.causal_mask(2).tolist() == [[True, True], [False, True]]
    assert bug.embed is not impl.embed and bug.embed.__code__ is impl.embed.__wrapped__.__code__


def test_the_reference_provides_everything_and_a_partial_implementation_gets_only_its_properties():
    assert applicable(impl) == [p for p in properties() if p.family not in CONVENTION_FAMILIES]
    only_softmax = types.SimpleNamespace(softmax=impl.softmax)
    assert {p.family for p in applicable(only_softmax)} >= {"softmax", "temperature"}
    assert all(p.needs == ("softmax",) for p in applicable(only_softmax))


def test_the_registry_is_a_leaf_and_a_property_carries_its_own_scale():
    """Importing the registry imports no family (the families import it; the catalogue imports
    them); the fragility scale is a field of the property, not a table beside the registry."""
    import subprocess
    import sys

    code = ("import sys, gptspec.properties.registry as r; "
            "print(sorted(m for m in sys.modules if m.startswith('gptspec.properties.')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['gptspec.properties.registry']"
    assert get("causality.masked_entries_zero").scale is not None and get("agreement.softmax").scale is None
    assert get("shapes.sample").scale is not None and get("shapes.softmax").scale is None


def test_the_moved_questions_still_answer_from_the_registry_with_a_deprecation():
    import pytest

    from gptspec.properties import registry

    with pytest.warns(DeprecationWarning, match="moved to gptspec.properties.catalogue.properties"):
        assert registry.properties() == properties()
