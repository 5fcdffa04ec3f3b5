"""Describing a counterexample in a few lines: shapes, dtypes, and the values that matter.

Hypothesis shrinks arrays towards zeros, so in a minimal counterexample the entries that matter
are the few that are not zero. An array is shown whole when it is tiny, else by its shape and
dtype, its nonzero entries (at most four, with their indices), or its range.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .choices import KERNEL

__all__ = ["counterexample_lines", "counterexample_data", "leaves", "as_data", "array_summary", "in_layout", "MAX_WHOLE",
           "MAX_ENTRIES", "NON_FINITE"]

MAX_WHOLE = 8  # arrays with at most this many entries are printed whole
MAX_ENTRIES = 4  # otherwise at most this many nonzero entries are listed


def _number(x: Any) -> str:
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    value = float(x)
    return f"{value:.1f}" if value.is_integer() and abs(value) < 1e6 else f"{value:.4g}"


def array_summary(a: np.ndarray) -> str:
    """``float32[3 4] nonzero: [0,1]=1e+05, [2,0]=-1.0; 0 elsewhere`` and the like."""
    head = f"{a.dtype}[{' '.join(str(s) for s in a.shape)}]"
    if a.size <= MAX_WHOLE:
        body = np.array2string(a, separator=", ", max_line_width=10_000, formatter={"all": _number})
        return f"{head} {' '.join(body.split())}"
    flat = a.reshape(-1)
    nonzero = np.flatnonzero(flat)
    if a.dtype.kind == "b":
        return f"{head} {nonzero.size} True of {a.size}"
    if nonzero.size <= MAX_ENTRIES:
        if nonzero.size == 0:
            return f"{head} all 0"
        entries = ", ".join(
            f"[{','.join(str(int(i)) for i in np.unravel_index(k, a.shape))}]={_number(flat[k])}" for k in nonzero
        )
        return f"{head} nonzero: {entries}; 0 elsewhere"
    finite = flat[np.isfinite(flat)] if a.dtype.kind == "f" else flat
    extra = [f"{int(np.isnan(flat).sum())} NaN"] if a.dtype.kind == "f" and np.isnan(flat).any() else []
    if finite.size:
        extra.insert(0, f"from {_number(finite.min())} to {_number(finite.max())}")
    first = ", ".join(_number(v) for v in flat[:MAX_ENTRIES])
    return f"{head} {', '.join(extra)}; first entries {first}, …"


def _leaf(value: Any) -> str | None:
    """A one-line description of a non-container value, or None for a container."""
    if isinstance(value, np.ndarray):
        return array_summary(value)
    if isinstance(value, np.random.Generator):
        return "numpy Generator"
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        return _number(value)
    if isinstance(value, str):
        return repr(value)
    if value is None:
        return "None"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value)]
        if all(isinstance(v, (int, str)) for _, v in fields):  # a Config: one line
            return f"{type(value).__name__}(" + ", ".join(f"{k}={v}" for k, v in fields if k != "name") + ")"
        return None
    if isinstance(value, (list, tuple)) and all(isinstance(v, (bool, int, float, np.number)) for v in value):
        return "[" + ", ".join(_number(v) for v in value) + "]"  # a list of numbers: one line
    if isinstance(value, (dict, list, tuple)):
        return None
    return type(value).__name__


def leaves(example: Any, label: str = "example") -> list[tuple[str, Any]]:
    """(``label.field``, value) for every leaf of ``example``: what has a one-line description."""
    if _leaf(example) is not None:
        return [(label, example)]
    if dataclasses.is_dataclass(example):
        items: list[tuple[str, Any]] = [(f.name, getattr(example, f.name)) for f in dataclasses.fields(example)]
    elif isinstance(example, dict):
        items = [(str(k), v) for k, v in example.items()]
    else:
        items = [(f"[{i}]", v) for i, v in enumerate(example)]
    found = []
    for key, value in items:
        sub = f"{label}{key}" if key.startswith("[") else (key if label == "example" else f"{label}.{key}")
        found.extend(leaves(value, sub))
    return found


def counterexample_lines(example: Any, label: str = "example") -> list[str]:
    """One line per leaf of ``example``: ``label.field: description``."""
    return [f"{name}: {_leaf(value)}" for name, value in leaves(example, label)]


# ---------------------------------------------------------------------------------------------
# A counterexample as data (the JSON report)

NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
"""How a non-finite float is written in the JSON's data (JSON has no NaN): as these strings."""


