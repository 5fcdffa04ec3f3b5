"""The batch family: batch entries and heads of a batched attention do not interact.

    out[b, h] = softmax(query[b, h] · key[b, h]ᵀ / √D + mask) · value[b, h]

depends on entry b and head h alone. So a batch of B is B calls of one (each with batch 1), and
H heads are H calls of one head: no cross-talk through a wrong reshape, a broadcast meant for a
batch of one, a normalisation over the wrong axis. Every convention whose signature takes a batch
axis provides ``batched_attention(query, key, value, causal)`` (NumPy, ``[batch heads L D]`` in,
``[batch heads L Dv]`` out; :mod:`gptspec.verification.conventions`); for every other target
these properties are "not provided". Two calls of different sizes may round differently, so
they are compared within :func:`.tolerance.batched_tolerance`.

The module conventions (an ``nn.Module`` called on ``x [batch ctx d_model]``) provide
``batched_multi_head_attention(E [batch d_model ctx], W_Q, W_K, W_V_down, W_O, causal)``, the module
called once on the whole batch; ``batch.mha_entries_independent`` states the same of it:

    ΔE[b] = batched_multi_head_attention(E[b:b+1], W_Q, W_K, W_V_down, W_O)[0]   for every b,

within the sum over heads of each head's tolerance (:func:`.head_concat.heads_tolerance`, the
largest over the entries).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from hypothesis import strategies as st

from . import domain, expect
from .head_concat import heads_tolerance
from .registry import prop
from .strategies import Batched, MultiHead, arrays, batched_inputs, multi_heads
from .tolerance import batched_tolerance

NEEDS = ("batched_attention",)
MHA_NEEDS = ("batched_multi_head_attention",)


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


@dataclasses.dataclass(frozen=True)
class BatchedHeads:
    """A batch of embeddings ``E [batch d_model ctx]`` and one set of multi-head weights; causal."""

    E: np.ndarray
    W_Q: np.ndarray
    W_K: np.ndarray
    W_V_down: np.ndarray
    W_O: np.ndarray
    causal: bool
    magnitude: float

    @property
    def weights(self) -> tuple[np.ndarray, ...]:
        return (self.W_Q, self.W_K, self.W_V_down, self.W_O)

    def entry(self, b: int) -> MultiHead:
        """Entry b alone, as the spec's multi-head inputs."""
        return MultiHead(self.E[b], self.W_Q, self.W_K, self.W_V_down, self.W_O, self.magnitude)

    def __repr__(self) -> str:
        n_heads, d_head, d_model = self.W_Q.shape
        return (f"BatchedHeads(E {self.E.shape} [batch d_model ctx], {n_heads} heads of d_head {d_head}, "
                f"d_model {d_model}, causal={self.causal}, {self.E.dtype}, magnitude {self.magnitude:g})")


@st.composite
def batched_heads(draw: st.DrawFn, *, min_batch: int = 2, max_batch: int = 3) -> BatchedHeads:
    """Multi-head inputs (:func:`.strategies.multi_heads`: the declared domain's heads) with a batch
    of ``min_batch``..``max_batch`` embeddings of the same ctx, dtype and magnitude; a causal flag."""
    mh = draw(multi_heads())
    batch = draw(st.integers(min_batch, max_batch))
    others = [draw(arrays(mh.E.dtype, mh.E.shape, mh.magnitude)) for _ in range(batch - 1)]
    causal = draw(domain.causal_flags())
    return BatchedHeads(np.stack([mh.E, *others]), mh.W_Q, mh.W_K, mh.W_V_down, mh.W_O, causal, mh.magnitude)


def attend_heads(impl: Any, b: BatchedHeads, E: np.ndarray, what: str) -> np.ndarray:
    return expect.shape(f"batched_multi_head_attention({what}, causal={b.causal})",
                        impl.batched_multi_head_attention(E, *b.weights, b.causal), E.shape)


@prop("batch.mha_entries_independent", needs=MHA_NEEDS,
      statement="a batch of B equals B calls of one: batched_multi_head_attention(E)[b] = "
                "batched_multi_head_attention(E[b:b+1], ...)[0]",
      strategy=lambda: batched_heads())
def mha_entries_independent(impl: Any, b: BatchedHeads) -> None:
    n = b.E.shape[0]
    whole = attend_heads(impl, b, b.E, f"E of a batch of {n}")
    alone = np.concatenate([attend_heads(impl, b, b.E[i : i + 1], f"entry {i} alone") for i in range(n)])
    tol = max(heads_tolerance(b.entry(i)) for i in range(n))
    expect.close(f"batched_multi_head_attention on a batch of {n} ({b.W_Q.shape[0]} heads)", whole, alone, tol,
                 note="compared with each batch entry called alone")
