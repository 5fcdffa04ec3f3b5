"""pytest plugin: ``pytest --gptspec-target=pkg.module`` runs each property as its own test item.

Inert unless ``--gptspec-target`` is given: it then adds one item per property of the catalogue
(marked ``gptspec``; ``-m gptspec`` runs only those), runs each with the same runner as
``gptspec verify`` and fails it with the same counterexample and reproduce command. A property
whose functions the target lacks is skipped with the reason "not provided: needs ...".

Under pytest-xdist (``-n auto``) every worker loads the target and runs its share of the
properties; the controller hands its seed to the workers, so one seed covers the whole run.
Workers run tests on their main thread, so the per-call time limit holds there too. Each item
gets an equal share of the profile's time budget (``gptspec verify`` passes unused time on).

Nothing heavy is imported unless the option is given: the plugin is loaded by every pytest run
in an environment where gptspec is installed.
"""

from __future__ import annotations

import inspect
import os
import random
from typing import Any

import pytest

LAYOUT_CHOICES = ("columns", "rows")
FRAMEWORK_CHOICES = ("numpy", "torch")
PROFILE_CHOICES = ("quick", "default", "thorough")
DEFAULT_TIMEOUT = 5.0  # the runner's values, repeated so that loading the plugin stays cheap (a test keeps them equal)
MARK = "gptspec"
_STATE = pytest.StashKey[dict[str, Any]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gptspec", "gptspec: the property catalogue against an implementation")
    group.addoption("--gptspec-target", default=None, metavar="TARGET",
                    help="module name or .py path of the implementation to verify (turns the plugin on)")
    group.addoption("--gptspec-layout", choices=LAYOUT_CHOICES, default="columns",
                    help="columns (the spec's) or rows (every 2-D tensor transposed)")
    group.addoption("--gptspec-framework", choices=FRAMEWORK_CHOICES, default=None,
                    help="numpy or torch (default: detected from what the target imports)")
    group.addoption("--gptspec-profile", choices=PROFILE_CHOICES, default="default",
                    help="how many examples per property: quick, default, thorough")
    group.addoption("--gptspec-seed", type=int, default=None, help="seed of the search (default: a fresh one)")
    group.addoption("--gptspec-timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                    help="per-call time limit (0: none)")


def _target(config: pytest.Config) -> str | None:
    """The target as given, a relative .py path made absolute against the invocation directory."""
    target = config.getoption("gptspec_target")
    if target and target.endswith(".py") and not os.path.isabs(target):
        target = os.path.join(str(config.invocation_params.dir), target)
    return target


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARK}: a property of the gptspec catalogue run against --gptspec-target")
    target = _target(config)
    if not target:
        return
    from ..verification import TargetError, adapt, detect_framework, load
    from ..verification.guard import Guard

    try:
        loaded = load(target)
    except TargetError as exc:
        raise pytest.UsageError(f"--gptspec-target: {exc}") from None
    worker_input = getattr(config, "workerinput", {})
    seed = worker_input.get("gptspec_seed", config.getoption("gptspec_seed"))
    if seed is None:
        seed = random.SystemRandom().randrange(1_000_000)
    framework = config.getoption("gptspec_framework") or detect_framework(loaded.obj, loaded.provides)
    guard = Guard(config.getoption("gptspec_timeout") or None)
    layout = config.getoption("gptspec_layout")
    impl = adapt(loaded.obj, loaded.provides, layout=layout, framework=framework, label=loaded.label, guard=guard)
    config.stash[_STATE] = dict(target=loaded, impl=impl, guard=guard, seed=seed, framework=framework, layout=layout)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: every worker searches with the controller's seed."""
    state = node.config.stash.get(_STATE, None)
    if state is not None:
        node.workerinput["gptspec_seed"] = state["seed"]


def pytest_report_header(config: pytest.Config) -> str | None:
    state = config.stash.get(_STATE, None)
    if state is None:
        return None
    return (f"gptspec: verifying {state['target'].label} ({state['layout']}, {state['framework']}, "
            f"profile {config.getoption('gptspec_profile')}, seed {state['seed']}); "
            f"provides {', '.join(state['target'].provides)}")


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
        from ..verification.runner import PROFILES, reproducer, run_property

        state = self.config.stash[_STATE]
        profile = self.config.getoption("gptspec_profile")
        reproduce = reproducer(state["target"], state["layout"], state["framework"], profile,
                               self.config.getoption("gptspec_timeout"), state["seed"])
        result = run_property(self.prop, state["impl"], state["guard"], PROFILES[profile], state["seed"],
                              reproduce(self.prop.name), budget=state["budget"])
        if result.status == "interrupted":
            raise KeyboardInterrupt
        if result.status == "not provided":
            missing = [n for n in self.prop.needs if n not in state["target"].provides]
            pytest.skip(f"not provided: {self.prop.name} needs {', '.join(missing)}")
        if result.failure is not None:
            raise PropertyFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if not isinstance(excinfo.value, PropertyFailed):
            return str(super().repr_failure(excinfo))
        r = excinfo.value.result
        f = r.failure
        where = f" in {f.function}" if f.function else ""
        lines = [f"{f.kind}{where}: {f.message}", f"property: {r.statement}", f.heading]
        lines += [f"  {line}" for line in f.counterexample] + r.notes
        lines.append(f"reproduce: {f.reproduce}")
        return "\n".join(lines)

    def reportinfo(self) -> tuple[Any, int, str]:
        body = self.prop.body
        path = inspect.getsourcefile(body) or "gptspec"
        return path, inspect.getsourcelines(body)[1] - 1, f"gptspec property {self.prop.name}"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Add one item per property (before ``-m``/``-k`` deselect), in the catalogue's order."""
    if _STATE not in config.stash:
        return
    from ..verification.runner import PROFILES
    from .registry import properties

    state = config.stash[_STATE]
    applicable = sum(p.applies_to(state["impl"]) for p in properties())
    state["budget"] = PROFILES[config.getoption("gptspec_profile")].share(0.0, applicable)
    for prop in properties():
        items.append(PropertyItem.from_parent(session, name=prop.name, nodeid=f"gptspec::{prop.name}", prop=prop))
