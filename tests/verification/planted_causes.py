"""Every planted bug of the project, and the property verdicts a diagnosis is read from.

``planted()`` lists (bug, implementation, declared domain, the properties it is meant to fail):
the property tests' mutants (tests/properties/mutants.py, with the properties PLANTED marks for
each), examples/bug_*.py and tests/examples/*bug*.py (agreement and the rest of what they provide,
as ``gptspec verify`` runs them: in their own process, in the layout and declared domain their
docstring's command gives). ``cause_of`` runs
them until one fails and returns the cause its diagnosis names (or None) — the test of the
diagnosis and benchmarks/diagnosis.py both read them.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gptspec.properties import domain as domains
from gptspec.properties.registry import Property
from gptspec.properties.catalogue import applicable, get
from gptspec.target import address
from gptspec.verification.isolation import Remote, Setup, TargetProcess
from gptspec.verification.report import PropertyResult
from gptspec.verification.runner import PROFILES, run_property

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "examples").glob("bug_*.py")) + sorted((ROOT / "tests" / "examples").glob("*bug*.py"))
SEED = 0


def _mutants() -> Iterator[tuple[str, Any, domains.Domain, list[Property]]]:
    from tests.properties.mutants import MUTANTS, PLANTED

    for name, impl in MUTANTS.items():
        props = [get(p) for p, bugs in PLANTED.items() if any(b == name for b, _ in bugs)]
        assume = getattr(impl, "assume", ()) if name.startswith(("kernel_", "module_")) else ()
        yield name, impl, domains.parse(assume or ()), props


def _options(path: Path) -> tuple[str, list[str]]:
    """The layout and --assume words the file's own docstring gives its command."""
    text = path.read_text()
    rows = "--layout rows" in text or "nanogpt" in path.name  # test_nanogpt.py runs them in rows
    return ("rows" if rows else "columns"), re.findall(r"--assume ([\w=*-]+)", text)


@contextlib.contextmanager
def _remote(path: Path) -> Iterator[tuple[Any, domains.Domain, list[Property]]]:
    """The file's target in its own process, as ``gptspec verify`` runs it."""
    layout, assume = _options(path)
    process = TargetProcess(Setup(address(str(path)), layout=layout, timeout=60.0))
    try:
        impl = Remote(process)
        props = applicable(impl)
        props = [p for p in props if p.family == "agreement"] + [p for p in props if p.family != "agreement"]
        loaded = process.loaded
        declared = list(loaded.assume) if loaded is not None else []
        yield impl, domains.parse(assume + declared), props
    finally:
        process.close()


def planted() -> list[str]:
    from tests.properties.mutants import MUTANTS

    return list(MUTANTS) + [str(p.relative_to(ROOT)) for p in FILES]


def failing(bug: str) -> PropertyResult | None:
    """The first of the bug's properties that fails (or is fragile), with its diagnosis."""
    if bug.endswith(".py"):
        with _remote(ROOT / bug) as (impl, dom, props):
            return _first_failing(impl, dom, props)
    impl, dom, props = next((i, d, p) for n, i, d, p in _mutants() if n == bug)
    return _first_failing(impl, dom, props)


def _first_failing(impl: Any, dom: domains.Domain, props: list[Property]) -> PropertyResult | None:
    for prop in props:
        if not prop.applies_to(impl):
            continue
        result = run_property(prop, impl, PROFILES["default"], SEED, "reproduce", domain=dom)
        if result.status in ("failed", "fragile"):
            return result
    return None


def cause_of(bug: str) -> str | None:
    result = failing(bug)
    if result is None or result.failure is None or result.failure.cause is None:
        return None
    return result.failure.cause.name
