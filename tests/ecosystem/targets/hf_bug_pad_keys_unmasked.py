"""Planted bug: HF's GPT-2 given an attention mask of all ones for a padded batch (the mask made but
not passed on), so every query sees the pads as keys. padding.batch_equals_alone must fail."""

import torch

from gptspec.ecosystem import hf_gpt2
from gptspec.ecosystem.hf_gpt2 import *  # the spec's model functions and entry points, GPTSPEC_ASSUME, ...


def _all_ones(mask):
    return torch.ones(mask.shape, dtype=torch.int64)


hf_gpt2.padded_attention_mask = _all_ones
