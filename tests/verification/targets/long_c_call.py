"""A softmax that enters one C call running for minutes (a sum over 10¹² broadcast entries):
no signal handler runs until it returns, so only killing its process ends it on time."""

import numpy as np


def softmax(x, temperature=1.0, axis=-1):
    np.broadcast_to(np.float64(1.0), (10**6, 10**6)).sum()
    raise AssertionError("unreachable in a test's lifetime")
