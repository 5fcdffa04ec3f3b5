"""The runner: each way a property's search can end becomes the right status, counterexample and
command; selection by name; a fixed number of examples and a seed replay the same search; Ctrl-C
and the run's time cap keep the partial report and never say passed."""

from __future__ import annotations

import os
import signal
import time
import types

import numpy as np
import pytest
from hypothesis import strategies as st

from gptspec import impl
from gptspec.target import TargetError
from gptspec.properties.registry import Property, PropertyFailure
from gptspec.verification import PROFILES, OptionError, Profile, SelectionError, adapt, load, run_property, select, verify
from gptspec.verification.guard import Guard
from gptspec.verification.progress import Silent


def sums_to_one(target, x):
    p = target.softmax(x)
    if not abs(float(p.sum()) - 1) < 1e-9:
        raise PropertyFailure(f"Σ softmax(x): expected 1, got {float(p.sum())}")


SUMS = Property(
    "toy.sums_to_one", "toy", ("softmax",), "Σ softmax(x) = 1", sums_to_one,
    lambda: st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=6).map(np.array),
)
def mask_is_square(target, n):
    shape = target.causal_mask(n).shape
    if shape != (n, n):
        raise PropertyFailure(f"causal_mask({n}): expected shape {(n, n)}, got {shape}")


MASK = Property("toy.mask_shape", "toy", ("causal_mask",), "causal_mask(n) is n × n", mask_is_square, lambda: st.integers(1, 5))


def naive_softmax(x, temperature=1.0, axis=-1):
    """No max subtraction: exp overflows for x > 709."""
    z = np.exp(x / temperature)
    return z / z.sum(axis=axis, keepdims=True)


def run(prop, functions, *, seed=1, profile="quick"):
    """The property on the functions, in this process (the runner does not care where they run)."""
    target = types.SimpleNamespace(**functions)
    guard = Guard()
    adapted = adapt(target, tuple(functions), guard=guard)
    return run_property(prop, adapted, PROFILES[profile], seed, f"reproduce {prop.name}", notes=guard.notes)


def test_a_property_that_holds_passes_after_exactly_the_profiles_examples():
    result = run(SUMS, {"softmax": impl.softmax})
    assert result.status == "passed" and result.failure is None
    assert result.examples == PROFILES["quick"].max_examples and result.seconds > 0


@pytest.mark.parametrize("user_mode, during_search", [("on", "first"), ("first", "first"), ("off", "off")])
def test_a_search_checks_the_references_first_call_of_each_shape_and_leaves_the_users_mode(user_mode, during_search):
    from gptspec.spec.check import checks, checks_mode

    seen = []

    def softmax(x, temperature=1.0, axis=-1):
        seen.append(checks_mode())
        return impl.softmax(x, temperature, axis)

    with checks(user_mode):
        assert run(SUMS, {"softmax": softmax}).status == "passed"
        assert checks_mode() == user_mode
    assert set(seen) == {during_search}


def test_in_first_mode_a_wrong_shape_reaching_the_reference_is_still_caught():
    from gptspec.spec import SpecError

    def pattern_of_a_buggy_target(target, n):
        impl.attention_pattern(np.zeros((2, n)), np.zeros((2, n)))  # a shape seen once
        impl.attention_pattern(np.zeros((2, n)), np.zeros((3, n)))  # d_head 2 vs 3: must raise
    prop = Property("toy.bad_shape", "toy", ("causal_mask",), "", pattern_of_a_buggy_target, lambda: st.integers(1, 3))
    result = run(prop, {"causal_mask": impl.causal_mask})
    assert result.status == "error" and "d_head" in result.failure.message, result.failure


def test_a_property_that_fails_reports_expected_vs_got_and_the_shrunk_counterexample():
    result = run(SUMS, {"softmax": naive_softmax}, profile="default")
    assert result.status == "failed"
    f = result.failure
    assert f.kind == "does not hold" and f.message == "Σ softmax(x): expected 1, got nan"
    assert f.counterexample == ["example: float64[1] [710.0]"]  # shrunk to the smallest overflow
    assert f.reproduce == "reproduce toy.sums_to_one"


