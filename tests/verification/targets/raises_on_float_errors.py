"""A correct softmax whose module turns every NumPy floating-point warning into an error
(np.seterr(all="raise")): its own business, which must not change the verifier's NumPy."""

import numpy as np

from gptspec import impl

np.seterr(all="raise")


def softmax(x, temperature=1.0, axis=-1):
    with np.errstate(under="ignore"):  # exp of very negative logits underflows, as it should
        return impl.softmax(x, temperature, axis)
