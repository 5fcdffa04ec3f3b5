"""``gptspec verify`` as a process: Ctrl-C prints the report so far and exits 130."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time


def test_ctrl_c_prints_the_partial_report(tmp_path):
    target = tmp_path / "slow_softmax.py"
    started = tmp_path / "started"
    target.write_text(
        "import pathlib, time\nfrom gptspec import impl\n\n"
        "def softmax(x, temperature=1.0, axis=-1):\n"
        f"    pathlib.Path({str(started)!r}).touch()\n"
        "    time.sleep(0.05)\n"
        "    return impl.softmax(x, temperature, axis)\n"
    )
    with subprocess.Popen([sys.executable, "-m", "gptspec", "verify", str(target), "--seed", "1", "--only", "softmax"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env={**os.environ, "COLUMNS": "400"}) as process:
        deadline = time.monotonic() + 60
        while not started.exists() and time.monotonic() < deadline:  # wait for the search to start
            time.sleep(0.05)
        time.sleep(0.5)  # a few examples in
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert re.search(r"│ \S+ +│ interrupted +│", out) and re.search(r"│ not run +│", out)
    flat = re.sub(r"\s+", " ", out)  # rich wraps the summary line to the console width (long tmp paths)
    assert re.search(r"(^| )interrupted \S*slow_softmax\.py \(columns, numpy, profile default, seed 1\)", flat)
