"""Loading a target: module names, .py paths, objects; every failure a TargetError that says why."""

from __future__ import annotations

import sys
import types

import pytest

from gptspec.target import SPEC_NAMES, TargetError, load


def write(path, text):
    path.write_text(text)
    return path


def test_a_py_path_is_imported_with_its_folder_on_the_path_so_sibling_imports_work(tmp_path):
    write(tmp_path / "helper_for_loader.py", "from gptspec.impl import softmax, causal_mask\n")
    target = load(write(tmp_path / "mine.py", "from helper_for_loader import *\n"))
    assert target.provides == ("softmax", "causal_mask")
    assert target.missing == tuple(n for n in SPEC_NAMES if n not in target.provides)
    assert target.label.endswith("mine.py")


def test_a_py_paths_folder_goes_first_even_when_it_is_already_behind_a_same_named_sibling(tmp_path, monkeypatch):
    """As for a script: its own helper wins over a same-named module found earlier on sys.path."""
    mine, other = tmp_path / "mine", tmp_path / "other"
    mine.mkdir(), other.mkdir()
    write(other / "helper_twin.py", "from gptspec.impl import embed\n")
    write(mine / "helper_twin.py", "from gptspec.impl import softmax\n")
    monkeypatch.setattr(sys, "path", [str(other), *sys.path, str(mine)])
    monkeypatch.delitem(sys.modules, "helper_twin", raising=False)
    assert load(write(mine / "uses_twin.py", "from helper_twin import *\n")).provides == ("softmax",)
    assert sys.path[0] == str(mine) and sys.path.count(str(mine)) == 1
    monkeypatch.delitem(sys.modules, "helper_twin", raising=False)


def test_a_module_name_is_imported_from_the_working_directory(tmp_path, monkeypatch):
    write(tmp_path / "loader_by_name.py", "from gptspec.impl import embed\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    assert load("loader_by_name").provides == ("embed",)


def test_any_object_with_spec_names_is_a_target():
    obj = types.SimpleNamespace(mlp=lambda *a: None, forward=lambda *a: None, unrelated=1)
    target = load(obj)
    assert target.provides == ("mlp", "forward") and target.label == "SimpleNamespace"


@pytest.mark.parametrize(
    "text, message",
    [
        ("import numpy_that_does_not_exist\n", r"importing .*bad\.py raised ModuleNotFoundError: No module named "
                                                r"'numpy_that_does_not_exist' \(.*bad\.py line 1\)"),
        ("x = 1\ny = 1 / 0\n", r"raised ZeroDivisionError: division by zero \(.*bad\.py line 2\)"),
        ("def softmax(:\n", r"raised SyntaxError: .*\(.*bad\.py line 1\)"),
        ("def helper(x):\n    return x\n", r"bad\.py provides none of the spec's functions \(embed, unembed, "),
    ],
)
def test_a_target_that_cannot_be_used_says_why_in_one_line(tmp_path, text, message):
    with pytest.raises(TargetError, match=message) as info:
        load(write(tmp_path / "bad.py", text))
    assert "\n" not in str(info.value) and "Traceback" not in str(info.value)


def test_missing_files_and_modules_are_named():
    with pytest.raises(TargetError, match="no such file: nowhere/impl.py"):
        load("nowhere/impl.py")
    with pytest.raises(TargetError, match="no module named 'no_such_gptspec_target': give an importable module name"):
        load("no_such_gptspec_target")
    with pytest.raises(TargetError, match="the target is empty"):
        load("  ")
