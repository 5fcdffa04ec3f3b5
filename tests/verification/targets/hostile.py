"""A softmax that, on its first call, does what GPTSPEC_TEST_HOSTILE says to the run, then answers right.

- ``grandchildren``: starts a Popen and a forked child that calls setsid(), each a Python that
  sleeps with GPTSPEC_TEST_MARKER in its argv; the call returns once both have started.
- ``SIGSTOP`` / ``SIGKILL`` / ``SIGTERM``: sends it to its parent (``GPTSPEC_TEST_WHOM=grandparent``:
  its parent's parent, ``self``: itself); a stopped parent is waited for until it shows stopped in /proc.
- ``killpg``: ``os.killpg(0, SIGTERM)``.
- ``write``: writes GPTSPEC_TEST_MARKER to fd 1 of its parent and of every process /proc shows that
  carries GPTSPEC_TEST_TOKEN (the run's own: the verifier's, found by scanning).
The first call is the one no file GPTSPEC_TEST_MARKER + ".done" exists for.
"""

import os
import pathlib
import signal
import subprocess
import sys
import time

from gptspec import impl

SLEEPER = "import pathlib, sys, time; pathlib.Path(sys.argv[1]).touch(); time.sleep(1000)"


def _state(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def _wait_for(path):
    while not os.path.exists(path):
        time.sleep(0.01)


def _grandchildren(marker):
    subprocess.Popen([sys.executable, "-c", SLEEPER, marker + ".popen"])
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", SLEEPER, marker + ".setsid"])
        os._exit(0)
    _wait_for(marker + ".popen")
    _wait_for(marker + ".setsid")


def _signal(name):
    if name == "killpg":
        os.killpg(0, signal.SIGTERM)
        return
    whom = os.getppid()
    if os.environ.get("GPTSPEC_TEST_WHOM") == "grandparent":
        whom = int(_state(whom)[1])
    elif os.environ.get("GPTSPEC_TEST_WHOM") == "self":
        whom = os.getpid()
    os.kill(whom, getattr(signal, name))
    if name == "SIGSTOP" and whom != 1:  # pid 1 is the namespace's init: the kernel drops the signal
        while _state(whom)[0] not in "Tt":
            time.sleep(0.01)


def _of_this_run(pid, token):
    """Whether process ``pid`` carries the test's token: the scan must never write into a stranger's output."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return token in f.read()
    except OSError:
        return False


def _write(marker):
    data = (marker + "\n").encode() * 1000
    token = os.environ["GPTSPEC_TEST_TOKEN"].encode()
    pids = {str(os.getppid())} | {p for p in os.listdir("/proc") if p.isdigit() and _of_this_run(p, token)}
    for pid in pids:
        try:
            fd = os.open(f"/proc/{pid}/fd/1", os.O_WRONLY)
        except OSError:
            continue
        try:
            os.write(fd, data)
        except OSError:
            pass
        os.close(fd)


def softmax(x, temperature=1.0, axis=-1):
    marker = os.environ["GPTSPEC_TEST_MARKER"]
    done = pathlib.Path(marker + ".done")
    if not done.exists():
        done.touch()
        what = os.environ["GPTSPEC_TEST_HOSTILE"]
        if what == "grandchildren":
            _grandchildren(marker)
        elif what == "write":
            _write(marker)
        else:
            _signal(what)
    return impl.softmax(x, temperature, axis)
