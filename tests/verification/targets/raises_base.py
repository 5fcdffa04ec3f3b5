"""A softmax that raises a BaseException that is no Exception (GPTSPEC_RAISE: KeyboardInterrupt,
SystemExit, GeneratorExit): the target's own, never the user's Ctrl-C nor a rejection of input."""

import os

from gptspec import impl

RAISE = {"KeyboardInterrupt": KeyboardInterrupt, "SystemExit": SystemExit,
         "GeneratorExit": GeneratorExit}[os.environ.get("GPTSPEC_RAISE", "KeyboardInterrupt")]


def softmax(x, temperature=1.0, axis=-1):
    if not temperature > 0:  # a rejection of invalid input by raising what is not an Exception
        raise RAISE("no")
    if float(x.reshape(-1)[0]) > 1:
        raise RAISE("the target's own")
    return impl.softmax(x, temperature, axis)
