"""A correct softmax that prints a megabyte per call, through Python and below it (fd 1 and 2)."""

import os
import sys

from gptspec import impl

LINE = "x" * 1023 + "\n"


def softmax(x, temperature=1.0, axis=-1):
    print(LINE * 512, end="")
    print(LINE * 256, end="", file=sys.stderr)
    os.write(1, (LINE * 256).encode())
    os.write(2, (LINE * 10).encode())
    return impl.softmax(x, temperature, axis)
