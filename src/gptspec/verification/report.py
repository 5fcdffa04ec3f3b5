"""The verdict: one result per property, with counterexamples, as data, JSON and rich tables.

The same :class:`Report` object is what :func:`gptspec.verify` returns, what ``--json`` writes
(``Report.to_dict``) and what the terminal shows (:func:`render`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from typing import Any

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..properties.ordinary import short
from ..target import SPEC_NAMES
from .conventions import ENTRY_POINTS
from . import frameworks
from .choices import KERNEL

__all__ = ["STATUSES", "Diagnosis", "Failure", "Onset", "PropertyResult", "Report", "render", "failure_lines", "domain_lines",
           "MISSING_ROWS", "failing_function"]

STATUSES = ("passed", "failed", "fragile", "error", "not applicable", "not provided", "interrupted", "not run")
"""failed: the property does not hold on an ordinary example. fragile: it holds on every ordinary
example and fails only beyond the ordinary domain (its onset says where). error: the target
raised, crashed, hung, or the property could not run. not applicable: the target's declared
domain (``--assume``) excludes what the property needs. not provided: the target lacks a function
the property needs (not a failure).
interrupted: Ctrl-C ended its search. not run: the run ended before it (Ctrl-C, the run's time
cap); never counted as passed."""

MISSING_ROWS = 5
"""Up to this many "not provided" properties are rows of the property table; more are one
summary row (a target with only attention lacks the functions of some forty properties, whose
rows would bury the dozen that ran). ``--hide-missing`` leaves them out altogether."""

CONTRACT_NOTE = ("this checks the spec's input contract (refusing invalid input), not the math: libraries such as "
                 "HF's TemperatureLogitsWarper never promised it; --skip contract skips these checks")

_STYLE = {"passed": "green", "failed": "bold red", "fragile": "bold yellow", "error": "bold magenta",
          "not applicable": "dim cyan", "not provided": "dim", "interrupted": "yellow", "not run": "dim yellow"}


@dataclasses.dataclass
class Diagnosis:
    """The likely cause of a failure (:mod:`.diagnosis`): the known mistake whose changed reference
    agrees with the target on every case, where the plain reference does not."""

    name: str  # "scale-1/d_head": a cause of gptspec.properties.causes
    sentence: str  # "the scores are scaled by 1/d_head, not 1/√d_head"
    function: str  # the spec function it was found on
    value: float | None  # a numeric cause's fitted value (a mask constant, ε), else None
    agrees: int  # cases the changed reference agrees on
    examples: int  # cases tried: the counterexample's calls and the drawn ones
    counterexample_calls: int  # of them, the counterexample's own calls of ``function``
    reference_disagrees: int  # cases the plain reference gets wrong
    also: list[str] = dataclasses.field(default_factory=list)  # other causes that agree as well (fit less well)

    @property
    def evidence(self) -> str:
        return (f"the reference with that change agrees on {self.agrees} of {self.examples} examples of "
                f"{self.function}, where the plain reference disagrees on {self.reference_disagrees}")

    @property
    def line(self) -> str:
        return f"likely cause: {self.sentence} ({self.evidence})"


@dataclasses.dataclass
class Failure:
    """Why a property failed, on which minimal example, and how to see it again."""

    kind: str  # "does not hold", "raised", "timed out", "crashed", "property raised"
    message: str  # expected vs got (the PropertyFailure's message), or the exception
    function: str | None  # the target function that raised or hung, when known
    counterexample: list[str]  # "E: float32[2 3] nonzero: [0,1]=1e+05; 0 elsewhere", ...
    reproduce: str  # a one-line command that runs this property again on this example
    layout: str = "columns"  # the layout the counterexample is shown in: the user's
    framework: str = "numpy"
    cause: Diagnosis | None = None  # the likely cause, when one known mistake explains it (.diagnosis)
    arguments: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # the counterexample as data
    expected: Any = None  # the values compared, as data ({"shape", "dtype", "data"}), when the property compared
    got: Any = None  # arrays (in the spec's layout, as the property compared them)
    at: list[int] | None = None  # the index of the worst entry in them

    @property
    def heading(self) -> str:
        """What the counterexample lines are: a hang or crash is not shrunk (each try would cost a restart)."""
        what = {"timed out": "the example it hung on", "crashed": "the example it crashed on",
                "answer refused": "the example it gave that answer on"}.get(self.kind, "minimal counterexample")
        if self.layout == "columns":
            return f"{what} (spec layout, columns are tokens):"
        if self.layout == KERNEL:
            return f"{what} (as the convention's kernel receives them: [batch heads L D], tokens are rows within each head):"
        given = frameworks.get(self.framework).values  # "arrays", "torch tensors", ...
        return f"{what} ({self.layout} layout, as your functions receive these {given}: tokens are rows):"

    @property
    def headline(self) -> str:
        where = f" in {self.function}" if self.function else ""
        return f"{self.kind}{where}: {self.message}"


@dataclasses.dataclass
class Onset:
    """Where a fragile property starts to fail: it holds while ``quantity`` ≤ ``holds_up_to`` and
    fails from ``fails_from`` on (e.g. |scores| ≤ 1e9, fails from 1e10), and what likely causes it.
    ``below``: the quantity fails as it falls (a temperature): it holds while T ≥ ``holds_up_to``
    and fails from ``fails_from`` down."""

    quantity: str  # "|scores|", "|x|", "|x/T|", "T"
    holds_up_to: float
    fails_from: float
    cause: str | None = None  # "the mask is a finite constant (−1e10?)"
    below: bool = False

    def __str__(self) -> str:
        holds, fails = ("≥", "≤") if self.below else ("≤", "≥")
        text = (f"holds while {self.quantity} {holds} {short(self.holds_up_to)}; "
                f"fails from {self.quantity} {fails} {short(self.fails_from)}")
        return f"{text}: {self.cause}" if self.cause else text


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
    onset: Onset | None = None  # fragile: where the failures start
    narrowed: str | None = None  # how the declared domain narrowed this property's examples
    tags: tuple[str, ...] = ()  # "contract": a check of the spec's input contract, not of the math
    error_cluster: tuple[str, ...] = ()  # --assume words that exclude every example it errored on
    ran_inside: tuple[str, ...] = ()  # --assume words whose domain it drew examples in that the target answered
    exhausted: bool = False  # passed after every distinct input its strategy has (fewer than the profile's)

    @property
    def contract(self) -> bool:
        return "contract" in self.tags


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
    interrupted_by: int = 2  # the signal that ended the run early: SIGINT (Ctrl-C), SIGTERM (15)
    incomplete: bool = False  # some property did not run to its end (the time cap)
    jobs: int = 1
    assumptions: tuple[str, ...] = ()  # the target's declared domain (--assume, GPTSPEC_ASSUME)
    strict: bool = False  # fragile counts as failed
    suggestions: list[str] = dataclasses.field(default_factory=list)  # e.g. the --assume that would exclude errors
    notes: list[str] = dataclasses.field(default_factory=list)  # what the target printed or warned in the run
    isolation: str = ""  # how the target's processes were sandboxed (.boot: "namespaces", "process group")
    family: str | None = None  # "recognised nanoGPT's GPT: ...": the model family the target was verified as

    def counts(self) -> dict[str, int]:
        return {s: sum(r.status == s for r in self.results) for s in STATUSES}

    @property
    def settled(self) -> tuple[str, ...]:
        """The statuses that let a run pass: fragile too, unless ``strict``."""
        return ("passed", "not provided", "not applicable") + (() if self.strict else ("fragile",))

    @property
    def ok(self) -> bool:
        """Every applicable property ran to its end and passed (or, unless strict, was fragile)."""
        return not (self.interrupted or self.incomplete) and all(r.status in self.settled for r in self.results)

    @property
    def exit_code(self) -> int:
        """0 every applicable property ran to its end and passed; 1 one failed or errored; 3 the
        run could not finish; 130 Ctrl-C, 143 SIGTERM (128 + the signal). (2, the target cannot be
        loaded, is the front end's.)"""
        if self.interrupted:
            return 128 + self.interrupted_by
        if any(r.status in ("failed", "error") or (self.strict and r.status == "fragile") for r in self.results):
            return 1
        return 0 if self.ok else 3

    def failures(self) -> list[PropertyResult]:
        """Results with a failure record, fragile ones last (their own section of the report)."""
        found = [r for r in self.results if r.failure is not None]
        return [r for r in found if r.status != "fragile"] + [r for r in found if r.status == "fragile"]

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
        for result, record in zip(self.results, data["results"]):
            if result.failure is None:
                continue
            record["failure"]["function"] = failing_function(result)
            if result.failure.cause is not None:
                record["failure"]["evidence"] = result.failure.cause.evidence
        data.update(ok=self.ok, exit_code=self.exit_code, counts=self.counts(), functions=self.by_function())
        return data

    def write_json(self, path: str | os.PathLike[str]) -> None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=2)
            f.write("\n")


