"""A run's options carried whole: read from the command or the plugin by name, rendered back as argv."""

import pytest

from gptspec.cli import build_parser
from gptspec.verification.errors import OptionError
from gptspec.verification.options import Options
from gptspec.verification.session import verify

CHOSEN = [
    Options(),
    Options(layout="rows", framework="torch", profile="quick", timeout=None, assume=("causal-only", "max-ctx=4")),
    Options(convention="fused-linear", strict=True, memory_limit="512MiB", timeout=2.5),
    Options(convention="sdpa", framework="jax", profile="thorough"),
]


@pytest.mark.parametrize("options", CHOSEN)
def test_the_command_reads_back_the_options_argv_renders(options):
    args = build_parser(["verify"]).parse_args(["verify", "t.py", *options.argv()])
    assert Options.read(lambda name: getattr(args, name)) == options


def test_argv_leaves_out_defaults_numpy_and_a_framework_the_convention_fixes():
    assert Options().argv() == []
    assert Options(framework="numpy").argv() == []
    assert Options(convention="hf-attention").argv(framework="torch") == ["--convention", "hf-attention"]
    assert Options(strict=True).argv() == ["--strict"]
    assert Options(strict=True).argv(strict=False) == []


def test_the_reproduce_command_is_rendered_from_the_options():
    options = Options(assume=("causal-only",), memory_limit=1 << 30, timeout=None)
    command = options.reproducer("my gpt.py", "torch", 7)("causality.x")
    assert command == ("gptspec verify 'my gpt.py' --assume causal-only --framework torch --timeout 0 "
                       "--memory-limit 1GiB --only causality.x --seed 7")


def test_the_plugin_reads_the_same_names():
    from gptspec.verification import pytest_plugin

    names = {}

    class Group:
        def addoption(self, name, **keywords):
            names[name] = keywords

    class Parser:
        def getgroup(self, *args):
            return Group()

    pytest_plugin.pytest_addoption(Parser())
    fields = {f"--gptspec-{f.replace('_', '-')}" for f in Options.__dataclass_fields__}
    assert fields <= set(names), fields - set(names)


def test_every_option_is_one_argument_with_the_options_default():
    import dataclasses

    from gptspec.verification.choices import arguments

    table = {a.name: a for a in arguments()}
    assert list(table) and set(table) == {f.name for f in dataclasses.fields(Options)}
    assert Options.read(lambda name: table[name].settings["default"]) == Options()  # the same defaults
    command = build_parser(["verify"]).parse_args(["verify", "t.py"])
    assert Options.read(lambda name: getattr(command, name)) == Options()


def test_an_option_added_to_the_table_reaches_the_command_and_the_plugin(monkeypatch):
    from gptspec.verification import choices, pytest_plugin

    extra = choices.Argument("max_width", "a new knob", dict(type=int, default=3))
    monkeypatch.setattr(choices, "arguments", lambda original=choices.arguments: (*original(), extra))
    assert build_parser(["verify"]).parse_args(["verify", "t.py", "--max-width", "5"]).max_width == 5
    added = {}

    class Group:
        def addoption(self, name, **keywords):
            added[name] = keywords

    pytest_plugin.pytest_addoption(type("Parser", (), {"getgroup": lambda self, *a: Group()})())
    assert added["--gptspec-max-width"] == dict(type=int, default=3, help="a new knob")


def test_verify_takes_its_options_whole_or_one_by_one_not_both():
    with pytest.raises(OptionError, match="whole .options=. or one by one"):
        verify("gptspec.impl", options=Options(profile="quick"), layout="rows")
