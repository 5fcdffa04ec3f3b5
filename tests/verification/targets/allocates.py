"""A correct softmax that reserves 8 GiB on every call (np.zeros: address space the kernel maps lazily,
so without a memory limit it costs nothing; under --memory-limit 512MiB it cannot be had)."""

import numpy as np

from gptspec import impl


def softmax(x, temperature=1.0, axis=-1):
    reserved = np.zeros(1 << 30)  # 8 GiB of float64
    del reserved
    return impl.softmax(x, temperature, axis)
