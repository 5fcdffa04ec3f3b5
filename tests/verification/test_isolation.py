"""The target's own process: nothing a target does ends the run, hangs it past --timeout, fakes a
pass or changes the verifier; each crash is an error naming what happened and on which example."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import time

import numpy as np
import pytest

import gptspec.impl
from gptspec.verification import CallTimeout, Remote, TargetCrashed, TargetProcess, verify
from gptspec.verification.isolation import Setup
from gptspec.target import address

TARGETS = pathlib.Path(__file__).resolve().parent / "targets"


def only_sums(target, **options):
    return verify(TARGETS / target, profile="quick", seed=0, only=["softmax.sums_to_one"], **options)


@pytest.mark.parametrize("target, how", [("exits.py", "exited with status 0"), ("segfaults.py", "killed by SIGSEGV")])
def test_a_target_that_exits_or_dies_is_an_error_saying_how_and_the_run_goes_on(target, how):
    report = verify(TARGETS / target, profile="quick", seed=0, only=["softmax.sums_to_one", "softmax.non_negative"])
    assert [r.status for r in report.results] == ["error", "error"]  # the second property got a fresh process
    for result in report.results:
        f = result.failure
        assert (f.kind, f.function, f.message) == ("crashed", "softmax", how)
        assert f.counterexample and f.counterexample[0].startswith("x: float")  # the example it happened on
        assert f.heading.startswith("the example it crashed on")
    assert report.exit_code == 1


@pytest.mark.parametrize("target", ["long_c_call.py", "sleeps.py"])
def test_a_hang_in_python_or_in_one_c_call_is_killed_on_time(target):
    started = time.monotonic()
    report = only_sums(target, timeout=1.0)
    took = time.monotonic() - started
    (result,) = report.results
    assert result.status == "error" and result.failure.kind == "timed out"
    assert result.failure.message == "no answer in 1 s: killed" and result.failure.function == "softmax"
    assert result.failure.heading.startswith("the example it hung on")
    assert took < 30  # the C call alone runs for minutes


def test_a_target_that_replaces_the_reference_changes_only_its_own_process():
    reference = gptspec.impl.softmax
    report = verify(TARGETS / "fakes_the_reference.py", profile="quick", seed=0, only=["agreement.softmax"])
    (result,) = report.results
    assert result.status == "failed", "the agreement must be with gptspec's reference, not the target's fake"
    assert gptspec.impl.softmax is reference


def test_a_target_that_sets_numpy_to_raise_is_not_a_false_alarm_and_leaves_our_numpy_alone():
    before = np.geterr()
    report = verify(TARGETS / "raises_on_float_errors.py", profile="quick", seed=0, only=["softmax", "temperature"])
    assert report.exit_code == 0, [(r.name, r.failure) for r in report.failures()]
    assert np.geterr() == before


def test_megabytes_of_output_are_captured_and_noted_not_printed():
    done = subprocess.run([sys.executable, "-m", "gptspec", "verify", str(TARGETS / "prints_megabytes.py"),
                           "--profile", "quick", "--seed", "0", "--only", "softmax.sums_to_one"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(done.stdout) + len(done.stderr) < 20_000  # the report, not the target's megabytes
    assert "softmax printed " in done.stdout and "bytes (captured" in done.stdout


def test_a_process_is_replaced_after_a_crash_and_the_import_is_paid_once_per_process():
    process = TargetProcess(Setup(address(TARGETS / "segfaults.py"), timeout=5.0))
    with process:
        assert process.starts == 1
        for expected_starts in (1, 2):
            with pytest.raises(TargetCrashed, match="killed by SIGSEGV"):
                process.call("softmax", (np.zeros(2),), {})
            assert process.starts == expected_starts
            process.start()
    healthy = TargetProcess(Setup(address("gptspec.impl"), timeout=5.0))
    with healthy:
        for _ in range(20):
            healthy.call("softmax", (np.arange(3.0),), {})
        assert healthy.starts == 1


def test_a_generator_argument_advances_as_it_did_in_the_target():
    with TargetProcess(Setup(address("gptspec.impl"))) as process:
        rng, twin = np.random.default_rng(5), np.random.default_rng(5)
        logits = np.zeros(1000)
        draws = [process.call("sample", (logits, 1.0, rng), {}) for _ in range(5)]
        assert draws == [gptspec.impl.sample(logits, 1.0, twin) for _ in range(5)]
        assert rng.random() == twin.random()
        batch = Remote(process).repeat("sample", 50, logits, 1.0, rng)  # one request, the same draws as a loop
        assert batch == [gptspec.impl.sample(logits, 1.0, twin) for _ in range(50)]
        assert rng.random() == twin.random()


def test_a_timeout_is_a_base_exception_so_no_property_counts_it_as_a_rejection():
    assert not issubclass(CallTimeout, Exception) and not issubclass(TargetCrashed, Exception)


def busy_loop():
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def verdict(report):
    return [(r.name, r.status, r.examples, r.failure and r.failure.counterexample) for r in report.results]


def test_a_seed_gives_the_same_verdict_on_a_busy_machine_and_for_any_number_of_jobs(tmp_path):
    target = pathlib.Path(__file__).resolve().parents[2] / "examples" / "bug_softmax_wrong_axis.py"
    run = dict(layout="rows", profile="quick", seed=11,
               only=["causality.masked_entries_zero", "causality.columns_sum_to_one", "agreement.attention_pattern"])
    idle = verify(target, jobs=1, **run)
    assert {r.status for r in idle.results} >= {"passed", "failed"}  # a verdict with both in it
    hogs = [busy_loop(), busy_loop()]
    try:
        busy = verify(target, jobs=2, **run)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert verdict(busy) == verdict(idle)
    idle.write_json(tmp_path / "idle.json")
    busy.write_json(tmp_path / "busy.json")
    statuses = [[(r["name"], r["status"], r["examples"]) for r in json.loads((tmp_path / f).read_text())["results"]]
                for f in ("idle.json", "busy.json")]
    assert statuses[0] == statuses[1]


def test_a_torch_target_computes_on_one_thread():
    """Tiny examples on torch's pool of every core, in one target process per worker, oversubscribed the cores."""
    pytest.importorskip("torch")
    with TargetProcess(Setup(address(TARGETS / "torch_threads.py"))) as process:
        assert process.call("sample", (np.zeros(2), 1.0, np.random.default_rng(0)), {}) == 1


