"""The boundary: only data crosses from a target's process (verification.wire), a target's
exceptions are its own, its output is bounded, and what happened is said (nondeterminism, memory).

Each hostile target lives in tests/verification/targets/ and would, on a verifier that unpickles
answers, run its payload here: create a file, fake a PASS, or exit the verifier with status 0.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import gptspec.impl
from gptspec.target import address
from gptspec.verification import OptionError, TargetProcess, verify
from gptspec.verification import wire
from gptspec.verification.isolation import AnswerRefused, Remote, Setup, TargetAborted

TARGETS = pathlib.Path(__file__).resolve().parent / "targets"
ACCEPTED = "gptspec accepts numeric and boolean arrays, numbers, strings and tuples/lists/dicts of them"


def cli(target, *options, env=None, timeout=300):
    """``gptspec verify`` on ``target`` as a user runs it: (exit status, stdout + stderr)."""
    done = subprocess.run([sys.executable, "-m", "gptspec", "verify", str(TARGETS / target), "--profile", "quick",
                           "--seed", "0", *options], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "200", **(env or {})})
    return done.returncode, done.stdout + done.stderr


# ---------------------------------------------------------------------------------------------
# the codec


ALLOWED = [None, True, False, 0, -7, 2**64 + 5, -(2**127), 1.5, -0.0, float("inf"), 1 + 2j, "", "héllo ☃",
           b"\x00\xff", (), [], {}, (1, [2.5, {"a": 3, 4: (5, None)}]), {"state": {"state": 2**127 + 1, "inc": 3}},
           np.float32(1.5), np.int64(-7), np.uint8(200), np.bool_(True), np.complex64(1j), np.float16(0.5)]
ARRAYS = [np.arange(6.0).reshape(2, 3), np.arange(6.0).reshape(2, 3).T, np.zeros((0, 3), np.int8), np.array(3.0),
          np.ones(4, ">f8"), np.ones(3, np.complex128), np.array([True, False]), np.arange(5, dtype=np.uint64),
          np.full((2, 2, 2), -1, np.int16), np.zeros(3, np.float16), np.ma.masked_array([1.0, 2.0])]


@pytest.mark.parametrize("value", ALLOWED, ids=repr)
def test_every_allowed_kind_of_value_round_trips_as_itself(value):
    back = wire.decode(wire.encode(value))
    assert back == value and type(back) is type(value)
    assert repr(back) == repr(value)  # -0.0 stays -0.0, a NumPy scalar keeps its dtype


@pytest.mark.parametrize("array", ARRAYS, ids=lambda a: f"{a.dtype}{list(a.shape)}")
def test_every_allowed_array_round_trips_with_its_dtype_shape_and_bits_and_is_writable(array):
    back = wire.decode(wire.encode(array))
    assert type(back) is np.ndarray and back.dtype == array.dtype and back.shape == array.shape
    assert back.tobytes() == np.ascontiguousarray(array).tobytes() and back.flags.writeable
    nan = wire.decode(wire.encode(np.array([np.nan, 1.0])))
    assert np.isnan(nan[0]) and nan[1] == 1.0


class Mine:
    pass


@pytest.mark.parametrize("value, what", [
    (np.array([object()]), "an ndarray of dtype object"),
    (np.zeros(2, "V4"), "an ndarray of dtype |V4"),
    (np.zeros(2, [("a", "<f8")]), "an ndarray of dtype [('a', '<f8')]"),
    (np.array(["2020-01-01"], "M8[D]"), "an ndarray of dtype datetime64[D]"),
    (np.array([1], "m8[s]"), "an ndarray of dtype timedelta64[s]"),
    (np.array(["text"]), "an ndarray of dtype <U4"),
    (np.longdouble(1), "a NumPy scalar of dtype float128"),
    ({1, 2}, "a set"),
    (Mine(), "a tests.verification.test_boundary.Mine"),
    (len, "a builtin_function_or_method"),
])
def test_every_refused_kind_is_refused_naming_what_it_is_and_where(value, what):
    with pytest.raises(wire.Refused) as refused:
        wire.encode((1.0, {"k": [value]}))
    assert refused.value.what == what and refused.value.at == "[1]['k'][0]"


def test_a_structure_nested_past_the_limit_or_looping_is_refused_not_a_recursion_error():
    deep: list = []
    for _ in range(wire.DEPTH + 1):
        deep = [deep]
    with pytest.raises(wire.Refused, match="nested more than"):
        wire.encode(deep)
    loop: list = []
    loop.append(loop)
    with pytest.raises(wire.Refused, match="nested more than"):
        wire.encode(loop)


@pytest.mark.parametrize("garbage", [
    b"", b"Z", b"i\x00", b"s\xff\xff\xff\xff", b"NN", b"a\x03<O8\x00", b"a\x03<f8\x01" + b"\xff" * 8,
    b"a\x03<f8\x01" + (10).to_bytes(8, "little") + b"\x00" * 8, b"d\x01\x00\x00\x00l\x00\x00\x00\x00N",
    b"t\xff\xff\xff\x7f", b"s\x02\x00\x00\x00\xff\xfe", b"g\x03<f8\x00", b"I\xff\xff\xff\xff",
    b"l" + b"\x01\x00\x00\x00l" * 100 + b"\x00\x00\x00\x00",
    b"\x80\x05\x95" + b"cos\nsystem\n",  # a pickle is no message
])
def test_bytes_that_are_no_message_are_a_clear_error_never_anything_else(garbage):
    with pytest.raises(wire.Garbled):
        wire.decode(garbage)


def test_random_bytes_are_garbled_or_data_never_an_exception_of_another_kind():
    rng = np.random.default_rng(0)
    good = wire.encode(("ok", np.arange(4.0), [{"s": 2**100}]))
    for _ in range(2000):
        data = bytearray(good)
        for i in rng.integers(0, len(data), 3):
            data[i] = int(rng.integers(256))
        try:
            wire.decode(bytes(data[: int(rng.integers(1, len(data) + 1))]))
        except wire.Garbled:
            pass


# ---------------------------------------------------------------------------------------------
# payloads: nothing of the target's runs here


@pytest.mark.parametrize("kind, what", [("file", "an ndarray of dtype object"),
                                        ("class", "a gptspec_target_payload.Payload")])
def test_a_payload_in_an_answer_never_runs_and_the_answer_is_an_error_naming_it(kind, what, tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    monkeypatch.setenv("GPTSPEC_MARKER", str(marker))
    monkeypatch.setenv("GPTSPEC_PAYLOAD", kind)
    report = verify(TARGETS / "payload.py", profile="quick", seed=0, only=["softmax.sums_to_one"], jobs=1)
    (result,) = report.results
    assert not marker.exists(), "the target's payload ran in gptspec's process"
    assert result.status == "error" and result.failure.kind == "answer refused"
    assert result.failure.function == "softmax"
    assert result.failure.message.startswith(f"softmax returned {what};")
    assert result.failure.message.endswith(ACCEPTED)
    assert report.exit_code == 1


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_payload_that_would_patch_the_runner_gets_no_pass(jobs, tmp_path):
    marker = tmp_path / "ran"
    code, out = cli("payload.py", "--only", "softmax", "--jobs", jobs,
                    env={"GPTSPEC_MARKER": str(marker), "GPTSPEC_PAYLOAD": "patch"})
    assert code == 1, out[-3000:]
    assert not marker.exists() and "PASS" not in out and "softmax returned an ndarray of dtype object" in out


def test_a_payload_that_would_exit_the_verifier_with_status_0_gets_a_verdict(tmp_path):
    code, out = cli("payload.py", "--only", "softmax.sums_to_one", "--jobs", "1", env={"GPTSPEC_PAYLOAD": "exit"})
    assert code == 1 and "FAIL" in out and "answer refused in softmax" in out, out[-3000:]


def test_a_result_of_the_wrong_kind_is_checked_here_after_decoding(tmp_path):
    target = tmp_path / "lists.py"  # which also turns the check off in its own process
    target.write_text("import gptspec.verification.adapters as adapters\n"
                      "adapters.check_result = adapters._check_result = lambda name, value, hint: value\n"
                      "def causal_mask(ctx):\n    return [[True]]\n"
                      "def sample(logits, temperature, rng):\n    return 0.5\n")
    with TargetProcess(Setup(address(target))) as process:
        remote = Remote(process)
        with pytest.raises(Exception, match="causal_mask returned list") as raised:
            remote.causal_mask(1)
        assert type(raised.value).__module__ == "gptspec.verification.adapters"  # raised here, not sent
        with pytest.raises(Exception, match="sample returned float"):
            remote.sample(np.zeros(2), 1.0, np.random.default_rng(0))


@pytest.mark.parametrize("how, message", [
    ("garbage", "softmax's process sent bytes that are no reply (an unknown tag b'Z' at byte 0)"),
    ("half", "softmax's process sent bytes that are no reply (a reply that stopped half-way for 1 s)"),
])
def test_a_target_writing_into_its_pipe_is_an_error_of_the_target_not_a_crash_or_hang(how, message, monkeypatch):
    monkeypatch.setenv("GPTSPEC_PIPE", how)
    with TargetProcess(Setup(address(TARGETS / "writes_its_pipe.py"), timeout=1.0)) as process:
        with pytest.raises(AnswerRefused) as refused:
            process.call("softmax", (np.arange(3.0),), {})
        assert str(refused.value).startswith(message)
        assert process.connection is None  # ended: the rest of what it wrote is never read as a reply
        with pytest.raises(AnswerRefused):  # the next call: a fresh process, which does the same
            process.call("softmax", (np.arange(3.0),), {})
        assert process.starts == 2


# ---------------------------------------------------------------------------------------------
# the target's exceptions are the target's


def test_a_base_exception_raised_by_the_target_is_an_error_of_the_property_not_an_interrupt():
    """KeyboardInterrupt was the user's Ctrl-C (exit 130); SystemExit and GeneratorExit were errors already."""
    for name in ("KeyboardInterrupt", "SystemExit", "GeneratorExit"):
        code, out = cli("raises_base.py", "--only", "softmax.sums_to_one", "--jobs", "1", env={"GPTSPEC_RAISE": name})
        assert code == 1, (name, out[-3000:])
        assert f"raised in softmax: {name}: the target's own (raises_base.py line" in out and "interrupted" not in out


