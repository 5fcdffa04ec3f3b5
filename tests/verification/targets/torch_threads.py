"""A 'sample' that answers with the number of threads torch computes on in the target's process."""

import torch


def sample(logits, temperature, rng):
    return torch.get_num_threads()
