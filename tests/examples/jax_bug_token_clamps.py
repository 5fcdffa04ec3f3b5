"""examples/jax_gpt.py with its token check left out: JAX clamps an index out of range instead of
raising, so token id vocab reads the last column of W_E and −1 the first — silently.

    gptspec verify tests/examples/jax_bug_token_clamps.py
"""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "examples"))

from jax_gpt import *  # noqa: E402,F401,F403


def embed(tokens, W_E):
    return W_E[:, tokens]  # BUG: no check, and JAX's indexing clamps instead of raising
