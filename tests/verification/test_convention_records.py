"""The Convention records: the one place a convention is declared, and what is generated from it."""

import argparse
import dataclasses
import warnings

import pytest

from gptspec.cli import build_parser
from gptspec.properties.catalogue import CONVENTION_FAMILIES
from gptspec.verification import conventions
from gptspec.verification.errors import OptionError
from gptspec.verification.runner import reproducer


def _verify_parser() -> argparse.ArgumentParser:
    sub = next(a for a in build_parser(["verify"])._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices["verify"]


def test_the_command_s_choices_and_help_are_the_records():
    parser = _verify_parser()
    (option,) = [a for a in parser._actions if "--convention" in a.option_strings]
    assert option.choices == conventions.NAMES
    for convention in conventions.registered():
        assert f"{convention.name}: {convention.help}" in parser.epilog


def test_the_plugin_s_choices_are_the_records():
    from gptspec.verification import pytest_plugin

    added = {}

    class Group:
        def addoption(self, name, **keywords):
            added[name] = keywords

    class Parser:
        def getgroup(self, *args):
            return Group()

    pytest_plugin.pytest_addoption(Parser())
    assert added["--gptspec-convention"]["choices"] == conventions.NAMES


def test_a_convention_s_framework_is_read_from_its_record():
    conventions.check_convention("sdpa", framework="jax")  # any framework: detected or chosen
    with pytest.raises(OptionError, match="the hf-gpt2 convention is torch's: --framework must be torch, got 'jax'"):
        conventions.check_convention("hf-gpt2", framework="jax")
    with pytest.raises(OptionError, match="unknown convention 'nope'; conventions: sdpa, hf-attention"):
        conventions.check_convention("nope")


def test_a_convention_fixing_its_framework_leaves_it_out_of_the_reproduce_command():
    command = reproducer("k.py:f", "columns", "torch", "quick", 5.0, 3, convention="fused-linear")("x.y")
    assert command == "gptspec verify k.py:f --convention fused-linear --profile quick --only x.y --seed 3"
    command = reproducer("k.py:f", "columns", "torch", "quick", 5.0, 3, convention="sdpa")("x.y")
    assert "--framework torch" in command  # sdpa takes any framework: the one detected is said


def test_an_address_scheme_implies_its_convention():
    assert conventions.implied_by("hf").name == "hf-attention"
    assert conventions.implied_by("path") is None


def test_a_convention_s_build_is_found_from_its_record_and_has_one_signature():
    import inspect

    for convention in conventions.registered():
        if convention.takes == "factory" or convention.framework == "torch":
            pytest.importorskip("torch")
        if convention.name == "hf-attention":
            pytest.importorskip("transformers")
        parameters = inspect.signature(convention.builder()).parameters
        assert list(parameters)[1:] == ["framework", "label", "convention"], convention.name
        assert set(convention.entry_points) <= set(conventions.ENTRY_POINTS)


def test_the_families_only_conventions_and_models_enable_are_read_from_the_properties():
    assert CONVENTION_FAMILIES == ("generation", "sdpa", "batch", "padding")
    assert conventions.get("sdpa").enables() == ("sdpa", "batch")
    assert conventions.get("fused-linear").enables() == ("batch",)
    renamed = dataclasses.replace(conventions.get("sdpa"), entry_points=())  # a record providing nothing enables nothing
    assert renamed.enables() == ()


@pytest.mark.parametrize(("module", "name", "replacement"), [
    ("gptspec.verification.choices", "CONVENTIONS", lambda: {c.name: c.help for c in conventions.registered()}),
    ("gptspec.verification.conventions", "MODULE_CONVENTIONS",
     lambda: ("fused-linear", "hf-gpt2", "qkvo-linear", "transformer-lens")),
    ("gptspec.target", "ENTRY_POINTS", lambda: conventions.ENTRY_POINTS),
    ("gptspec.target", "KERNEL_ENTRY_POINTS", lambda: conventions.KERNEL_ENTRY_POINTS),
])
def test_the_replaced_tables_keep_working_with_a_deprecation_warning(module, name, replacement):
    import importlib

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = getattr(importlib.import_module(module), name)
    assert value == replacement()
    assert [w.category for w in caught] == [DeprecationWarning]
