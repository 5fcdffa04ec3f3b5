"""A softmax that blocks, once it has touched GPTSPEC_TEST_MARKER, at the phase GPTSPEC_TEST_PHASE names:

- ``load``: while its module is imported (the target process, or a --jobs worker, starting);
- ``search``: in its first call;
- ``shrink``: in the first call after one it answered wrong (zeros): Hypothesis is shrinking;
- ``judge``: answers NaN beyond |x/T| = 1e6 only (fragile) and blocks on the fragility
  judgement's first moved example (|x/T| = 0.999e6, after a failure).
It blocks until killed: a test waits for the marker, then signals the verifier.
"""

import os
import pathlib
import time

import numpy as np

from gptspec import impl

MARKER = os.environ["GPTSPEC_TEST_MARKER"]
PHASE = os.environ["GPTSPEC_TEST_PHASE"]


def block():
    pathlib.Path(MARKER).touch()
    while True:
        time.sleep(1)


if PHASE == "load":
    block()


def softmax(x, temperature=1.0, axis=-1):
    failed = pathlib.Path(MARKER + ".failed")
    if PHASE == "search" or (PHASE == "shrink" and failed.exists()):
        block()
    if PHASE == "shrink":
        failed.touch()
        return np.zeros_like(impl.softmax(x, temperature, axis))
    if PHASE == "judge":
        top = float(np.max(np.abs(np.asarray(x, dtype=np.float64) / temperature), initial=0.0))
        if top > 1e6:
            failed.touch()
            return np.full(np.shape(x), np.nan)
        if abs(top - 0.999e6) < 1.0 and failed.exists():
            block()
    return impl.softmax(x, temperature, axis)
