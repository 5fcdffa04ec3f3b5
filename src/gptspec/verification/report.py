"""The verdict: one result per property, with counterexamples, as data, JSON and rich tables.

The same :class:`Report` object is what :func:`gptspec.verify` returns, what ``--json`` writes
(``Report.to_dict``) and what the terminal shows (:func:`render`).
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .loader import SPEC_NAMES

__all__ = ["STATUSES", "Failure", "PropertyResult", "Report", "render"]

STATUSES = ("passed", "failed", "error", "not provided", "interrupted", "not run")
"""failed: the property does not hold. error: the target raised, hung or the property could not
run. not provided: the target lacks a function the property needs (not a failure)."""

_STYLE = {"passed": "green", "failed": "bold red", "error": "bold magenta", "not provided": "dim",
          "interrupted": "yellow", "not run": "dim yellow"}


@dataclasses.dataclass
class Failure:
    """Why a property failed, on which minimal example, and how to see it again."""

    kind: str  # "does not hold", "raised", "timed out", "property raised"
    message: str  # expected vs got (the PropertyFailure's message), or the exception
    function: str | None  # the target function that raised or hung, when known
    counterexample: list[str]  # "E: float32[2 3] nonzero: [0,1]=1e+05; 0 elsewhere", ...
    reproduce: str  # a one-line command that runs this property again on this example

    @property
    def heading(self) -> str:
        """What the counterexample lines are: a hang is not shrunk (each try would hang again)."""
        what = "the example it hung on" if self.kind == "timed out" else "minimal counterexample"
        return f"{what} (spec layout, columns are tokens):"


@dataclasses.dataclass
class PropertyResult:
    name: str
    family: str
    statement: str
    needs: tuple[str, ...]
    status: str
    examples: int = 0  # calls of the property: generated examples and shrink steps
    seconds: float = 0.0
    failure: Failure | None = None
    notes: list[str] = dataclasses.field(default_factory=list)  # output, warnings, missing functions


@dataclasses.dataclass
class Report:
    target: str
    layout: str
    framework: str
    profile: str
    seed: int
    provides: tuple[str, ...]
    missing: tuple[str, ...]
    results: list[PropertyResult] = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False
    time_limited: bool = True  # False when calls ran off the main thread, without a limit
    notes: list[str] = dataclasses.field(default_factory=list)  # what the target printed or warned in the run

    def counts(self) -> dict[str, int]:
        return {s: sum(r.status == s for r in self.results) for s in STATUSES}

    @property
    def ok(self) -> bool:
        """Every applicable property passed and the run was complete."""
        return not self.interrupted and all(r.status in ("passed", "not provided") for r in self.results)

    @property
    def exit_code(self) -> int:
        """0 when every applicable property passed, 1 when any failed or errored, 130 on Ctrl-C."""
        if self.interrupted:
            return 130
        return 0 if self.ok else 1

    def failures(self) -> list[PropertyResult]:
        return [r for r in self.results if r.failure is not None]

    def by_function(self) -> dict[str, dict[str, int]]:
        """For each spec function: how many properties needing it ended in each status."""
        table: dict[str, dict[str, int]] = {}
        for name in SPEC_NAMES:
            if name in self.provides or name in self.missing:
                table[name] = {s: 0 for s in STATUSES}
        for r in self.results:
            for name in r.needs:
                table.setdefault(name, {s: 0 for s in STATUSES})[r.status] += 1
        return table

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.update(ok=self.ok, exit_code=self.exit_code, counts=self.counts(), functions=self.by_function())
        return data

    def write_json(self, path: str | os.PathLike[str]) -> None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=2)
            f.write("\n")


def _time(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def function_table(report: Report) -> Table:
    """One row per spec function: provided or not, and how its properties ended."""
    table = Table(title="Spec functions (properties that need each one)", title_justify="left")
    table.add_column("function", no_wrap=True)
    table.add_column("provided", no_wrap=True)
    for status in ("passed", "failed", "error", "not provided"):
        table.add_column(status, justify="right", no_wrap=True)
    for name, c in report.by_function().items():
        cells = [f"[{_STYLE[s]}]{c[s]}[/{_STYLE[s]}]" if c[s] and s in ("failed", "error") else str(c[s])
                 for s in ("passed", "failed", "error", "not provided")]
        provided = "yes" if name in report.provides else "[dim]not provided[/dim]"
        table.add_row(name, provided, *cells)
    return table


def property_table(report: Report, *, statements: bool = True) -> Table:
    """One row per property, grouped by family; ``statements`` adds what each one states."""
    table = Table(title="Properties", title_justify="left")
    table.add_column("property", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("examples", justify="right")
    table.add_column("time", justify="right", no_wrap=True)
    if statements:
        table.add_column("statement (or the functions missing)", ratio=1)
    family = None
    for r in report.results:
        if family is not None and r.family != family:
            table.add_section()
        family = r.family
        style = _STYLE[r.status]
        cells = [r.name, f"[{style}]{r.status}[/{style}]", str(r.examples) if r.examples else "",
                 _time(r.seconds) if r.examples else ""]
        if statements:
            missing = [n for n in r.needs if n not in report.provides]
            cells.append(f"[dim]needs {', '.join(missing)}[/dim]" if r.status == "not provided" else escape(r.statement))
        table.add_row(*cells)
    return table


def failure_panel(r: PropertyResult) -> Panel:
    f = r.failure
    assert f is not None
    lines = [Text(r.statement, style="italic")]
    where = f" in {f.function}" if f.function else ""
    lines.append(Text.assemble((f"{f.kind}{where}: ", "bold"), f.message))
    if f.counterexample:
        lines.append(Text(f.heading, style="bold"))
        lines.extend(Text(f"  {line}") for line in f.counterexample)
    lines.extend(Text(note, style="dim") for note in r.notes)
    lines.append(Text.assemble(("reproduce: ", "bold"), (f.reproduce, "cyan")))
    return Panel(Group(*lines), title=f"[{_STYLE[r.status]}]{r.status}: {r.name}", title_align="left")


def summary_line(report: Report) -> Text:
    c = report.counts()
    parts = [f"{c[s]} {s}" for s in STATUSES if c[s]]
    verdict = "interrupted" if report.interrupted else ("PASS" if report.ok else "FAIL")
    style = "yellow" if report.interrupted else ("bold green" if report.ok else "bold red")
    return Text.assemble(
        (verdict, style),
        f" {report.target} ({report.layout}, {report.framework}, profile {report.profile}, seed {report.seed}): "
        f"{', '.join(parts) or 'no properties'} in {_time(report.seconds)}",
    )


def render(report: Report, console: Console) -> None:
    """Print the function table, the property table, a panel per failure and the verdict."""
    console.print(function_table(report))
    console.print(property_table(report, statements=console.width >= 120))
    for r in report.failures():
        console.print(failure_panel(r))
    for note in report.notes:
        console.print(Text(f"note: {note}", style="dim"))
    if not report.time_limited:
        console.print(Text("note: calls ran off the main thread, without the per-call time limit", style="dim"))
    console.print(summary_line(report))
