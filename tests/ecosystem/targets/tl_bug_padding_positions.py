"""Planted bug: TransformerLens' GPT-2 given a padded batch with position ids 0 … ctx − 1 whatever the
padding (explicit position_ids, so the bridge derives none from the mask). padding.batch_equals_alone
must fail (on a left-padded batch)."""

import numpy as np
import torch

from gptspec.ecosystem import tl_gpt2
from gptspec.ecosystem.tl_gpt2 import *  # the spec's model functions and forward_padded, GPTSPEC_FRAMEWORK


def forward_padded(tokens, mask, weights):
    ids = torch.as_tensor(np.asarray(tokens, dtype=np.int64))
    positions = torch.arange(ids.shape[1]).expand(ids.shape[0], -1)
    with torch.no_grad():
        logits = tl_gpt2._bridge(weights)(ids, attention_mask=torch.as_tensor(np.asarray(mask, dtype=np.int64)),
                                          position_ids=positions, return_type="logits")
    return logits.transpose(-1, -2).numpy()
