"""Padding (gptspec.properties.padding) on HF's GPT-2: a left- or right-padded batch with an attention
mask gives each sequence the logits it gets alone, with the position ids HF's own ``generate`` uses, and
so does a step with the cache after a left-padded prefill (HF transformers #18104). The correct model
passes; planted bugs (position ids 0 … ctx − 1 whatever the padding; pad keys not masked) fail the
property meant for them, with a counterexample that names the sequence, its padding and the position."""

from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest

from gptspec import verify
from gptspec.properties import padding
from gptspec.properties.catalogue import get

pytest.importorskip("transformers")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

TARGETS = pathlib.Path(__file__).resolve().parent / "targets"
PROPERTIES = ("padding.batch_equals_alone", "padding.cached_step_after_left_padding")


def test_pad_puts_the_pads_on_the_side_asked_and_masks_them():
    tokens, mask = padding.pad((np.array([1, 2, 3]), np.array([4])), "left", 0)
    assert tokens.tolist() == [[1, 2, 3], [0, 0, 4]] and mask.tolist() == [[True] * 3, [False, False, True]]
    tokens, mask = padding.pad((np.array([1, 2, 3]), np.array([4])), "right", 9)
    assert tokens.tolist() == [[1, 2, 3], [4, 9, 9]] and mask.tolist() == [[True] * 3, [True, False, False]]


@pytest.mark.parametrize(("target", "provided"), [("hf:gpt2", PROPERTIES), ("tl:gpt2", PROPERTIES[:1])])
def test_the_model_targets_pass_the_padding_properties_they_provide(target, provided):
    if target == "tl:gpt2":
        pytest.importorskip("transformer_lens")
    report = verify(target, profile="quick", seed=0, only=["padding"], jobs=1)
    ran = {r.name: r.status for r in report.results if r.status != "not provided"}
    assert ran == dict.fromkeys(provided, "passed"), [(r.name, r.failure) for r in report.results if r.failure]
    assert report.exit_code == 0


@pytest.mark.parametrize(("bug", "prop", "words"), [
    ("hf_bug_padding_positions.py", "padding.batch_equals_alone", "left-padded batch"),
    ("hf_bug_padding_positions.py", "padding.cached_step_after_left_padding", "fed with the cache"),
    ("hf_bug_pad_keys_unmasked.py", "padding.batch_equals_alone", "-padded batch"),
    ("tl_bug_padding_positions.py", "padding.batch_equals_alone", "left-padded batch"),
])
def test_a_planted_padding_bug_fails_the_property_meant_for_it(bug, prop, words):
    report = verify(str(TARGETS / bug), profile="quick", seed=0, only=[prop], jobs=1)
    (result,) = report.results
    assert result.status == "failed", (result.status, result.failure)
    message = result.failure.message
    assert words in message and "position" in message and "sequence" in message, message
    assert report.exit_code == 1


def test_a_target_without_a_padded_batch_has_the_family_not_provided():
    from gptspec import impl

    assert not any(get(name).applies_to(impl) for name in PROPERTIES)