def test_with_jobs_the_verifier_starts_no_target_process_of_its_own_and_a_load_error_comes_back_as_itself(monkeypatch):
    """The workers load the target side by side; the first one's report is the run's (a target
    process here would pay the target's import, torch's seconds, once more for nothing)."""
    from gptspec.target import TargetError
    from gptspec.verification import session

    def refused(*args, **kwargs):
        raise AssertionError("a target process started in the verifier's process")

    monkeypatch.setattr(session, "TargetProcess", refused)
    report = verify("gptspec.impl", profile="quick", seed=0, only=["softmax.sums_to_one", "embed"], jobs=2)
    assert report.exit_code == 0 and report.provides[:3] == ("embed", "unembed", "softmax")
    assert {r.status for r in report.results} == {"passed"} and len(report.results) >= 2
    with pytest.raises(TargetError, match="^no module named .no_such_module_for_gptspec.: give an importable module name"):
        verify("no_such_module_for_gptspec", profile="quick", seed=0, only=["softmax", "embed"], jobs=2)


def test_calls_in_one_request_are_the_loop_of_calls_up_to_the_first_that_raises_crashes_or_hangs(tmp_path):
    from gptspec.properties.common import calls
    from gptspec.verification.isolation import Returned

    target = tmp_path / "mixed.py"
    target.write_text(
        "import ctypes, time\nimport numpy as np\nfrom gptspec.impl import softmax\n"
        "def embed(tokens, W_E):\n"
        "    W_E *= 0  # writes into its argument: the next call must not see it\n"
        "    if tokens[0] == 9: return ctypes.string_at(0)\n"
        "    if tokens[0] == 8:\n        while True: time.sleep(1)\n"
        "    return W_E[:, tokens] + 1\n")
    x, W = np.arange(3.0), np.ones((2, 3))
    with TargetProcess(Setup(address(target), timeout=1.0)) as process:
        remote = Remote(process)
        ok = remote.calls([("softmax", (x,)), ("embed", (np.array([0]), W)), ("embed", (np.array([1]), W))])
        assert [type(o) for o in ok] == [Returned] * 3
        np.testing.assert_array_equal(ok[0].value, gptspec.impl.softmax(x))
        np.testing.assert_array_equal(ok[2].value, np.ones((2, 1)))  # its own copy of W, all ones
        raised = remote.calls([("softmax", (x,)), ("softmax", (x, 0.0)), ("embed", (np.array([9]), W))])
        assert len(raised) == 2 and isinstance(raised[1], ValueError)  # the crashing call was never made
        assert raised[1].gptspec_function == "softmax" and process.starts == 1
        crashed = remote.calls([("softmax", (x,)), ("embed", (np.array([9]), W)), ("softmax", (x,))])
        assert isinstance(crashed[0], Returned) and len(crashed) == 2
        assert isinstance(crashed[1], TargetCrashed) and str(crashed[1]) == "killed by SIGSEGV"
        hung = remote.calls([("softmax", (x,)), ("embed", (np.array([8]), W))])  # in the process started after the crash
        assert isinstance(hung[0], Returned) and isinstance(hung[1], CallTimeout) and hung[1].gptspec_function == "embed"
        assert str(hung[1]) == "no answer in 1 s: killed" and process.starts == 2
        made = calls(remote, ("softmax", (x,)), ("softmax", (x, 0.0)))  # as a property reads them: in order
        np.testing.assert_array_equal(made[0], gptspec.impl.softmax(x))
        with pytest.raises(ValueError):
            made[1]
    local = calls(gptspec.impl, ("softmax", (x,)), ("softmax", (x, 0.0)))  # in this process: made when read
    np.testing.assert_array_equal(local[0], gptspec.impl.softmax(x))
    with pytest.raises(ValueError):
        local[1]


