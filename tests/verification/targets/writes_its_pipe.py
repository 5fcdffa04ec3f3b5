"""A softmax that writes into its own pipe to the verifier (GPTSPEC_PIPE: garbage, a message of
unknown tags, then its answer; half, a frame that announces 100 bytes, stops after 3 and hangs)."""

import os
import stat
import struct
import time

from gptspec import impl


def _pipes():
    for fd in range(3, 64):
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                yield fd
        except OSError:
            pass


def softmax(x, temperature=1.0, axis=-1):
    frame = b"Zgarbage" if os.environ.get("GPTSPEC_PIPE", "garbage") == "garbage" else None
    for fd in _pipes():
        if frame is None:
            os.write(fd, struct.pack("!i", 100) + b"abc")
            time.sleep(60)
        else:
            os.write(fd, struct.pack("!i", len(frame)) + frame)
    return impl.softmax(x, temperature, axis)
