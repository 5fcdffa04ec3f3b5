"""Plain-text reports of a check: the observed shape flow of one block, and the memory figures.

Sizes get their symbols from the call they happen in: inside ``multi_head_attention`` the spec
binds n_heads, d_head, d_model and ctx from its arguments, so an operation's result of shape
(96, 128, 2048) reads ``[n_heads d_head ctx]``. A size two dims share is shown as ``a|b``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from .forward import CheckRun, Enter, Exit, Layer, Observed
from .trace import Op

__all__ = ["FlowRow", "observed_flow", "block_flow", "render_flow", "render_memory", "layer_events", "human_bytes"]


@dataclasses.dataclass(frozen=True)
class FlowRow:
    depth: int
    step: str
    tensor: str
    dims: str
    shape: tuple[int, ...]


def layer_events(events: list[Any], index: int = 0) -> list[Any]:
    """The events of one layer: from its Layer marker to the next one (or the end)."""
    marks = [i for i, e in enumerate(events) if isinstance(e, Layer)]
    start = next(i for i in marks if events[i].index == index)
    after = [i for i in marks if i > start]
    return events[start + 1 : after[0] if after else len(events)]


def _names(arguments: Iterable[Observed]) -> dict[int, list[str]]:
    """size → the simple dim names bound to it by the call's arguments, in order of binding."""
    names: dict[int, list[str]] = {}
    for o in arguments:
        for dim, size in zip(o.dims.split(), o.shape):
            if dim.isidentifier() and dim not in names.setdefault(size, []):
                names[size].append(dim)
    return names


def _symbols(shape: tuple[int, ...], names: dict[int, list[str]]) -> str:
    return "[" + " ".join("|".join(names.get(n, [str(n)])) for n in shape) + "]"


def observed_flow(events: list[Any]) -> Iterator[FlowRow]:
    """Rows for every call boundary and every shape-only operation among ``events``: the flow a
    check observed (what the target did), beside :func:`gptspec.spec.flow.block_flow`, the flow
    the spec's types derive (what a block must do)."""
    scopes: list[dict[int, list[str]]] = [{}]
    for e in events:
        depth = len(scopes) - 1
        if isinstance(e, Enter):
            for i, o in enumerate(e.arguments):
                step = f"{e.name} ({e.source})" if i == 0 else ""
                yield FlowRow(depth, step, o.label, f"[{o.dims}]", o.shape)
            scopes.append({**scopes[-1], **_names(e.arguments)})
        elif isinstance(e, Exit):
            scopes.pop()
            yield FlowRow(len(scopes) - 1, f"{e.name} →", "result", f"[{e.result.dims}]", e.result.shape)
        elif isinstance(e, Op):
            yield FlowRow(depth, e.name, "", _symbols(e.shape, scopes[-1]), e.shape)


block_flow = observed_flow
"""The old name of :func:`observed_flow`, kept for ``gptspec check --flow`` (cli.check) that imports it."""


def _size(shape: tuple[int, ...]) -> str:
    return " × ".join(f"{n:,}" for n in shape) if shape else "scalar"


def _line(step: str, tensor: str, dims: str, size: str) -> str:
    return f"  {step:<36} {tensor:<12} {dims:<26} {size}"


def render_flow(rows: Iterable[FlowRow], *, calls_only: bool = False) -> str:
    """One line per row: the call or operation (indented by nesting), tensor, dims, sizes."""
    lines = [_line("call / operation", "tensor", "dims", "size")]
    for r in rows:
        if calls_only and not r.tensor:
            continue
        lines.append(_line("  " * r.depth + r.step, r.tensor, r.dims, _size(r.shape)))
    return "\n".join(lines)


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def render_memory(runs: Sequence[CheckRun], peak_rss: int, seconds: float) -> str:
    """What a real run would hold (weights, peak live activations), one column per run's dtype."""
    dtypes = [str(run.dtype) for run in runs]
    n_ops = sum(isinstance(e, Op) for run in runs for e in run.recorder.events)
    return "\n".join([
        f"  {'a real run would need':<32}" + "".join(f"{d:>12}" for d in dtypes),
        f"  {'weights':<32}" + "".join(f"{human_bytes(run.weight_bytes):>12}" for run in runs),
        f"  {'activations, peak live arrays':<32}" + "".join(f"{human_bytes(run.recorder.peak):>12}" for run in runs),
        f"  this check used: {human_bytes(peak_rss)} peak RSS, {seconds:.2f} s, "
        f"{n_ops:,} operations on shape-only arrays",
    ])
