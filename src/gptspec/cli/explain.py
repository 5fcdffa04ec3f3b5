"""``gptspec explain``: every tensor with its symbolic and concrete shape, and the tally."""

from __future__ import annotations

import argparse
import math
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..spec import Config, tally
from ..spec.flow import block_flow, step_shape
from ..spec.tensors import TENSORS, shape_under
from .options import add_config_options, config_from_args


def add_parser(sub: Any) -> None:
    p = sub.add_parser("explain", help="every tensor of the spec, its shape under a config, and the parameter tally")
    add_config_options(p)
    p.add_argument("--ctx", type=int, default=None, help="tokens in the call (default n_ctx)")
    p.add_argument("--flow", action="store_true", help="the shape flow of one block, step by step, instead")
    p.set_defaults(func=run)


def console() -> Console:
    """A console that keeps tables readable when output goes to a pipe or a file."""
    probe = Console()
    return Console(width=None if probe.is_terminal else 140, highlight=False)


def _n(x: int) -> str:
    return f"{x:,}"


def _add_columns(table: Table, *names: str, right: str | None = None) -> None:
    """Columns ``names``, left-justified except the ``right`` one (the numbers)."""
    for name in names:
        table.add_column(name, justify="right" if name == right else "left")


def tensor_table(config: Config, ctx: int | None) -> Table:
    table = Table(title=f"Tensors of {config.name} (columns are tokens)", title_justify="left")
    _add_columns(table, "tensor", "symbolic shape", "shape", "kind", "numbers", "meaning", right="numbers")
    for t in TENSORS:
        shape = shape_under(t, config, ctx)
        kind = t.kind if not t.per else f"{t.kind}, {t.per}"
        table.add_row(t.name, escape(f"[{t.dims}]"), " × ".join(_n(s) for s in shape), kind, _n(math.prod(shape)), t.meaning)
    return table


def tally_table(config: Config) -> Table:
    t = tally(config)
    table = Table(title=f"Parameters of {config.name} by category", title_justify="left")
    _add_columns(table, "category", "tensor", "shape", "how many", "parameters", right="parameters")
    for c in t.categories:
        if c.in_video_total:
            table.add_row(c.name, c.tensor, c.shape, c.per, _n(c.count))
    table.add_section()
    table.add_row("[bold]total (weights, as the video counts)[/bold]", "", "", "", f"[bold]{_n(t.total)}[/bold]")
    table.add_section()
    for c in t.categories:
        if not c.in_video_total:
            table.add_row(c.name, c.tensor, c.shape, c.per, _n(c.count))
    table.add_section()
    table.add_row("[bold]total with biases, norms, positions[/bold]", "", "", "", f"[bold]{_n(t.total_all)}[/bold]")
    return table


def flow_table(config: Config, ctx: int | None) -> Table:
    """One block, step by step: each step's formula, symbolic dims, spec type and sizes."""
    title = f"One block of {config.name}, step by step (h = one of {config.n_heads} heads)"
    table = Table(title=title, title_justify="left")
    _add_columns(table, "step", "formula", "symbolic shape", "spec type", "shape")
    for step in block_flow():
        shape = " × ".join(_n(s) for s in step_shape(step, config, ctx))
        table.add_row(
            escape(step.name), escape(step.formula), escape(f"[{step.dims}]"), step.alias or "",
            shape + (f"  (× {config.n_heads} heads)" if step.per_head else ""),
        )
    return table


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    out = console()
    c = config
    out.print(
        f"[bold]{c.name}[/bold]: vocab {_n(c.vocab)}, d_model {_n(c.d_model)}, {c.n_heads} heads of {c.d_head} "
        f"(n_heads·d_head = {_n(c.d_attn)}), n_ctx {_n(c.n_ctx)}, {c.n_layers} layers, d_mlp {_n(c.d_mlp)}"
    )
    if args.flow:
        out.print(flow_table(config, args.ctx))
        return 0
    out.print(tensor_table(config, args.ctx))
    out.print(tally_table(config))
    return 0