def test_a_repeated_call_is_guarded_once_for_the_batch_and_notes_the_same_noise_as_the_loop(tmp_path):
    target = tmp_path / "noisy_sample.py"
    target.write_text(
        "import warnings\n"
        "def sample(logits, temperature, rng):\n"
        "    print('drew', 0)\n"
        "    warnings.warn('careful', UserWarning)\n"
        "    if temperature == 2.0: raise ValueError('too hot')\n"
        "    return int(rng.integers(len(logits)))\n")
    logits = np.zeros(3)
    with TargetProcess(Setup(address(target))) as process:
        remote = Remote(process)
        rng = np.random.default_rng(1)
        looped = [remote.sample(logits, 1.0, rng) for _ in range(40)]
        loop_noise = process.take_noise()
        assert remote.repeat("sample", 40, logits, 1.0, np.random.default_rng(1)) == looped
        assert process.take_noise() == loop_noise
        assert [str(n) for n in loop_noise["sample"].describe("sample")] == [
            "sample printed 280 bytes (captured), first line: 'drew 0'", "sample warned 40×: UserWarning: careful"]
        with pytest.raises(ValueError, match="too hot") as raised:
            remote.repeat("sample", 5, logits, 2.0, rng)
        assert raised.value.gptspec_function == "sample"


@pytest.mark.parametrize("framework", ["numpy", "torch"])
def test_a_repeated_call_gives_each_call_its_own_arguments_as_the_loop_does(tmp_path, framework):
    """A sample that divides its logits in place (``logits /= T``) is correct call by call: the
    batch must not hand the next call what the last one left."""
    if framework == "torch":
        pytest.importorskip("torch")
    target = tmp_path / f"in_place_{framework}.py"
    target.write_text(
        ("import torch\n" if framework == "torch" else "")
        + "def sample(logits, temperature, rng):\n"
        "    logits /= temperature\n"
        "    return int(logits.argmax()) if float(logits.max()) > 1 else -1\n")
    logits = np.array([0.0, 1.5, 0.5])
    with TargetProcess(Setup(address(target), framework=framework)) as process:
        remote = Remote(process)
        looped = [remote.sample(logits, 1.2, np.random.default_rng(0)) for _ in range(3)]
        assert looped == [1, 1, 1]
        assert remote.repeat("sample", 3, logits, 1.2, np.random.default_rng(0)) == looped
    np.testing.assert_array_equal(logits, [0.0, 1.5, 0.5])


def test_generators_in_a_batch_advance_as_in_the_loop_whether_each_call_has_its_own_or_they_share_one():
    logits = np.zeros(1000)
    with TargetProcess(Setup(address("gptspec.impl"))) as process:
        remote = Remote(process)
        own = [np.random.default_rng(k) for k in range(4)]
        made = remote.calls([("sample", (logits, 1.0, rng)) for rng in own])
        twins = [np.random.default_rng(k) for k in range(4)]
        assert [o.value for o in made] == [gptspec.impl.sample(logits, 1.0, t) for t in twins]
        assert [rng.random() for rng in own] == [t.random() for t in twins]
        shared, twin = np.random.default_rng(7), np.random.default_rng(7)
        made = remote.calls([("sample", (logits, 1.0, shared)) for _ in range(4)])
        assert [o.value for o in made] == [gptspec.impl.sample(logits, 1.0, twin) for _ in range(4)]
        assert shared.random() == twin.random()


def test_children_are_asked_to_stop_together_then_joined_and_a_target_process_leaves_at_once():
    from gptspec.verification.child import Child, close_all

    events = []

    class Process:
        def __init__(self, name):
            self.name = name

        def join(self, timeout):
            events.append(("join", self.name))

    children = []
    for name in ("a", "b"):
        child = Child(print, (), name)
        child._process, child._conn = Process(name), object()
        child._ask_to_stop = lambda name=name: events.append(("ask", name))
        child.end = lambda name=name: events.append(("end", name))
        children.append(child)
    close_all(children)
    assert events == [("ask", "a"), ("ask", "b"), ("join", "a"), ("end", "a"), ("join", "b"), ("end", "b")]
    with TargetProcess(Setup(address("gptspec.impl"))) as process:
        Remote(process).causal_mask(2)
        real = process._process
    assert real.exitcode == 0  # stopped by asking (os._exit(0)), not killed
