"""``gptspec verify TARGET``: run the property catalogue against a user's implementation.

Exit status: 0 every applicable property ran to its end and passed, 1 one failed (or the target
raised, crashed or hung), 2 the target cannot be loaded or the arguments are wrong, 3 the run
could not finish (its --max-seconds cap), 130 interrupted by Ctrl-C (SIGINT), 143 by SIGTERM: at any
phase (the target loading, the search, shrinking, the fragility judgement) the partial report is
printed first, with no traceback, and no process of the run is left.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ..verification import stopping
from .explain import console


def add_parser(sub: Any) -> None:
    from ..verification import conventions
    from ..verification.choices import arguments

    p = sub.add_parser(
        "verify",
        help="run every applicable property against your own implementation",
        description="Run every applicable property of the catalogue against your implementation "
        "and report what fails, with minimal counterexamples. Your code is loaded and called only in "
        "processes of its own: if it exits, crashes or hangs, that process is killed and replaced and "
        "the property it served is reported as an error; nothing it does changes gptspec's reference. "
        "Where the kernel allows, those processes run in user, PID and mount namespaces (they cannot see, signal "
        "or outlive gptspec's); elsewhere in a process group that a subreaper ends, which protects against bugs, "
        "not against code written to attack gptspec: the report's 'isolation' line says which. "
        "The properties and the search run in gptspec's processes, spread over --jobs worker processes. "
        "Each profile runs a fixed number of examples per property, so a seed reproduces a verdict "
        "exactly, on an idle or a busy machine and for any number of jobs.",
        epilog="conventions (--convention NAME): "
        + "; ".join(f"{c.name}: {c.help}" for c in conventions.registered())
        + ". exit status: 0 every applicable property ran to its end and passed (or is fragile: fails "
        "only beyond the ordinary domain); 1 one failed, or your code raised, crashed or hung, or one is fragile "
        "under --strict; 2 the target cannot be loaded or an option is wrong; "
        "3 the run could not finish (--max-seconds reached); 130 interrupted (Ctrl-C), 143 terminated (SIGTERM), "
        "after the partial report.",
    )
    p.add_argument("target", metavar="TARGET",
                   help="an importable module name, a path to a .py file, or a folder (a package, or a clone of a "
                   "project: the one whole model in it); PATH.py:NAME or module:NAME selects one "
                   "attribute (a function, with --convention); hf:NAME a function registered with HF transformers "
                   "(with --convention hf-attention); hf:gpt2 and tl:gpt2 the whole GPT-2 of HF transformers and of "
                   "TransformerLens, the spec's weights loaded into them (no convention)")
    for option in arguments():  # the Options fields, defined once (verification.choices)
        p.add_argument(option.flag, help=option.help, **option.settings)
    p.add_argument("--family", default=None, metavar="NAME",
                   help="verify TARGET as this model family's code (nanogpt, mingpt, picogpt, hf-gpt2), or 'none' to "
                   "verify only the spec's functions it defines (default: recognised by its structure)")
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help="run only these properties, families or functions (repeatable, comma-separated, globs)")
    p.add_argument("--skip", action="append", default=[], metavar="NAME", help="skip these (same names as --only)")
    p.add_argument("--hide-missing", action="store_true",
                   help="leave the properties of functions your code does not provide out of the table")
    p.add_argument("--seed", type=int, default=None, help="seed of the search (default: a fresh one, printed)")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="worker processes the properties are spread over (default: the usable cores)")
    p.add_argument("--max-seconds", type=float, default=None, metavar="S",
                   help="cap on the run's wall time: properties not searched by then are 'not run' and "
                   "the run exits 3, never 0")
    p.add_argument("--json", default=None, metavar="FILE", help="also write the report as JSON to FILE")
    p.add_argument("--plots", default=None, metavar="DIR",
                   help="write, for each failed attention property, the expected and your pattern side by side "
                   "(wrong entries marked) to DIR/PROPERTY.png (needs gptspec[plot]; skipped with a note without it)")
    p.set_defaults(func=run)


def _names(values: list[str]) -> list[str]:
    return [n.strip() for v in values for n in v.split(",") if n.strip()]


class RichProgress:
    """A progress bar over the properties, with the examples tried by the current one."""

    def __init__(self, err: Console) -> None:
        self.bar = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[examples]} examples"), TimeElapsedColumn(),
            console=err, transient=True, redirect_stdout=False, redirect_stderr=False,
        )
        self.task: Any = None

    def start(self, total: int) -> None:
        self.bar.start()
        self.task = self.bar.add_task("properties", total=total, examples=0)

    def begin(self, name: str) -> None:
        self.bar.update(self.task, description=name, examples=0)

    def example(self, count: int) -> None:
        self.bar.update(self.task, examples=count)

    def end(self, result: Any) -> None:
        self.bar.advance(self.task)
        if result.status in ("failed", "error"):
            self.bar.console.print(f"[red]{result.status}[/red] {result.name}")

    def stop(self) -> None:
        self.bar.stop()


class Interrupts:
    """SIGINT and SIGTERM as the run's own: the first of them raises KeyboardInterrupt where the
    run is (each phase turns it into the partial report), the later ones are noted only (the
    run's ending and the report's printing are not cut short). ``signal``: the first one's number."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self.raising = True

    def __call__(self, signum: int, frame: object) -> None:
        if self.signal is None:
            self.signal = signum
            stopping.request(signum)  # noted first: seen by every later wait on a target, however the raise fares
        if self.raising:
            self.raising = False
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def installed(self) -> Iterator[Interrupts]:
        before = {s: signal.signal(s, self) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            with stopping.watching():
                yield self
        finally:
            for s, handler in before.items():
                signal.signal(s, handler)


def _undumpable() -> None:
    """This process's /proc/PID/fd is closed to processes without ptrace rights over it (a target
    process outside namespaces, under another user): see gptspec.verification.boot."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE


def run(args: argparse.Namespace) -> int:
    _undumpable()
    with Interrupts().installed() as interrupts:
        try:
            code = _run(args, interrupts)
        except KeyboardInterrupt:  # between the run and its report
            code = 128 + (interrupts.signal or signal.SIGINT)
    return code


def _run(args: argparse.Namespace, interrupts: Interrupts) -> int:
    from ..verification import render, verify
    from ..verification.options import Options
    from ..verification.progress import LineProgress

    out = console()
    err = Console(file=sys.stderr, highlight=False)  # a fixed stream: target output is captured meanwhile
    progress = RichProgress(err) if err.is_terminal else LineProgress(err)
    from ..target import address
    from ..verification.conventions import implied_by

    target = address(args.target, family=args.family) if args.family else args.target
    convention = args.convention
    implied = implied_by(address(target).kind)  # hf:NAME is an HF attention function
    if convention is None and implied is not None:
        convention = implied.name
    options = Options.read(lambda name: convention if name == "convention" else getattr(args, name))
    report = verify(target, options=options, only=_names(args.only), skip=_names(args.skip), seed=args.seed,
                    jobs=args.jobs, max_seconds=args.max_seconds, progress=progress)
    interrupts.raising = False  # the report is printed whole
    if report.interrupted and interrupts.signal is not None:
        report.interrupted_by = interrupts.signal
    render(report, out, hide_missing=args.hide_missing)
    if args.json:
        try:
            report.write_json(args.json)
        except OSError as exc:
            print(f"gptspec verify: cannot write {args.json}: {exc.strerror}", file=sys.stderr)
            return 2
    if args.plots:
        _plots(report, args.plots)
    return report.exit_code


def _plots(report: Any, folder: str) -> None:
    """--plots: the pictures of the failed attention properties; without matplotlib, a note (the verdict stands)."""
    from .. import plots

    try:
        written = plots.failure_plots(report.to_dict(), folder)
    except plots.MissingExtraError as exc:
        print(f"gptspec verify: --plots skipped: {exc}", file=sys.stderr)
        return
    except OSError as exc:
        print(f"gptspec verify: --plots: cannot write to {folder}: {exc.strerror}", file=sys.stderr)
        return
    for path in written:
        print(f"wrote {path}")