def test_a_target_that_raises_is_an_error_naming_the_function_and_its_line():
    def softmax(x, temperature=1.0, axis=-1):
        raise IndexError("axis 3 is out of bounds")

    result = run(SUMS, {"softmax": softmax})
    assert result.status == "error"
    assert result.failure.kind == "raised" and result.failure.function == "softmax"
    assert result.failure.message.startswith("IndexError: axis 3 is out of bounds (test_runner.py line ")


def test_a_target_that_prints_passes_and_its_output_is_a_note():
    def softmax(x, temperature=1.0, axis=-1):
        print("shapes:", x.shape)
        return impl.softmax(x, temperature, axis)

    result = run(SUMS, {"softmax": softmax})
    assert result.status == "passed"
    assert result.notes and result.notes[0].startswith("softmax printed ")


def printing_softmax(x, temperature=1.0, axis=-1):
    print("debug")
    return impl.softmax(x, temperature, axis)


@pytest.mark.parametrize("jobs", [1, 2])
def test_output_over_the_whole_run_is_one_note_per_function(jobs):
    report = verify(types.SimpleNamespace(softmax=printing_softmax), profile="quick", seed=0, jobs=jobs,
                    only=["softmax.sums_to_one", "softmax.non_negative"])
    (note,) = report.notes
    chars = 6 * sum(r.examples for r in report.results)  # "debug\n" per call, one call per example
    assert note == f"softmax printed {chars:,} bytes (captured), first line: 'debug'"


def test_an_argument_tuple_is_described_by_the_spec_parameter_names():
    def never(target, args):
        raise PropertyFailure("no")

    prop = Property("toy.args", "toy", ("attention_pattern",), "never", never,
                    lambda: st.just((np.zeros((1, 2)), np.ones((1, 1)), True)))
    result = run(prop, {"attention_pattern": impl.attention_pattern})
    assert result.failure.counterexample == ["Q: float64[1 2] [[0.0, 0.0]]", "K: float64[1 1] [[1.0]]", "causal: True"]


def test_a_counterexample_with_a_whole_model_is_cut_to_the_first_tensors():
    from gptspec import Config

    weights = impl.random_weights(Config(5, 2, 1, 2, 3, 3, 4), 0)

    def never(target, w):
        raise PropertyFailure("no")

    prop = Property("toy.model", "toy", ("forward",), "never", never, lambda: st.just(weights))
    lines = run(prop, {"forward": impl.forward}).failure.counterexample
    assert len(lines) == 24 and lines[0].startswith("W_E: float32[2 5]")
    assert lines[-1] == "… and 18 more tensors"  # 5 model tensors + 3 layers × 12 = 41, 23 shown


def test_a_property_needing_a_missing_function_is_not_provided_not_failed():
    result = run(MASK, {"softmax": impl.softmax})
    assert result.status == "not provided" and result.examples == 0 and result.failure is None


def test_a_search_that_runs_out_of_inputs_says_it_tried_them_all():
    from rich.console import Console

    from gptspec.verification.report import Report, property_table

    def rendered(result):
        console = Console(width=200, record=True, file=open(os.devnull, "w"))
        console.print(property_table(Report("t", "columns", "numpy", "default", 0, ("causal_mask",), (), [result])))
        return console.export_text()

    small = run(MASK, {"causal_mask": impl.causal_mask}, profile="default")
    assert small.status == "passed" and small.examples == 5 and small.exhausted
    roomy = run(SUMS, {"softmax": impl.softmax})
    assert roomy.examples == PROFILES["quick"].max_examples and not roomy.exhausted
    failing = run(MASK, {"causal_mask": lambda n: impl.causal_mask(n)[:1]}, profile="default")
    assert failing.status == "failed" and not failing.exhausted
    assert "5 (all)" in rendered(small) and "(all)" not in rendered(roomy)


def test_profiles_fix_the_number_of_examples():
    assert [(p.name, p.max_examples) for p in PROFILES.values()] == [("quick", 25), ("default", 100), ("thorough", 500)]
    slow = Property("toy.slow", "toy", ("softmax",), "slow", lambda t, x: time.sleep(0.01), lambda: st.integers())
    assert run(slow, {"softmax": impl.softmax}).examples == PROFILES["quick"].max_examples  # no clock ends it


