"""``gptspec verify`` as a process: Ctrl-C prints the report so far and exits 130."""

from __future__ import annotations

import re
import signal

from .processes import TARGETS, finish, gptspec_verify, left_behind, token, wait_for


def test_ctrl_c_prints_the_partial_report(tmp_path):
    """The target blocks in its first call once it has touched the marker, and the signal comes
    only then: the run cannot have ended before it (it once did, under load: exit 0)."""
    mark, started = token(), tmp_path / "started"
    with gptspec_verify(str(TARGETS / "blocks.py"), "--seed", "1", "--only", "softmax", "--timeout", "0",
                        env={"GPTSPEC_TEST_MARKER": str(started), "GPTSPEC_TEST_PHASE": "search",
                             "GPTSPEC_TEST_TOKEN": mark}) as process:
        wait_for(started, process)
        process.send_signal(signal.SIGINT)
        out, err = finish(process)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert re.search(r"│ \S+ +│ interrupted +│", out) and re.search(r"│ not run +│", out)
    flat = re.sub(r"\s+", " ", out)  # rich wraps the summary line to the console width (long tmp paths)
    assert re.search(r"(^| )interrupted \S*blocks\.py \(columns, numpy, profile default, seed 1\)", flat)
    assert left_behind(mark) == []
