"""A decode step in an SDPA kernel: a query block shorter than its keys, with the bottom-right mask.

After ctx_past cached positions, the n new queries are positions ctx_past … ctx_past + n − 1 and
query i may see keys 0 … ctx_past + i: the last n rows of the causal mask over all S keys,
``tril(ones(n, S), S − n)``. torch's ``is_causal`` with fewer queries than keys is aligned top-left
(query i sees keys 0 … i), a known trap, so a cached decoder passes this mask explicitly; the
kernel must then give the last n rows of the causal kernel on all S queries. A kernel that masks
with a causal buffer cropped to ``[:L, :S]`` (nanoGPT's ``bias[:, :, :T, :T]``) does not. In the
``sdpa`` family: it calls the convention's ``sdpa_kernel`` entry point.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from . import expect
from .registry import prop
from .strategies import Batched, batched_inputs
from .tolerance import batched_tolerance


@prop("sdpa.query_block_after_cache", needs=("sdpa_kernel",),
      statement="the last n queries alone, against every key with the bottom-right mask tril(ones(n, S), S − n), "
                "give kernel(q, k, v, is_causal=True)'s last n rows",
      strategy=lambda: st.tuples(batched_inputs(causal=True, min_keys=2), st.integers(1, 4)))
def query_block_after_cache(impl: Any, example: tuple[Batched, int]) -> None:
    b, n = example
    keys = b.key.shape[2]
    n = min(n, keys - 1)  # fewer queries than keys: a decode step after keys − n cached positions
    past = keys - n
    out = (*b.query.shape[:-1], b.value.shape[-1])
    whole = expect.shape(f"kernel(q, k, v, is_causal=True) (query {b.query.shape}, key {b.key.shape})",
                         impl.sdpa_kernel(*b.args, is_causal=True), out)
    mask = np.tril(np.ones((n, keys), dtype=bool), k=past)  # query i (position past + i) sees keys 0 … past + i
    what = f"kernel(q[:, :, {past}:], k, v, attn_mask=tril(ones({n}, {keys}), {past}))"
    block = expect.shape(what, impl.sdpa_kernel(b.query[:, :, past:], b.key, b.value, attn_mask=mask),
                         (*out[:2], n, out[3]))
    expect.close(what, block, whole[:, :, past:], batched_tolerance(*b.args),
                 note=f"compared with the last {n} rows of the causal kernel on all {keys} queries; "
                      "is_causal with fewer queries than keys is aligned top-left, so a decode step needs this mask")
