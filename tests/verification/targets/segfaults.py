"""A softmax with the bug of a C extension: it reads address 0 and dies by SIGSEGV."""

import ctypes


def softmax(x, temperature=1.0, axis=-1):
    return ctypes.string_at(0)
