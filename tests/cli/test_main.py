import subprocess
import sys


def test_a_reader_that_leaves_early_gets_no_traceback():
    process = subprocess.Popen([sys.executable, "-m", "gptspec", "explain"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # like `gptspec explain | head -0`: every write meets a closed pipe
    err = process.stderr.read().decode()
    process.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipeError" not in err
    assert process.returncode == 1


def test_python_dash_m_is_the_command():
    out = subprocess.run([sys.executable, "-m", "gptspec", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for command in ("explain", "check", "verify", "plot"):
        assert command in out.stdout
