"""Padding: HF's GPT-2 on a left- or right-padded batch with an attention mask gives each sequence
the logits it gets alone, with the position ids HF's own ``generate`` uses, and so does a step
with the cache after a left-padded prefill (HF transformers #18104). A Hypothesis search over
sizes, lengths, pad side and pad token; a planted bug (position ids 0 … ctx − 1 whatever the
padding) is found. Not a gptspec property: the spec's functions take one sequence, no batch."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gptspec import Config, impl

pytest.importorskip("transformers")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from gptspec.ecosystem import hf_gpt2  # noqa: E402  (after the skip: it imports torch and transformers)

SEARCH = settings(max_examples=25, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))


@st.composite
def padded_batches(draw: st.DrawFn) -> tuple:
    """Weights of a small GPT-2 (d_model = n_heads·d_head), 1–3 sequences of 1–5 tokens, the pad side,
    the pad token, and each sequence's next token."""
    n_heads, d_head = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    config = Config(vocab=draw(st.integers(2, 7)), d_model=n_heads * d_head, n_heads=n_heads, d_head=d_head,
                    n_ctx=7, n_layers=draw(st.integers(1, 2)), d_mlp=draw(st.integers(1, 4)), name="padded")
    weights = impl.random_weights(config, draw(st.integers(0, 99)), dtype=np.float64, scale=0.5)
    token = st.integers(0, config.vocab - 1)
    sequences = draw(st.lists(st.lists(token, min_size=1, max_size=5), min_size=1, max_size=3))
    return weights, sequences, draw(st.sampled_from(("left", "right"))), draw(token), draw(st.lists(
        token, min_size=len(sequences), max_size=len(sequences)))


def _pad(sequences: list[list[int]], side: str, pad: int) -> tuple[np.ndarray, np.ndarray]:
    width = max(map(len, sequences))
    tokens, mask = np.full((len(sequences), width), pad), np.zeros((len(sequences), width), dtype=bool)
    for i, s in enumerate(sequences):
        at = slice(width - len(s), width) if side == "left" else slice(0, len(s))
        tokens[i, at], mask[i, at] = s, True
    return tokens, mask


def each_sequence_as_alone(example: tuple) -> None:
    weights, sequences, side, pad, following = example
    tokens, mask = _pad(sequences, side, pad)
    logits, cache = hf_gpt2.forward_padded(tokens, mask, weights)
    for i, s in enumerate(sequences):
        alone = impl.forward(np.array(s), weights)
        np.testing.assert_allclose(logits[i][:, mask[i]], alone, rtol=1e-9, atol=1e-9,
                                   err_msg=f"sequence {i} {s}, {side}-padded to {tokens.shape[1]} with {pad}")
    if side != "left":  # generation appends after the last column: only a left-padded batch has it last
        return
    grown = np.hstack([mask, np.ones((len(sequences), 1), dtype=bool)])  # the cached positions' mask, then the new
    step, _ = hf_gpt2.forward_padded(np.array(following)[:, None], grown, weights, cache)
    for i, s in enumerate(sequences):
        alone = impl.forward(np.array(s + [following[i]]), weights)[:, -1]
        np.testing.assert_allclose(step[i][:, 0], alone, rtol=1e-9, atol=1e-9,
                                   err_msg=f"sequence {i} {s} then {following[i]} with the cache, left-padded")


def search() -> None:
    """each_sequence_as_alone over the drawn padded batches (a fresh test each time)."""
    given(padded_batches())(SEARCH(lambda example: each_sequence_as_alone(example)))()


def test_each_sequence_of_a_padded_batch_gets_what_it_gets_alone_with_and_without_the_cache():
    search()


def test_position_ids_that_ignore_the_padding_are_found(monkeypatch):
    monkeypatch.setattr(hf_gpt2, "padded_position_ids",
                        lambda mask: __import__("torch").arange(np.shape(mask)[1]).expand(np.shape(mask)[0], -1))
    with pytest.raises(AssertionError, match="left-padded"):
        search()