def test_a_base_exception_is_no_rejection_of_invalid_input_and_crosses_as_target_aborted(monkeypatch):
    monkeypatch.setenv("GPTSPEC_RAISE", "SystemExit")
    with TargetProcess(Setup(address(TARGETS / "raises_base.py"))) as process:
        with pytest.raises(TargetAborted) as raised:
            process.call("softmax", (np.arange(3.0), 0.0), {})
        assert raised.value.gptspec_type == "SystemExit" and not isinstance(raised.value, Exception)
    report = verify(TARGETS / "raises_base.py", profile="quick", seed=0, only=["contract"], jobs=1)
    softmax = [r for r in report.results if r.status != "not provided"]
    assert softmax and {r.status for r in softmax} == {"error"}  # raising SystemExit is no refusal


def test_builtin_exceptions_are_rebuilt_by_name_others_are_target_raised_of_their_builtin_base(tmp_path):
    target = tmp_path / "raises.py"
    target.write_text("import numpy as np\n"
                      "class Mine(ValueError):\n"
                      "    def __reduce__(self):\n        return (exec, ('import os; os._exit(0)',))\n"
                      "def causal_mask(ctx):\n"
                      "    if ctx == 1: raise ZeroDivisionError('zero')\n"
                      "    if ctx == 2: raise np.exceptions.AxisError('axis 3 is out of bounds')\n"
                      "    raise Mine('mine')\n")
    with TargetProcess(Setup(address(target))) as process:
        raised = []
        for ctx in (1, 2, 3):
            with pytest.raises(Exception) as caught:
                process.call("causal_mask", (ctx,), {})
            raised.append(caught.value)
    zero, axis, mine = raised
    assert type(zero) is ZeroDivisionError and str(zero) == "zero"
    assert isinstance(axis, ValueError) and isinstance(axis, type(mine).__mro__[1])  # AxisError is a ValueError
    assert axis.gptspec_type == "AxisError" and mine.gptspec_type == "Mine" and str(mine) == "mine"
    assert type(mine).__name__ == "TargetRaised" and isinstance(mine, ValueError)


