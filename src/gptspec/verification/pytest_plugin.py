"""pytest plugin: ``pytest --gptspec-target=pkg.module`` runs each property as its own test item.

Inert unless ``--gptspec-target`` is given: it then adds one item per property of the catalogue
(marked ``gptspec``; ``-m gptspec`` runs only those) and runs each on the same engine as
``gptspec verify``: a :class:`~.session.Session` per pytest process, so the target runs in a
process of its own (one per xdist worker), with the profile's fixed number of examples and the
run's seed. A failure is drawn in the same layout as the command's (:func:`.report.failure_lines`)
with the same reproduce command. A property whose functions the target lacks is skipped with the
reason "not provided: needs ...". ``--gptspec-assume WORD`` (repeatable) declares the target's
domain as ``gptspec verify --assume`` does (a property it excludes is skipped as "not
applicable: ..."); ``--gptspec-strict`` counts fragile properties as failed.

Under pytest-xdist (``-n auto``) the controller hands its seed to the workers, so one seed
covers the whole run, and each property's verdict is the same whichever worker runs it.

Nothing heavy is imported unless the option is given: the plugin is loaded by every pytest run
in an environment where gptspec is installed. Its choices come from the engine's own constants,
read only when the options are added (cheap modules: no NumPy, no Hypothesis).
"""

from __future__ import annotations

import inspect
import os
import random
from typing import Any

import pytest

MARK = "gptspec"
_SESSION = pytest.StashKey[Any]()
_SEED = pytest.StashKey[int]()


def pytest_addoption(parser: pytest.Parser) -> None:
    from .choices import arguments

    group = parser.getgroup("gptspec", "gptspec: the property catalogue against an implementation")
    group.addoption("--gptspec-target", default=None, metavar="TARGET",
                    help="module name or .py path of the implementation to verify (turns the plugin on)")
    group.addoption("--gptspec-seed", type=int, default=None, help="seed of the search (default: a fresh one)")
    for option in arguments():  # gptspec verify's --NAME as --gptspec-NAME, defined once (.choices)
        group.addoption("--gptspec-" + option.flag[2:], help=option.help, **option.settings)


def _target(config: pytest.Config) -> str | None:
    """The target as given, a relative .py path made absolute against the invocation directory."""
    target = config.getoption("gptspec_target")
    if target and target.split(":")[0].endswith(".py") and not os.path.isabs(target):
        target = os.path.join(str(config.invocation_params.dir), target)
    return target


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARK}: a property of the gptspec catalogue run against --gptspec-target")
    target = _target(config)
    if not target:
        return
    from ..target import TargetError
    from .errors import OptionError
    from .options import Options
    from .session import Session

    worker_input = getattr(config, "workerinput", {})
    seed = worker_input.get("gptspec_seed", config.getoption("gptspec_seed"))
    if seed is None:
        seed = random.SystemRandom().randrange(1_000_000)
    words = [w.strip() for v in config.getoption("gptspec_assume") for w in v.split(",") if w.strip()]
    try:
        options = Options.read(lambda name: words if name == "assume" else config.getoption(f"gptspec_{name}"))
    except OptionError as exc:
        raise pytest.UsageError(f"gptspec: {exc}") from None
    try:
        session = Session(target, options, seed)
    except (TargetError, OptionError) as exc:
        raise pytest.UsageError(f"--gptspec-target: {exc}") from None
    config.stash[_SESSION] = session
    config.stash[_SEED] = seed
    config.add_cleanup(session.close)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: every worker searches with the controller's seed."""
    seed = node.config.stash.get(_SEED, None)
    if seed is not None:
        node.workerinput["gptspec_seed"] = seed


def pytest_report_header(config: pytest.Config) -> str | None:
    session = config.stash.get(_SESSION, None)
    if session is None:
        return None
    loaded = session.loaded
    assuming = f"; assuming {', '.join(session.domain.words)}" if session.domain else ""
    strict = "; strict" if session.options.strict else ""
    return (f"gptspec: verifying {loaded.label} ({session.options.layout}, {loaded.framework}, "
            f"profile {session.options.profile}, seed {session.seed}{assuming}{strict}); "
            f"provides {', '.join(loaded.provides)}")


class PropertyFailed(Exception):
    """Raised by a property item; carries the runner's result for the failure report."""

    def __init__(self, result: Any) -> None:
        super().__init__(result.name)
        self.result = result


class PropertyItem(pytest.Item):
    """One property of the catalogue, run against the target."""

    def __init__(self, *, prop: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.prop = prop
        self.add_marker(MARK)

    def runtest(self) -> None:
        session = self.config.stash[_SESSION]
        result = session.run(self.prop)
        if result.status == "interrupted":
            raise KeyboardInterrupt
        if result.status == "not provided":
            missing = [n for n in self.prop.needs if n not in session.loaded.provides]
            pytest.skip(f"not provided: {self.prop.name} needs {', '.join(missing)}")
        if result.status == "not applicable":
            pytest.skip(result.notes[0] if result.notes else f"not applicable: {self.prop.name}")
        if result.status == "fragile" and not session.options.strict:
            return  # holds on the ordinary domain; --gptspec-strict counts it as failed
        if result.failure is not None:
            raise PropertyFailed(result)
        if result.status != "passed":  # never a pass for a search that did not run to its end
            pytest.fail(f"{self.prop.name}: {result.status}", pytrace=False)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if not isinstance(excinfo.value, PropertyFailed):
            return str(super().repr_failure(excinfo))
        from .report import failure_lines

        return "\n".join(text for _, text in failure_lines(excinfo.value.result))

    def reportinfo(self) -> tuple[Any, int, str]:
        body = self.prop.body
        path = inspect.getsourcefile(body) or "gptspec"
        return path, inspect.getsourcelines(body)[1] - 1, f"gptspec property {self.prop.name}"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Add one item per property (before ``-m``/``-k`` deselect), in the catalogue's order."""
    if _SESSION not in config.stash:
        return
    from ..properties.catalogue import properties

    for prop in properties():
        items.append(PropertyItem.from_parent(session, name=prop.name, nodeid=f"gptspec::{prop.name}", prop=prop))
