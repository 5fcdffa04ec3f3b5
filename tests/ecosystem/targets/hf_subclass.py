"""A user's GPT-2: a subclass of Hugging Face's GPT2LMHeadModel (what a modified model file looks like)."""

from transformers import GPT2LMHeadModel


class MyGPT2(GPT2LMHeadModel):
    """GPT-2 with a hook for the user's own additions (none yet)."""

    def __init__(self, config):
        super().__init__(config)