def _plain(x: Any) -> Any:
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    value = float(x)
    return value if np.isfinite(value) else NON_FINITE[str(value)]


def as_data(value: Any) -> Any:
    """``value`` as JSON data: an array as {"shape", "dtype", "data": nested lists} (every entry: the
    whole array, as it was given), a number as itself, a Config as its fields, anything else as its
    one-line description."""
    if hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, np.generic):
        a = np.asarray(value)
        data = np.vectorize(_plain, otypes=[object])(a).tolist() if a.size else np.zeros(a.shape).tolist()
        return {"shape": list(a.shape), "dtype": str(a.dtype), "data": data}
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        return _plain(value)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, (bool, int, float, np.number)) for v in value):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        if all(isinstance(v, (int, str)) for v in fields.values()):
            return fields
    return _leaf(value)


def counterexample_data(example: Any) -> list[dict[str, Any]]:
    """The counterexample's leaves, named as its lines are: [{"name": "E", "value": {"shape", ...}}, ...]."""
    return [{"name": name, "value": as_data(value)} for name, value in leaves(example)]


# ---------------------------------------------------------------------------------------------
# A counterexample in the user's layout

_ALIASES = {"E1": "E", "E2": "E", "after": "E", "W": "W_E"}
"""Example fields that are not spec parameters but hold one's kind of tensor: a pair's embeddings,
the new columns of a future edit, a lookup's embedding matrix (2-D either way)."""

_SAME = frozenset({"x", "logits"})
"""softmax's and sample's arguments: the same in both layouts (softmax takes its axis explicitly)."""


def _spec_hints() -> dict[str, list[Any]]:
    from ..spec import SIGNATURES
    from ..spec.hints import Plan, is_array

    found: dict[str, list[Any]] = {}
    for name in SIGNATURES:
        plan = Plan.of(name)
        for param, hint in zip(plan.signature.parameters, plan.hints):
            if is_array(hint):
                found.setdefault(param, []).append(hint)
    return found


def _rows_leaf(name: str | None, value: np.ndarray, hints: dict[str, list[Any]]) -> tuple[Any, bool]:
    """(value as the rows layout has it, whether the rows layout is known for it)."""
    from ..spec.hints import n_axes
    from .adapters import to_rows

    if value.ndim < 2 or name in _SAME:
        return value, True
    for hint in hints.get(_ALIASES.get(name or "", name or ""), ()):
        if n_axes(hint) == value.ndim:
            return to_rows(value, hint), True
    return value, False


def in_layout(example: Any, layout: str) -> tuple[Any, list[str]]:
    """``example`` (in the spec's columns layout) as a user of ``layout`` passes it: every spec
    tensor transposed as the adapters transpose it (:func:`.adapters.to_rows`), weights containers
    field by field. Returns the example and the names of any tensors it could not place (left in
    the spec's layout, and said so)."""
    if layout in ("columns", KERNEL):  # the spec's own layout, or a kernel's arrays as it receives them
        return example, []
    from ..spec import BlockWeights, Weights
    from .adapters import to_rows

    hints = _spec_hints()
    unknown: list[str] = []

    def walk(value: Any, name: str | None, label: str) -> Any:
        if isinstance(value, np.ndarray):
            out, known = _rows_leaf(name, value, hints)
            if not known:
                unknown.append(label)
            return out
        if isinstance(value, (Weights, BlockWeights)):  # the spec's containers: field by field
            return to_rows(value, type(value))
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            items = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
            if not any(isinstance(v, np.ndarray) or dataclasses.is_dataclass(v) or isinstance(v, (dict, list, tuple))
                       for v in items.values()):
                return value  # a Config and the like: shown on one line as it is
            return {k: walk(v, k, k if label == "example" else f"{label}.{k}") for k, v in items.items()}
        if isinstance(value, dict):
            return {k: walk(v, str(k), str(k) if label == "example" else f"{label}.{k}") for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(walk(v, None, f"{label}[{i}]") for i, v in enumerate(value)) \
                if isinstance(value, list) or type(value) is tuple else value
        return value

    return walk(example, None, "example"), unknown