@pytest.mark.parametrize("tries", [3, 10_000])
def test_shrinking_stops_after_the_profiles_tries_with_the_smallest_failure_found_by_then(tries):
    def over_ten(target, xs):
        if sum(xs) > 10:
            raise PropertyFailure(f"sum {sum(xs)} > 10")

    prop = Property("toy.sum", "toy", ("softmax",), "Σ xs <= 10", over_ten,
                    lambda: st.lists(st.integers(0, 100), min_size=5, max_size=30))
    target = adapt(types.SimpleNamespace(softmax=impl.softmax), ("softmax",))
    result = run_property(prop, target, Profile("impatient", 100, max_shrinks=tries), 0, "reproduce")
    assert result.status == "failed" and result.failure.message.startswith("sum ")
    stopped = ["shrinking stopped after 3 tries: the smallest failing example found by then"]
    if tries == 3:
        assert result.notes == stopped and result.failure.message != "sum 11 > 10"
    else:  # shrunk to the end: the smallest sum over 10
        assert result.notes == [] and result.failure.message == "sum 11 > 10"


def test_the_same_seed_replays_the_same_search():
    a = run(SUMS, {"softmax": naive_softmax}, seed=7, profile="default")
    b = run(SUMS, {"softmax": naive_softmax}, seed=7, profile="default")
    assert (a.examples, a.failure.counterexample) == (b.examples, b.failure.counterexample)


CATALOGUE = [SUMS, MASK, Property("other.x", "other", ("embed", "softmax"), "x", lambda t, e: None, st.none)]


@pytest.mark.parametrize(
    "only, skip, chosen",
    [
        ((), (), ["toy.sums_to_one", "toy.mask_shape", "other.x"]),
        (("toy",), (), ["toy.sums_to_one", "toy.mask_shape"]),  # a family
        (("softmax",), (), ["toy.sums_to_one", "other.x"]),  # a function the property needs
        (("*.mask_*",), (), ["toy.mask_shape"]),  # a glob
        ((), ("toy.sums_to_one", "embed"), ["toy.mask_shape"]),
    ],
)
def test_select_by_property_family_function_or_glob(only, skip, chosen):
    assert [p.name for p in select(CATALOGUE, only, skip)] == chosen


def test_select_refuses_a_name_that_names_nothing():
    with pytest.raises(SelectionError, match=r"'toy.sum_to_one' names no property, family, tag or spec function \(families: other, toy"):
        select(CATALOGUE, ["toy.sum_to_one"])


class CtrlC(Silent):
    """Ctrl-C: SIGINT to this process (the verifier's own; a KeyboardInterrupt the target raises is
    the target's error) at the ``at``-th example shown here (one job) or the first result (jobs)."""

    def __init__(self, at: int = 3) -> None:
        self.at, self.seen = at, 0

    def _tick(self) -> None:
        self.seen += 1
        if self.seen == self.at:
            os.kill(os.getpid(), signal.SIGINT)

    def example(self, count: int) -> None:
        self._tick()

    def end(self, result) -> None:
        self.seen = self.at - 1
        self._tick()


def test_ctrl_c_on_workers_returns_the_partial_report():
    report = verify("gptspec.impl", profile="quick", seed=0, only=["softmax", "embed"], jobs=2, progress=CtrlC())
    statuses = [r.status for r in report.results]
    assert report.interrupted and report.exit_code == 130
    assert "interrupted" in statuses and "not run" in statuses
    assert set(statuses) <= {"passed", "not provided", "interrupted", "not run"}


def test_ctrl_c_returns_the_partial_report():
    target = types.SimpleNamespace(softmax=impl.softmax, embed=impl.embed, causal_mask=impl.causal_mask)
    report = verify(target, profile="quick", seed=0, only=["softmax", "embed"], jobs=1, progress=CtrlC(at=3))
    statuses = [r.status for r in report.results]
    i = statuses.index("interrupted")
    assert report.interrupted and report.exit_code == 130
    assert set(statuses[:i]) <= {"passed", "not provided"}
    after = report.results[i + 1 :]  # not searched; those needing what the target lacks say so
    provided = {"softmax", "embed", "causal_mask"}
    assert [r.status for r in after] == ["not run" if set(r.needs) <= provided else "not provided" for r in after]
    assert "not run" in statuses[i + 1 :]


