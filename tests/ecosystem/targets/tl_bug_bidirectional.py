"""Planted bug: TransformerLens' native GPT-2 built bidirectional even where the spec is causal.
causality.forward_future_independent must fail."""

from gptspec.ecosystem import tl_gpt2
from gptspec.ecosystem.tl_gpt2 import *  # the spec's model functions and GPTSPEC_FRAMEWORK

_config = tl_gpt2.config


def _bidirectional(dims, causal=True):
    return _config(dims, causal=False)


tl_gpt2.config = _bidirectional
