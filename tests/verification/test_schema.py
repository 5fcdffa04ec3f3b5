"""The --json report is data that report.schema.json describes: real reports validate, and the
validator (a subset of JSON Schema, no jsonschema needed) rejects what breaks the schema."""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path

import pytest

import gptspec
from gptspec.verification import schema

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def failing() -> dict:
    report = gptspec.verify(str(ROOT / "examples" / "bug_missing_scale.py"), layout="rows", profile="quick", seed=0,
                            only=["agreement.attention_pattern"])
    assert report.exit_code == 1
    return json.loads(json.dumps(report.to_dict()))  # as a --json file reads back


@pytest.fixture(scope="module")
def passing() -> dict:
    report = gptspec.verify(str(ROOT / "examples" / "numpy_rows.py"), layout="rows", profile="quick", seed=0,
                            only=["agreement.attention_pattern", "causality.masked_entries_zero"])
    assert report.exit_code == 0
    return json.loads(json.dumps(report.to_dict()))


def test_a_passing_and_a_failing_report_match_the_schema(passing: dict, failing: dict) -> None:
    assert schema.errors(passing) == []
    assert schema.errors(failing) == []


def test_a_failure_is_data_the_function_the_named_arguments_expected_got_and_the_cause(failing: dict) -> None:
    failure = next(r["failure"] for r in failing["results"] if r["failure"])
    assert failure["function"] == "attention_pattern"
    assert [a["name"] for a in failure["arguments"]] == ["Q", "K", "causal"]
    Q = failure["arguments"][0]["value"]
    assert Q["dtype"].startswith("float") and len(Q["data"]) == Q["shape"][0]  # rows layout, as the user passes it
    assert set(failure["expected"]) == {"shape", "dtype", "data"} and failure["got"]["shape"] == failure["expected"]["shape"]
    assert failure["expected"]["data"] != failure["got"]["data"]
    assert failure["cause"]["name"] == "scale-none" and failure["evidence"].startswith("the reference with that change")


def test_the_validator_names_what_breaks_the_schema(failing: dict) -> None:
    broken = copy.deepcopy(failing)
    result = next(r for r in broken["results"] if r["failure"])
    result["failure"]["function"] = None
    result["status"] = "flaky"
    result["failure"]["arguments"][0]["value"]["data"] = "[[1, 2]]"  # a display string, not data
    del broken["exit_code"]
    broken["extra"] = 1
    found = schema.errors(broken)
    assert any("failure.function: expected string, got null" in e for e in found)
    assert any(".status: expected one of" in e for e in found)
    assert any("arguments[0].value" in e and "matches none" in e for e in found)
    assert any("missing 'exit_code'" in e for e in found) and any("unexpected 'extra'" in e for e in found)
    with pytest.raises(ValueError, match="does not match"):
        schema.validate(broken)


def test_the_validator_refuses_a_schema_outside_its_subset() -> None:
    with pytest.raises(ValueError, match="outside the subset"):
        schema.errors(3, {"type": "integer", "minimum": 5})
    assert schema.errors(True, {"type": "integer"}) == ["at the root: expected integer, got boolean"]
    assert schema.errors([1, "x"], {"type": "array", "items": {"type": "number"}}) == [
        "at [1]: expected number, got string"]


def test_the_schema_is_package_data_a_wheel_ships() -> None:
    assert schema.schema()["title"].startswith("gptspec verify")
    wheel = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]
    shipped = ROOT / "src" / "gptspec" / "verification" / schema.SCHEMA_FILE
    assert shipped.is_file() and "src/gptspec" in wheel["packages"]
    assert str(shipped.relative_to(ROOT)) in wheel["artifacts"]
