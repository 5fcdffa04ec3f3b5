"""Planted bug: HF's GPT-2 fed a padded batch with position ids 0 … ctx − 1 whatever the padding (the
mask ignored when positions are made). padding.batch_equals_alone must fail (on a left-padded batch)."""

import torch

from gptspec.ecosystem import hf_gpt2
from gptspec.ecosystem.hf_gpt2 import *  # the spec's model functions and entry points, GPTSPEC_ASSUME, ...


def _arange(mask):
    batch, width = mask.shape
    return torch.arange(width).expand(batch, -1)


hf_gpt2.padded_position_ids = _arange
