"""A target cannot outlive, stop or write into the run (verification.boot): what it starts ends
with it; its signals to its parent are dropped (namespaces) or an error naming the signal (the
process-group fallback, GPTSPEC_NO_NAMESPACES=1); what it writes to the verifier's /proc fds
never reaches the verifier's stdout. The hostile target is tests/verification/targets/hostile.py."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest


from .processes import GUARD, TARGETS, finish, gptspec_verify, left_behind, token

FALLBACK = {"GPTSPEC_NO_NAMESPACES": "1"}
NAMESPACES, PROCESS_GROUP = "namespaces", "process group"  # the modes of gptspec.verification.boot


def _namespaces_work() -> bool:
    """Whether the kernel lets this user make user, PID and mount namespaces (util-linux's unshare)."""
    try:
        return subprocess.run(["unshare", "--user", "--pid", "--fork", "--mount-proc", "true"], check=False,
                              capture_output=True, timeout=GUARD).returncode == 0
    except OSError:
        return False


needs_namespaces = pytest.mark.skipif(not _namespaces_work(), reason="the kernel refuses user namespaces here")
MODES = [pytest.param({}, NAMESPACES, marks=needs_namespaces, id="namespaces"),
         pytest.param(FALLBACK, PROCESS_GROUP, id="process-group")]


def hostile_run(tmp_path, what, *args, env=None):
    mark = token()
    marker = str(tmp_path / mark)
    with gptspec_verify(str(TARGETS / "hostile.py"), "--only", "softmax", "--profile", "quick", "--seed", "1",
                        "--json", str(tmp_path / "report.json"), *args,
                        env={"GPTSPEC_TEST_HOSTILE": what, "GPTSPEC_TEST_MARKER": marker, "GPTSPEC_TEST_TOKEN": mark,
                             **(env or {})}) as process:
        out, err = finish(process)
    report = json.loads((tmp_path / "report.json").read_text()) if (tmp_path / "report.json").exists() else {}
    return process.returncode, out, err, report, marker, mark


@pytest.mark.parametrize(("env", "mode"), MODES)
def test_grandchildren_a_target_starts_are_gone_after_the_run(tmp_path, env, mode):
    code, out, err, report, marker, mark = hostile_run(tmp_path, "grandchildren", "--jobs", "1", env=env)
    assert code == 0, (out, err)
    assert (tmp_path / f"{mark}.popen").exists() and (tmp_path / f"{mark}.setsid").exists()  # they did run
    assert left_behind(mark) == []
    assert report["isolation"] == mode and f"isolation: {mode} (" in out


SIGNALS = [("SIGSTOP", "stopped by SIGSTOP"), ("SIGKILL", "killed by SIGKILL"), ("SIGTERM", "killed by SIGTERM")]


@needs_namespaces
@pytest.mark.parametrize("what", [name for name, _ in SIGNALS])
def test_a_signal_to_its_parent_is_dropped_in_namespaces(tmp_path, what):
    """Its parent is the namespace's init, which has no handler: the kernel drops the signal."""
    code, out, err, report, _, mark = hostile_run(tmp_path, what, "--jobs", "1")
    assert report["isolation"] == NAMESPACES
    assert code == 0 and re.search(r"PASS \S*hostile\.py", out), (out, err)  # its answers were right, nothing stopped
    assert left_behind(mark) == []


@pytest.mark.parametrize(("what", "how"), SIGNALS)
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_signal_to_its_parent_outside_namespaces_is_an_error_naming_the_signal(tmp_path, what, how, jobs):
    code, out, err, report, _, mark = hostile_run(tmp_path, what, "--jobs", jobs, env=FALLBACK)
    assert code == 1, (out, err)
    failed = [r for r in report["results"] if r["status"] == "error"]
    assert len(failed) == 1 and how in failed[0]["failure"]["message"], failed
    assert re.search(r"FAIL \S*hostile\.py", out) and report["isolation"] == PROCESS_GROUP
    assert left_behind(mark) == []


@pytest.mark.parametrize(("what", "how"), SIGNALS[:2])
def test_a_killed_or_stopped_worker_says_why(tmp_path, what, how):
    """Outside namespaces a target can find its worker (its parent's parent): the worker lost is
    an error of the property it ran, naming the signal; the other properties run on."""
    code, out, err, report, _, mark = hostile_run(tmp_path, what, "--jobs", "2",
                                                  env={**FALLBACK, "GPTSPEC_TEST_WHOM": "grandparent"})
    assert code == 1, (out, err)
    failed = [r for r in report["results"] if r["status"] == "error"]
    assert len(failed) == 1 and re.match(rf"worker \d, which ran it, {how}", failed[0]["failure"]["message"]), failed
    assert all(r["status"] == "passed" for r in report["results"] if r not in failed)
    assert left_behind(mark) == []


@pytest.mark.parametrize(("env", "mode"), MODES)
def test_a_target_that_stops_itself_is_an_error_naming_the_signal_even_with_no_time_limit(tmp_path, env, mode):
    code, out, err, report, _, mark = hostile_run(tmp_path, "SIGSTOP", "--jobs", "1", "--timeout", "0",
                                                  env={**env, "GPTSPEC_TEST_WHOM": "self"})
    assert code == 1, (out, err)
    failed = [r for r in report["results"] if r["status"] == "error"]
    assert len(failed) == 1 and "stopped by SIGSTOP" in failed[0]["failure"]["message"], failed
    assert left_behind(mark) == []


@pytest.mark.parametrize(("env", "mode"), MODES)
def test_killpg_of_its_own_group_reaches_only_the_target(tmp_path, env, mode):
    code, out, err, report, _, mark = hostile_run(tmp_path, "killpg", "--jobs", "1", env=env)
    assert code == 1, (out, err)
    failed = [r for r in report["results"] if r["status"] == "error"]
    assert len(failed) == 1 and "killed by SIGTERM" in failed[0]["failure"]["message"]
    assert left_behind(mark) == []


@needs_namespaces
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_what_a_target_writes_to_the_fds_in_proc_never_reaches_the_verifiers_stdout(tmp_path, jobs):
    code, out, err, report, marker, mark = hostile_run(tmp_path, "write", "--jobs", jobs)
    assert code == 0, (out, err)
    assert marker not in out and marker not in err
    assert report["isolation"] == NAMESPACES


API = """\
import gptspec
report = gptspec.verify("gptspec.impl", only=["softmax.sums_to_one", "shapes.causal_mask"], profile="quick", seed=0,
                        jobs=2)
print("exit", report.exit_code, [r.status for r in report.results])
"""


@pytest.mark.parametrize("how", ["script", "-c", "stdin"])
def test_verify_works_from_any_main_module(tmp_path, how):
    """No __main__ guard: gptspec's processes never re-run the user's main module (spawn did)."""
    script = tmp_path / "no_guard.py"
    script.write_text(API)
    argv = {"script": [str(script)], "-c": ["-c", API], "stdin": ["-"]}[how]
    done = subprocess.run([sys.executable, *argv], input=API if how == "stdin" else None, capture_output=True,
                          text=True, timeout=GUARD, cwd=tmp_path)
    assert done.returncode == 0 and "exit 0 ['passed', 'passed']" in done.stdout, done.stderr


def test_a_target_object_from_main_is_refused_with_a_clear_error(tmp_path):
    """Its functions live only in the user's main module, which no target process runs."""
    script = tmp_path / "main_object.py"
    script.write_text("import types, gptspec\nfrom gptspec import impl\n\n"
                      "def softmax(x, temperature=1.0, axis=-1):\n    return impl.softmax(x, temperature, axis)\n\n"
                      "try:\n    gptspec.verify(types.SimpleNamespace(softmax=softmax), only=['softmax'], jobs=1)\n"
                      "except gptspec.target.TargetError as exc:\n    print('refused:', exc)\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=GUARD)
    assert done.returncode == 0 and "refused: softmax is defined in __main__" in done.stdout, done.stderr