def failing_function(result: PropertyResult) -> str | None:
    """The function a failure is in: the one that raised or hung, else its cause's, else the one the
    property needs, else (of several) the first the message names, else the first it needs."""
    failure = result.failure
    if failure is None:
        return None
    if failure.function or failure.cause:
        return failure.function or failure.cause.function  # type: ignore[union-attr]
    if len(result.needs) <= 1:
        return result.needs[0] if result.needs else None
    found = [(m.start(), n) for n in result.needs if (m := re.search(rf"\b{n}\b", failure.message))]
    return min(found)[1] if found else result.needs[0]


def _time(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def function_table(report: Report) -> Table:
    """One row per spec function: provided or not, and how its properties ended."""
    table = Table(title="Spec functions (properties that need each one)", title_justify="left")
    table.add_column("function", no_wrap=True)
    table.add_column("provided", no_wrap=True)
    shown = ("passed", "failed", "error") + (("not applicable",) if report.counts()["not applicable"] else ()) + ("not provided",)
    for status in shown:
        table.add_column(status, justify="right", no_wrap=True)
    for name, c in report.by_function().items():
        cells = [f"[{_STYLE[s]}]{c[s]}[/{_STYLE[s]}]" if c[s] and s in ("failed", "error") else str(c[s])
                 for s in shown]
        provided = "yes" if name in report.provides else "[dim]not provided[/dim]"
        table.add_row(name, provided, *cells)
    return table


def _statement(r: PropertyResult, report: Report) -> str:
    """The statement cell: what the property states (and how the domain narrowed it), or why it did not run."""
    if r.status == "not provided":
        return f"[dim]needs {', '.join(n for n in r.needs if n not in report.provides)}[/dim]"
    if r.status == "not applicable":
        reason = next((n for n in r.notes if n.startswith("not applicable:")), "not applicable")
        return f"[dim cyan]{escape(reason.split(' ', 3)[-1] if reason.count(' ') >= 3 else reason)}[/dim cyan]"
    text = escape(r.statement)
    if r.contract:
        text = f"[dim]the spec's input contract:[/dim] {text}"
    if r.narrowed:
        text += f"\n[dim cyan]narrowed: {escape(r.narrowed)}[/dim cyan]"
    return text


def property_table(report: Report, *, statements: bool = True, hide_missing: bool = False) -> Table:
    """One row per property, grouped by family; ``statements`` adds what each one states. "not
    provided" properties are rows when at most :data:`MISSING_ROWS` of them, else one summary
    row; ``hide_missing`` leaves them out."""
    table = Table(title="Properties", title_justify="left")
    table.add_column("property", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("examples", justify="right")
    table.add_column("time", justify="right", no_wrap=True)
    if statements:
        table.add_column("statement (or the functions missing)", ratio=1)
    missing = [r for r in report.results if r.status == "not provided"]
    summarise = hide_missing or len(missing) > MISSING_ROWS
    family = None
    for r in report.results:
        if summarise and r.status == "not provided":
            continue
        if family is not None and r.family != family:
            table.add_section()
        family = r.family
        style = _STYLE[r.status]
        status = f"{r.status} (contract)" if r.contract and r.status in ("failed", "error") else r.status
        examples = f"{r.examples} (all)" if r.exhausted else str(r.examples) if r.examples else ""
        cells = [r.name, f"[{style}]{status}[/{style}]", examples,
                 _time(r.seconds) if r.examples else ""]
        if statements:
            cells.append(_statement(r, report))
        table.add_row(*cells)
    if missing and summarise and not hide_missing:
        table.add_section()
        order = (*SPEC_NAMES, *ENTRY_POINTS)  # a convention's entry points after the spec's functions
        needs = sorted({n for r in missing for n in r.needs if n not in report.provides}, key=order.index)
        cells = [f"… {len(missing)} more", f"[{_STYLE['not provided']}]not provided[/{_STYLE['not provided']}]", "", ""]
        if statements:
            cells.append(f"[dim]need {', '.join(needs)} (--hide-missing leaves this row out)[/dim]")
        table.add_row(*cells)
    return table


def failure_lines(r: PropertyResult) -> list[tuple[str, str]]:
    """The one layout of a failure, as (style, text) lines: the terminal's panel and the pytest
    plugin's report both draw it."""
    f = r.failure
    assert f is not None
    lines = [("italic", r.statement), ("", f.headline)]
    if r.contract:
        lines.append(("dim", CONTRACT_NOTE))
    if r.onset is not None:
        lines.append(("bold yellow", f"fragile beyond the ordinary domain: {r.onset}"))
    if f.cause is not None:
        lines.append(("bold cyan", f.cause.line))
    if f.counterexample:
        lines += [("bold", f.heading)] + [("", f"  {line}") for line in f.counterexample]
    lines += [("dim", note) for note in r.notes]
    lines.append(("cyan", f"reproduce: {f.reproduce}"))
    return lines


def failure_panel(r: PropertyResult) -> Panel:
    lines = [Text(text, style=style) for style, text in failure_lines(r)]
    what = f"{r.status} (the spec's input contract)" if r.contract else r.status
    return Panel(Group(*lines), title=f"[{_STYLE[r.status]}]{what}: {r.name}", title_align="left")


def summary_line(report: Report) -> Text:
    c = report.counts()
    parts = [f"{c[s]} {s}" for s in STATUSES if c[s]]
    code = 130 if report.interrupted else report.exit_code
    verdict = {130: "interrupted", 3: "INCOMPLETE", 0: "PASS"}.get(code, "FAIL")
    style = {130: "yellow", 3: "yellow", 0: "bold green"}.get(code, "bold red")
    return Text.assemble(
        (verdict, style),
        f" {report.target} ({report.layout}, {report.framework}, profile {report.profile}, seed {report.seed}): "
        f"{', '.join(parts) or 'no properties'} in {_time(report.seconds)}",
    )


def domain_lines(report: Report) -> list[str]:
    """How the declared domain bore on the run: the properties it narrowed, and how; those it
    made not applicable."""
    if not report.assumptions:
        return []
    narrowed: dict[str, list[str]] = {}
    for r in report.results:
        if r.narrowed and r.status != "not provided":
            narrowed.setdefault(r.narrowed, []).append(r.name)
    lines = [f"narrowed ({len(names)} propert{'ies' if len(names) > 1 else 'y'}): {text}" for text, names in narrowed.items()]
    excluded = [r.name for r in report.results if r.status == "not applicable"]
    if excluded:
        lines.append(f"not applicable ({len(excluded)}): {', '.join(excluded)}")
    return lines


ISOLATION = {
    "namespaces": "user, PID and mount namespaces: the target's processes cannot see, signal or outlive gptspec's",
    "namespaces (host /proc)": "user and PID namespaces, /proc not remounted: the target cannot signal or outlive "
    "gptspec's processes",
    "process group": "the kernel refused namespaces: a session and a subreaper end what the target starts; this "
    "protects against bugs, not against code written to attack gptspec",
}
"""What each isolation mode (:mod:`.boot`) protects against, as the report says it."""


def render(report: Report, console: Console, *, hide_missing: bool = False) -> None:
    """Print the declared domain, the function table, the property table, a panel per failure
    (fragile findings in their own section), suggestions, and the verdict."""
    if report.family:
        console.print(Text(report.family, style="bold cyan"))
    if report.assumptions:
        console.print(Text(f"assuming: {', '.join(report.assumptions)}", style="bold cyan"))
        for line in domain_lines(report):
            console.print(Text(f"  {line}", style="cyan"))
    console.print(function_table(report))
    console.print(property_table(report, statements=console.width >= 120, hide_missing=hide_missing))
    fragile_heading = False
    for r in report.failures():
        if r.status == "fragile" and not fragile_heading:
            fragile_heading = True
            console.print(Text("Fragile beyond the ordinary domain" + (" (--strict: counted as failed)" if report.strict else
                                                                        " (not counted as failed; --strict counts them)"),
                               style="bold yellow"))
        console.print(failure_panel(r))
    for suggestion in report.suggestions:
        console.print(Text(f"suggestion: {suggestion}", style="bold cyan"))
    for note in report.notes:
        console.print(Text(f"note: {note}", style="dim"))
    if report.incomplete and not report.interrupted:
        console.print(Text("note: the run could not finish: the properties marked 'not run' were not searched", style="yellow"))
    if report.isolation:
        console.print(Text(f"isolation: {report.isolation} ({ISOLATION.get(report.isolation, '')})", style="dim"))
    console.print(summary_line(report))
