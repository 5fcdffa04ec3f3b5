"""The batch family: batch entries and heads of a batched attention do not interact.

    out[b, h] = softmax(query[b, h] · key[b, h]ᵀ / √D + mask) · value[b, h]

depends on entry b and head h alone. So a batch of B is B calls of one (each with batch 1), and
H heads are H calls of one head: no cross-talk through a wrong reshape, a broadcast meant for a
batch of one, a normalisation over the wrong axis. Every convention whose signature takes a batch
axis provides ``batched_attention(query, key, value, causal)`` (NumPy, ``[batch heads L D]`` in,
``[batch heads L Dv]`` out; :mod:`gptspec.verification.conventions`); for every other target
these properties are "not provided". Two calls of different sizes may round differently, so
they are compared within :func:`.tolerance.batched_tolerance`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import expect
from .registry import prop
from .strategies import Batched, batched_inputs
from .tolerance import batched_tolerance

NEEDS = ("batched_attention",)


def attend(impl: Any, b: Batched, what: str) -> np.ndarray:
    want = (*b.query.shape[:-1], b.value.shape[-1])
    return expect.shape(f"batched_attention({what}, causal={b.causal})",
                        impl.batched_attention(*b.args, b.causal), want)


@prop("batch.entries_independent", needs=NEEDS,
      statement="a batch of B equals B calls of one: out[b] = batched_attention(query[b:b+1], key[b:b+1], ...)[0]",
      strategy=lambda: batched_inputs(min_batch=2, causal=None))
def entries_independent(impl: Any, b: Batched) -> None:
    whole = attend(impl, b, f"a batch of {b.query.shape[0]}")
    alone = np.concatenate([attend(impl, b.select(batch=i), f"entry {i} alone") for i in range(b.query.shape[0])])
    expect.close(f"batched_attention on a batch of {b.query.shape[0]} ({b.query.shape[1]} heads)", whole, alone,
                 batched_tolerance(*b.args), note="compared with each batch entry called alone")


@prop("batch.heads_independent", needs=NEEDS,
      statement="H heads equal H calls of one head: out[:, h] = batched_attention(query[:, h:h+1], ...)[:, 0]",
      strategy=lambda: batched_inputs(min_heads=2, causal=None))
def heads_independent(impl: Any, b: Batched) -> None:
    whole = attend(impl, b, f"{b.query.shape[1]} heads")
    alone = np.concatenate([attend(impl, b.select(head=h), f"head {h} alone") for h in range(b.query.shape[1])], axis=1)
    expect.close(f"batched_attention with {b.query.shape[1]} heads (batch {b.query.shape[0]})", whole, alone,
                 batched_tolerance(*b.args), note="compared with each head called alone")