def test_judging_fragility_counts_a_target_fault_as_a_failure_there_not_a_crash_of_the_run():
    """The fragility judgement calls the target on moved examples: a KeyboardInterrupt (or a crash)
    there is where the property fails, never an exception out of the verifier."""
    from gptspec.properties.registry import get
    from gptspec.verification.fragility import _fails

    class Aborting:
        def softmax(self, *args):
            raise TargetAborted("only on big inputs")

    assert _fails(get("softmax.sums_to_one"), Aborting(), (np.arange(3.0), 0)) is True


def test_an_interrupted_wait_ends_the_target_process_so_no_later_request_reads_its_reply(monkeypatch):
    with TargetProcess(Setup(address("gptspec.impl"))) as process:
        first, second = np.array([0.0, 1.0]), np.array([5.0, 0.0, 1.0])
        receive = TargetProcess.receive

        def interrupted(self, timeout):
            monkeypatch.setattr(TargetProcess, "receive", receive)
            raise KeyboardInterrupt  # Ctrl-C arrives while the reply to `first` is on its way

        monkeypatch.setattr(TargetProcess, "receive", interrupted)
        with pytest.raises(KeyboardInterrupt):
            process.call("softmax", (first,), {})
        assert process.take_noise() == {}
        np.testing.assert_array_equal(process.call("softmax", (second,), {}), gptspec.impl.softmax(second))
        assert process.starts == 2


