"""Running ``gptspec verify`` as a process in tests, and finding the processes a run left behind."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import time
import uuid

TARGETS = pathlib.Path(__file__).parent / "targets"
GUARD = 120  # seconds: only a guard against a hang, never a measured time


def token() -> str:
    """A mark no other process carries (in its environment or argv)."""
    return f"gptspec-test-{uuid.uuid4().hex}"


def carrying(mark: str) -> list[int]:
    """The processes whose environment or command line holds ``mark``."""
    found = []
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        for part in ("environ", "cmdline"):
            try:
                if mark.encode() in pathlib.Path(f"/proc/{pid}/{part}").read_bytes():
                    found.append(int(pid))
                    break
            except OSError:
                pass
    return found


def left_behind(mark: str) -> list[int]:
    """The processes carrying ``mark`` once the ones already dying have gone (waited for, up to the guard)."""
    until = time.monotonic() + GUARD
    while carrying(mark) and time.monotonic() < until:
        time.sleep(0.05)
    return carrying(mark)


def gptspec_verify(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``gptspec verify ARGS`` started (stdout and stderr piped, a wide console)."""
    return subprocess.Popen([sys.executable, "-m", "gptspec", "verify", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                            env={**os.environ, "COLUMNS": "400", **(env or {})})


def finish(process: subprocess.Popen[str]) -> tuple[str, str]:
    """Its stdout and stderr once it has ended; killed (and the test failed) if it hangs past the guard."""
    try:
        return process.communicate(timeout=GUARD)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"no end within {GUARD} s: a hang\n{out}\n{err}") from None


def wait_for(path: pathlib.Path, process: subprocess.Popen[str]) -> None:
    """Until ``path`` exists (the target reached the phase), or the process ended (a failure)."""
    until = time.monotonic() + GUARD
    while not path.exists():
        assert process.poll() is None, process.communicate()
        if time.monotonic() > until:
            process.kill()
            raise AssertionError(f"the target never reached the phase: {process.communicate()}")
        time.sleep(0.02)
