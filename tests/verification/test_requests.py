"""gptspec's requests to its children (verification.child.send_request / receive_request): large
arrays travel beside the pickle, small ones inside it, and either way each arrives equal, with its
dtype, shape and memory order (a strided one contiguous, as pickle makes it), on writable memory of its own — a target may write into its input,
as it could into a pickled copy."""

from __future__ import annotations

import multiprocessing.connection
import socket
import threading
from typing import Any

import numpy as np
import pytest

from gptspec import impl
from gptspec.target import address
from gptspec.verification.child import OUT_OF_BAND, receive_request, send_request
from gptspec.verification.isolation import Setup, TargetProcess

RNG = np.random.default_rng(0)
BIG = int(np.sqrt(OUT_OF_BAND / 8)) + 8
"""A side of a square float64 array above the out-of-band threshold."""

ARRAYS = {
    "small": RNG.standard_normal((4, 5)),
    "big": RNG.standard_normal((BIG, BIG)),
    "big Fortran-ordered": np.asfortranarray(RNG.standard_normal((BIG, BIG + 1))),
    "big strided (not contiguous)": RNG.standard_normal((BIG, 2 * BIG))[:, ::2],
    "big float32": RNG.standard_normal((BIG, 2 * BIG)).astype(np.float32),
    "empty": np.zeros((0, 5)),
    "big int64": np.arange(3 * OUT_OF_BAND),
}


def round_trip(message: Any) -> Any:
    ours, theirs = socket.socketpair()
    sender = multiprocessing.connection.Connection(ours.detach())
    receiver = multiprocessing.connection.Connection(theirs.detach())
    with sender, receiver:
        thread = threading.Thread(target=send_request, args=(sender, message))  # a big one fills the socket
        thread.start()
        try:
            return receive_request(receiver)
        finally:
            thread.join()


@pytest.mark.parametrize("kind", sorted(ARRAYS))
def test_an_array_arrives_equal_in_its_order_and_writable(kind: str) -> None:
    sent = ARRAYS[kind]
    (_, got, (alone,), named) = round_trip(("call", sent, (sent.copy(order="K"),), {"a": sent}))
    for array in (got, alone, named["a"]):
        assert array.dtype == sent.dtype and array.shape == sent.shape
        np.testing.assert_array_equal(array, sent)
        order = sent.flags.f_contiguous, sent.flags.c_contiguous or not sent.flags.f_contiguous  # strided: as pickle, C
        assert (array.flags.f_contiguous, array.flags.c_contiguous) == order
        assert array.flags.writeable
    if got.size:
        got.flat[0] += 1.0
        assert got.flat[0] != sent.flat[0]  # its own memory: the sender's array is untouched


def test_other_values_and_a_generator_keep_their_state() -> None:
    generator = np.random.default_rng(7)
    generator.random(3)
    (_, text, number, arrived) = round_trip(("call", "softmax", 2.5, generator))
    assert (text, number) == ("softmax", 2.5)
    assert arrived.random() == generator.random()


def test_a_gpt2_sized_call_in_the_targets_process_answers_as_here() -> None:
    args = (RNG.standard_normal((768, 64)).astype(np.float32),)
    with TargetProcess(Setup(address("gptspec.impl"), timeout=None)) as process:
        np.testing.assert_array_equal(process.call("softmax", args, {}), impl.softmax(*args))
        fortran = (np.asfortranarray(args[0]),)
        np.testing.assert_array_equal(process.call("softmax", fortran, {}), impl.softmax(*fortran))