# ---------------------------------------------------------------------------------------------
# bounded output; say what happened


def test_100_mb_printed_per_call_is_counted_with_64_kib_kept_and_the_verdict_comes():
    code, out = cli("floods.py", "--only", "softmax.sums_to_one", "--jobs", "1")
    assert code == 0, out[-3000:]
    assert len(out) < 100_000  # the report, not the target's megabytes
    import re

    (printed,) = re.findall(r"softmax printed ([\d,]+) bytes \(captured; the first 64 KiB kept\)", out)
    calls = int(printed.replace(",", "")) // 104_857_600
    assert int(printed.replace(",", "")) == calls * 104_857_600 and calls >= 25  # one call per example at least


def test_what_a_function_prints_is_kept_up_to_64_kib_and_counted_in_bytes():
    from gptspec.verification.guard import KEEP, Guard

    guard = Guard()
    shout = guard("softmax", lambda: print("é" * 100_000))
    shout()
    shout()
    noise = guard.noise["softmax"]
    assert noise.printed == 2 * (2 * 100_000 + 1) and len(noise.kept.encode()) <= KEEP
    assert noise.kept == "é" * (KEEP // 2)
    assert noise.describe("softmax")[0] == ("softmax printed 400,002 bytes (captured; the first 64 KiB kept), "
                                            f"first line: '{'é' * 80}'")


def test_a_target_answering_the_same_input_differently_is_nondeterministic_with_both_answers():
    report = verify(TARGETS / "noisy.py", profile="quick", seed=0, only=["softmax.sums_to_one"], jobs=1)
    (result,) = report.results
    f = result.failure
    assert result.status == "error" and f.kind == "nondeterministic" and f.function == "softmax"
    assert f.message.startswith("softmax answered the same arguments differently: [")
    assert "then" in f.message and "FlakyFailure" not in f.message
    answers = [line for line in f.counterexample if line.startswith("answer ")]
    assert [a[:9] for a in answers] == ["answer 1:", "answer 2:"] and answers[0] != answers[1]
    assert f.counterexample[0].startswith("x: float")  # the input both answers came from
    steady = verify("gptspec.impl", profile="quick", seed=0, only=["softmax.sums_to_one"], jobs=1)
    assert steady.exit_code == 0  # the same property on a deterministic target


def test_a_memory_limit_makes_an_allocation_over_it_an_error_that_names_it_and_without_it_the_target_passes():
    code, out = cli("allocates.py", "--only", "softmax.sums_to_one", "--jobs", "1", "--memory-limit", "512MiB")
    assert code == 1 and "MemoryError" in out and "over the memory limit of 512 MiB" in out, out[-3000:]
    assert "--profile quick --memory-limit 512MiB" in out  # the reproduce command keeps it
    code, out = cli("allocates.py", "--only", "softmax.sums_to_one", "--jobs", "1")
    assert code == 0 and "memory limit" not in out, out[-3000:]


def test_a_target_that_cannot_load_under_the_memory_limit_is_told_the_limit():
    pytest.importorskip("torch")
    code, out = cli("torch_threads.py", "--only", "sample", "--memory-limit", "300MiB")
    assert code == 2 and out.rstrip().endswith("(under the memory limit of 300 MiB: --memory-limit)"), out[-3000:]


@pytest.mark.parametrize("size, limit", [("2GiB", 2 << 30), ("512MiB", 512 << 20), ("1.5GB", 1_500_000_000),
                                         ("4G", 4 << 30), (3 << 20, 3 << 20)])
def test_memory_sizes_are_read_as_written(size, limit):
    from gptspec.verification import Options

    assert Options(memory_limit=size).memory_limit == limit


@pytest.mark.parametrize("size", ["2 gigs", "-1GiB", "GiB", "12XB", "1KiB", ""])
def test_a_malformed_memory_size_is_an_option_error_saying_what_it_takes(size):
    from gptspec.verification import Options

    with pytest.raises(OptionError, match="^--memory-limit: a memory limit"):
        Options(memory_limit=size)
