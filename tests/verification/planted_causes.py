"""Every planted bug of the project, and the property verdicts a diagnosis is read from.

``planted()`` lists (bug, implementation, declared domain, the properties it is meant to fail):
the property tests' mutants (tests/properties/mutants.py, with the properties PLANTED marks for
each), examples/bug_*.py and tests/examples/*bug*.py (agreement and the rest of what they provide,
as ``gptspec verify`` runs them: in their own process, in the layout and declared domain their
docstring's command gives), and the model families' one-bug files (tests/ecosystem/test_families.py:
a line of a nanoGPT, minGPT or picoGPT file replaced, named ``family nanogpt-scale`` and so on, run
in their own process on the property meant for each). ``failing`` runs them until one fails and returns its result, with the
cause its diagnosis names (or None), searched with the quick profile (:data:`PROFILE`) to keep the
suite's time down.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gptspec.properties import domain as domains
from gptspec.properties.registry import Property
from gptspec.properties.catalogue import applicable, get
from gptspec.target import address
from gptspec.verification.isolation import Remote, Setup, TargetProcess
from gptspec.verification.report import PropertyResult
from gptspec.verification.runner import PROFILES, Profile, run_property

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "examples").glob("bug_*.py")) + sorted(p for p in (ROOT / "tests" / "examples").glob("*bug*.py")
                                                               if not p.name.startswith("jax_"))
"""The file examples with one bug each; the JAX ones are left to tests/verification/test_frameworks.py
(a JAX verdict compiles every operation per shape: minutes a file, too slow to search here)."""
SEED = 0
PROFILE = "quick"
"""The search profile the planted bugs are run with here, to keep the suite's time down: 25 examples find
each one's first failing property and the same cause as 100 do, but for the bugs in :data:`DEFAULT`."""
DEFAULT = ("mask_minus_1e10", "softmax_neg_inf_as_minus_1e4", "generate_first_column")
"""Bugs that show only on scores past 1e9 or −inf entries, which 25 examples may not reach, or (a generate
reading the first position) only where the first and last positions' logits differ in their argmax, which
seed 0's 25 examples miss: searched with the default profile. (The diagnosis keeps its default of 50 drawn examples: with 10, a T = 0 that divides by zero
was blamed on a float16 argmax, a wrong cause that 50 examples rule out.)"""


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
def _loaded(path: Path, layout: str = "columns") -> Iterator[tuple[Any, list[str]]]:
    """The file's target in its own process, as ``gptspec verify`` runs it, and what it declares."""
    process = TargetProcess(Setup(address(str(path)), layout=layout, timeout=60.0))
    try:
        impl = Remote(process)
        loaded = process.loaded
        yield impl, list(loaded.assume) if loaded is not None else []
    finally:
        process.close()


@contextlib.contextmanager
def _remote(path: Path) -> Iterator[tuple[Any, domains.Domain, list[Property]]]:
    """The file's target, in the layout and declared domain its docstring's command gives, and the
    properties it provides, agreement first."""
    layout, assume = _options(path)
    with _loaded(path, layout) as (impl, declared):
        props = applicable(impl)
        props = [p for p in props if p.family == "agreement"] + [p for p in props if p.family != "agreement"]
        yield impl, domains.parse(assume + declared), props


def _family_bugs() -> dict[str, tuple[Path, str, str, str]]:
    """``family <family>-<level>`` -> (the correct file, the line replaced, its replacement, the property)."""
    from tests.ecosystem.test_families import MINGPT, MINGPT_BUGS, NANOGPT, NANOGPT_BUGS, PICOGPT, PICOGPT_BUGS

    rows = [(NANOGPT, "nanogpt", NANOGPT_BUGS), (MINGPT, "mingpt", MINGPT_BUGS), (PICOGPT, "picogpt", PICOGPT_BUGS)]
    return {f"family {family}-{level}": (source, old, new, prop)
            for source, family, bugs in rows for level, old, new, prop in bugs}


def planted() -> list[str]:
    from tests.properties.mutants import MUTANTS

    return list(MUTANTS) + [str(p.relative_to(ROOT)) for p in FILES] + list(_family_bugs())


def failing(bug: str) -> PropertyResult | None:
    """The first of the bug's properties that fails (or is fragile), with its diagnosis."""
    profile = PROFILES["default" if bug in DEFAULT else PROFILE]
    if bug.startswith("family "):
        from tests.ecosystem.test_families import _planted

        source, old, new, prop = _family_bugs()[bug]
        with tempfile.TemporaryDirectory() as folder, _loaded(_planted(Path(folder), source, old, new)) as (impl, declared):
            return _first_failing(impl, domains.parse(declared), [get(prop)], profile)
    if bug.endswith(".py"):
        with _remote(ROOT / bug) as (impl, dom, props):
            return _first_failing(impl, dom, props, profile)
    impl, dom, props = next((i, d, p) for n, i, d, p in _mutants() if n == bug)
    return _first_failing(impl, dom, props, profile)


def _first_failing(impl: Any, dom: domains.Domain, props: list[Property], profile: Profile) -> PropertyResult | None:
    for prop in props:
        if not prop.applies_to(impl):
            continue
        result = run_property(prop, impl, profile, SEED, "reproduce", domain=dom)
        if result.status in ("failed", "fragile"):
            return result
    return None