def test_verify_runs_the_catalogue_on_a_module_and_builds_the_reproduce_command():
    report = verify(load("gptspec.impl"), profile="quick", seed=3, only=["softmax.sums_to_one"], layout="rows")
    (result,) = report.results
    assert report.ok and report.exit_code == 0 and result.status == "passed"
    assert report.provides[:3] == ("embed", "unembed", "softmax") and report.missing == ()
    failing = verify(types.SimpleNamespace(softmax=naive_softmax), profile="quick", seed=3, only=["softmax.sums_to_one"])
    assert failing.exit_code == 1
    assert failing.results[0].failure.reproduce == (
        "gptspec verify SimpleNamespace --profile quick --only softmax.sums_to_one --seed 3"
    )


@pytest.mark.parametrize("option, message", [
    (dict(profile="fast"), "unknown profile 'fast'; profiles: quick, default, thorough"),
    (dict(layout="diagonal"), "layout must be one of columns, rows, got 'diagonal'"),
    (dict(framework="mxnet"), "framework must be one of numpy, torch, jax, got 'mxnet'"),
    (dict(jobs=0), "jobs must be at least 1, got 0"),
])
def test_verify_refuses_an_unknown_option(option, message):
    with pytest.raises(OptionError, match=message):
        verify("gptspec.impl", **option)


def test_the_time_cap_leaves_properties_not_run_and_the_run_incomplete_never_passed():
    capped = verify("gptspec.impl", profile="quick", seed=0, only=["softmax"], max_seconds=0.0)
    assert {r.status for r in capped.results} == {"not run"}
    assert capped.incomplete and not capped.ok and capped.exit_code == 3
    roomy = verify("gptspec.impl", profile="quick", seed=0, only=["softmax.sums_to_one"], max_seconds=600)
    assert not roomy.incomplete and roomy.exit_code == 0


def test_a_local_function_cannot_go_to_its_own_process_and_the_error_says_what_to_do():
    def softmax(x, temperature=1.0, axis=-1):
        return impl.softmax(x, temperature, axis)

    with pytest.raises(TargetError, match="cannot be sent to a worker process .* define its functions at module level"):
        verify(types.SimpleNamespace(softmax=softmax), only=["softmax.sums_to_one"])


def test_contract_names_the_input_contract_checks_and_the_old_names_still_select_them():
    from gptspec.properties.catalogue import properties

    catalogue = properties()
    contract = {p.name for p in select(catalogue, only=["contract"])}
    assert contract == {"embedding.invalid_tokens_rejected", "temperature.invalid_rejected",
                        "temperature.sample_rejects_out_of_range"}
    assert not contract & {p.name for p in select(catalogue, skip=["contract"])}
    assert [p.name for p in select(catalogue, only=["temperature.invalid_rejected"])] == ["temperature.invalid_rejected"]
    assert {p.family for p in catalogue if p.contract} == {"embedding", "temperature"}  # families unchanged


def test_the_workers_get_the_longest_properties_first_and_the_report_keeps_the_catalogue_order():
    from gptspec.properties.catalogue import properties
    from gptspec.verification.session import LONGEST_FIRST, hand_out_order

    catalogue = properties()
    order = hand_out_order(catalogue)
    assert [p.name for p in order[: len(LONGEST_FIRST)]] == list(LONGEST_FIRST)
    assert sorted(p.name for p in order) == sorted(p.name for p in catalogue)
    rest = [p for p in order if p.name not in LONGEST_FIRST]
    assert rest == [p for p in catalogue if p.name not in LONGEST_FIRST]
    report = verify("gptspec.impl", profile="quick", seed=0, jobs=2,
                    only=["temperature.sample_greedy_at_zero", "softmax.sums_to_one", "temperature.sample_follows_softmax"])
    assert [r.name for r in report.results] == [p.name for p in catalogue if p.name in
                                                 {"temperature.sample_greedy_at_zero", "softmax.sums_to_one",
                                                  "temperature.sample_follows_softmax"}]
    assert report.exit_code == 0
