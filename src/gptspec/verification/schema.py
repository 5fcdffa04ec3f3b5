"""The JSON Schema of ``--json`` reports (report.schema.json, shipped beside this module), and a
validator for the part of JSON Schema it uses.

:func:`schema` reads the schema from the installed package; :func:`errors` checks an instance
against it (or any schema in the same subset: ``type``, ``enum``, ``properties``, ``required``,
``additionalProperties``, ``items``, ``anyOf`` and ``$ref`` into ``#/$defs``) and returns what
is wrong, each as "at results[3].failure.function: expected string, got null". A keyword outside
the subset is an error of the schema, never silently passed.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

__all__ = ["SCHEMA_FILE", "KEYWORDS", "schema", "errors", "validate"]

SCHEMA_FILE = "report.schema.json"
KEYWORDS = frozenset({"$schema", "$id", "$defs", "title", "description", "type", "enum", "properties", "required",
                      "additionalProperties", "items", "anyOf", "$ref"})
"""The keywords :func:`errors` understands (the annotations among them are read and ignored)."""

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


@functools.lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The report's schema, as the package ships it."""
    return json.loads(resources.files("gptspec.verification").joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))


def _kind(value: Any) -> str:
    return next((name for name in ("null", "boolean", "integer", "number", "string", "array", "object")
                 if _TYPES[name](value)), type(value).__name__)


def _typed(instance: Any, spec: dict[str, Any], root: dict[str, Any]) -> bool:
    """Whether ``instance`` has a type ``spec`` allows (a form without a type allows any)."""
    while "$ref" in spec:
        spec = root["$defs"][spec["$ref"][len("#/$defs/"):]]
    allowed = spec.get("type")
    if allowed is None:
        return True
    return any(_TYPES[t](instance) for t in (allowed if isinstance(allowed, list) else [allowed]))


def errors(instance: Any, spec: dict[str, Any] | None = None, root: dict[str, Any] | None = None,
           at: str = "") -> list[str]:
    """What is wrong with ``instance`` under ``spec`` (the report's schema by default); [] when it is valid."""
    spec = schema() if spec is None else spec
    root = spec if root is None else root
    unknown = set(spec) - KEYWORDS
    if unknown:
        raise ValueError(f"schema at {at or 'the root'}: keywords outside the subset this validator reads: "
                         f"{sorted(unknown)}")
    where = f"at {at or 'the root'}"
    if "$ref" in spec:
        ref = spec["$ref"]
        if not ref.startswith("#/$defs/"):
            raise ValueError(f"schema {where}: only #/$defs/ references are read, not {ref}")
        return errors(instance, root["$defs"][ref[len("#/$defs/"):]], root, at)
    if "anyOf" in spec:
        tried = [errors(instance, option, root, at) for option in spec["anyOf"]]
        if all(tried):
            typed = [found for option, found in zip(spec["anyOf"], tried) if _typed(instance, option, root)]
            if len(typed) == 1:  # one form of the instance's type: what is wrong inside it
                return typed[0]
            nearest = min(typed or tried, key=len)[0]
            return [f"{where}: matches none of its {len(tried)} forms (nearest: {nearest})"]
    if "type" in spec:
        allowed = spec["type"] if isinstance(spec["type"], list) else [spec["type"]]
        if not any(_TYPES[t](instance) for t in allowed):
            return [f"{where}: expected {' or '.join(allowed)}, got {_kind(instance)}"]
    if "enum" in spec and instance not in spec["enum"]:
        return [f"{where}: expected one of {spec['enum']}, got {instance!r}"]
    found: list[str] = []
    if isinstance(instance, dict):
        for key in spec.get("required", ()):
            if key not in instance:
                found.append(f"{where}: missing {key!r}")
        properties = spec.get("properties", {})
        extra = spec.get("additionalProperties", True)
        for key, value in instance.items():
            inner = f"{at}.{key}" if at else key
            if key in properties:
                found += errors(value, properties[key], root, inner)
            elif extra is False:
                found.append(f"{where}: unexpected {key!r}")
            elif isinstance(extra, dict):
                found += errors(value, extra, root, inner)
    if isinstance(instance, list) and "items" in spec:
        for i, value in enumerate(instance):
            found += errors(value, spec["items"], root, f"{at}[{i}]")
    return found


def validate(instance: Any) -> None:
    """Raise ValueError listing what is wrong with a report (``Report.to_dict()`` or a ``--json`` file read back)."""
    found = errors(instance)
    if found:
        raise ValueError("the report does not match report.schema.json:\n  " + "\n  ".join(found[:20]))
