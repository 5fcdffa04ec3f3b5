"""What one call of hf:gpt2 and tl:gpt2 costs, against the NumPy reference, on one thread.

A model target builds its library's module once per dims and dtype and copies each call's
weights into it (:mod:`gptspec.ecosystem.models`). This prints, for a small model like the
properties draw (2 layers, d_model 8, 2 heads of 4, vocab 11, 6 tokens, float64), the time of
one call of ``forward`` and ``block`` with the module cached, the same with the cache emptied
before every call (what a build costs), and ``gptspec.impl``'s, in milliseconds.

    HF_HUB_OFFLINE=1 python benchmarks/model_targets.py [--calls 200]
"""

from __future__ import annotations

import argparse
import importlib
import time
from collections.abc import Callable

import numpy as np
import torch

from gptspec import Config, impl
from gptspec.impl.weights import random_weights

CONFIG = Config(vocab=11, d_model=8, n_heads=2, d_head=4, n_ctx=7, n_layers=2, d_mlp=12, name="small")


def per_call(fn: Callable[[], object], calls: int) -> float:
    fn()  # the first call builds what the rest reuse
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return 1000 * (time.perf_counter() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)  # as in a target process
    w = random_weights(CONFIG, 0, dtype=np.float64, scale=0.5)
    tokens = np.array([1, 5, 3, 10, 0, 2])
    E = np.random.default_rng(1).standard_normal((CONFIG.d_model, 5))
    rows = [("gptspec.impl", per_call(lambda: impl.forward(tokens, w), args.calls),
             per_call(lambda: impl.block(E, w.blocks[0]), args.calls), float("nan"))]
    for name in ("hf_gpt2", "tl_gpt2"):
        module = importlib.import_module(f"gptspec.ecosystem.{name}")

        def fresh(module=module) -> object:
            module.MODELS.clear()
            return module.forward(tokens, w)

        rows.append((name.replace("_", ":"), per_call(lambda m=module: m.forward(tokens, w), args.calls),
                     per_call(lambda m=module: m.block(E, w.blocks[0]), args.calls),
                     per_call(fresh, max(1, args.calls // 20))))
    print(f"{'target':14} {'forward ms':>11} {'block ms':>9} {'forward, built each call ms':>28}")
    for label, forward, block, built in rows:
        shown = "—" if np.isnan(built) else f"{built:.1f}"
        print(f"{label:14} {forward:11.2f} {block:9.2f} {shown:>28}")


if __name__ == "__main__":
    main()
