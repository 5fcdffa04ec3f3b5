"""The user's SIGINT (Ctrl-C) and SIGTERM at every phase of a run, with one job or two: the partial
report, exit 130 or 143, no traceback, no process left. Each run's target blocks at the phase
(tests/verification/targets/blocks.py) and the signal is sent once it has: nothing here depends
on timing."""

from __future__ import annotations

import re
import signal

import pytest

from .processes import TARGETS, finish, gptspec_verify, left_behind, token, wait_for

ONLY = {"load": "softmax.sums_to_one", "search": "softmax.sums_to_one", "shrink": "softmax.sums_to_one",
        "judge": "softmax.sums_to_one"}


def interrupted_run(tmp_path, phase, jobs, signum):
    mark, marker = token(), tmp_path / "marker"
    # with --jobs 2 a second property (embed, not provided) keeps the run on the workers
    only = ["--only", ONLY[phase]] + (["--only", "embed"] if jobs > 1 else [])
    with gptspec_verify(str(TARGETS / "blocks.py"), *only, "--seed", "1", "--timeout", "0", "--jobs", str(jobs),
                        env={"GPTSPEC_TEST_MARKER": str(marker), "GPTSPEC_TEST_PHASE": phase,
                             "GPTSPEC_TEST_TOKEN": mark}) as process:
        wait_for(marker, process)
        process.send_signal(signum)
        out, err = finish(process)
    return process.returncode, out, err, left_behind(mark)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("phase", ["load", "search", "shrink", "judge"])
def test_a_signal_at_any_phase_prints_the_partial_report_and_leaves_no_process(tmp_path, phase, jobs, signum):
    code, out, err, left = interrupted_run(tmp_path, phase, jobs, signum)
    assert code == 128 + signum, (out, err)
    assert "Traceback" not in err and "Traceback" not in out, err
    flat = re.sub(r"\s+", " ", out)
    assert re.search(r"(^| )interrupted \S*blocks\.py \(", flat), out
    status = "not run" if phase == "load" else "interrupted"
    assert re.search(rf"│ softmax\.sums_to_one +│ {status} +│", out), out
    assert left == [], "processes of the run are left"
