"""Planted bug: HF's GPT-2 fed its new tokens with position_ids 0 … ctx_new − 1 whatever the cache
holds (a hand-made position_ids that forgets the cache's length). decode.positions_continue must fail."""

import torch

from gptspec.ecosystem import hf_gpt2
from gptspec.ecosystem.hf_gpt2 import *  # the spec's model functions, GPTSPEC_ASSUME, GPTSPEC_FRAMEWORK


def _restarted(ctx_past, ctx_new):
    return torch.arange(ctx_new)[None]


hf_gpt2.position_ids = _restarted
