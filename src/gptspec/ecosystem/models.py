"""What the whole-model targets (:mod:`.hf_gpt2`, :mod:`.tl_gpt2`) share.

A model target computes the spec's model functions with a library's own ``nn.Module``. Building
that module is slow (tens of milliseconds, and a TransformerBridge far more), so each target
builds one module per :class:`Dims` (the sizes and dtype a call's weights imply), keeps the
last :data:`CACHED` of them, and only loads the call's weights into it (``load_state_dict``:
a copy of each tensor) before running it. Arguments and results are NumPy arrays in the spec's
orientation (columns are tokens); torch tensors never leave the target.

This module imports torch only when it converts an array; :mod:`.hf_gpt2` and :mod:`.tl_gpt2`
import torch and their library at the top, and are imported only where a model target is loaded:
in its target process (:mod:`gptspec.target` names them lazily), never in the verifier's.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import threading
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

import numpy as np

from ..spec import BlockWeights, Weights

__all__ = [
    "CACHED", "Dims", "ModelCache", "block_dims", "check_temperature", "gpt2_state", "model_dims", "neutral_block",
    "one_layer_state", "to_numpy", "to_tensor",
]

CACHED = 16
"""How many built modules a target keeps (least recently used dropped first)."""


class Dims(NamedTuple):
    """The sizes of a model a call needs, and its float dtype's name ("float32", "float64")."""

    vocab: int
    d_model: int
    n_ctx: int
    n_heads: int
    d_head: int
    d_mlp: int
    n_layers: int
    dtype: str


def _block_sizes(block: BlockWeights) -> tuple[int, int, int]:
    n_heads, d_head, _ = block.W_Q.shape
    return n_heads, d_head, block.W_up.shape[0]


def model_dims(weights: Weights) -> Dims:
    """The dims of ``weights``: vocab and d_model from W_E ``[d_model vocab]``, n_ctx from W_pos
    ``[d_model n_ctx]``, heads and d_mlp from the first block (a model of no block has 1 head of
    d_model and d_mlp 1, which no layer uses)."""
    d_model, vocab = weights.W_E.shape
    n_heads, d_head, d_mlp = _block_sizes(weights.blocks[0]) if weights.blocks else (1, d_model, 1)
    return Dims(vocab, d_model, weights.W_pos.shape[1], n_heads, d_head, d_mlp, len(weights.blocks),
                np.dtype(weights.W_E.dtype).name)


def block_dims(E: np.ndarray, block: BlockWeights) -> Dims:
    """The dims of a one-layer model that runs ``block`` on ``E [d_model ctx]``: a vocab of 1 and
    n_ctx = ctx (the embedding and unembedding are not used)."""
    n_heads, d_head, d_mlp = _block_sizes(block)
    return Dims(1, E.shape[0], E.shape[1], n_heads, d_head, d_mlp, 1, np.dtype(E.dtype).name)


def gpt2_state(blocks: list[dict[str, np.ndarray]], W_E: np.ndarray, W_pos: np.ndarray, lnf_gain: np.ndarray,
               lnf_bias: np.ndarray, W_U: np.ndarray) -> dict[str, np.ndarray]:
    """GPT-2's whole-model names around the blocks' own (``transformer.h.{i}.``, each target's
    layout): ``wte = W_Eᵀ``, ``wpe = W_posᵀ``, ``ln_f``, ``lm_head.weight = W_U``."""
    state = {"transformer.wte.weight": W_E.T, "transformer.wpe.weight": W_pos.T}
    for block in blocks:
        state.update(block)
    state.update({"transformer.ln_f.weight": lnf_gain, "transformer.ln_f.bias": lnf_bias, "lm_head.weight": W_U})
    return state


def one_layer_state(block: dict[str, np.ndarray], d_model: int, n_ctx: int, dtype: Any) -> dict[str, np.ndarray]:
    """The state of a one-layer GPT-2 that runs ``block`` (``transformer.h.0.``) alone: a vocab of
    1, the embeddings and the unembedding zero, ln_f the identity (gain 1, bias 0)."""
    ones, zeros = np.ones(d_model, dtype), np.zeros(d_model, dtype)
    return gpt2_state([block], np.zeros((d_model, 1), dtype), np.zeros((d_model, n_ctx), dtype), ones, zeros,
                      np.zeros((1, d_model), dtype))


def neutral_block(d_model: int, dtype: Any, **given: np.ndarray) -> BlockWeights:
    """A block that passes everything through but ``given``: layer norms with gain 1 and bias 0,
    one head of d_head 1 and an MLP of d_mlp 1, all zero, then the ``given`` fields in place (so a
    one-layer model runs one of its submodules on the spec's weights)."""
    ones, zeros = np.ones(d_model, dtype), np.zeros(d_model, dtype)
    head, column = np.zeros((1, 1, d_model), dtype), np.zeros((d_model, 1), dtype)
    neutral = BlockWeights(ones, zeros, head, head, head, column, ones, zeros,
                           np.zeros((1, d_model), dtype), np.zeros(1, dtype), column, zeros)
    return dataclasses.replace(neutral, **given)


class ModelCache:
    """``get(key)``: the module ``build(key)`` returned for this key (a :class:`Dims`, or dims and
    a variant), built once (LRU of :data:`CACHED`). Thread-safe: a target process serves one call
    at a time, but a user may not."""

    def __init__(self, build: Callable[[Any], Any], size: int = CACHED,
                 on_drop: Callable[[Any, Any], None] | None = None) -> None:
        self.build, self.size, self.on_drop = build, size, on_drop
        self._models: collections.OrderedDict[Hashable, Any] = collections.OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0  # how many modules were built: a test reads it to see the cache work

    def get(self, key: Hashable) -> Any:
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
        model = self.build(key)
        with self._lock:
            self.builds += 1
            self._models[key] = model
            while len(self._models) > self.size:
                dropped = self._models.popitem(last=False)
                if self.on_drop is not None:
                    self.on_drop(*dropped)
        return model

    def clear(self) -> None:
        with self._lock:
            dropped, self._models = list(self._models.items()), collections.OrderedDict()
        for key, model in dropped:
            if self.on_drop is not None:
                self.on_drop(key, model)


def to_tensor(array: np.ndarray) -> Any:
    """A NumPy array as a torch tensor of the same dtype (a copy: the caller's array is never shared)."""
    import torch

    return torch.from_numpy(np.array(array, copy=True))


def to_numpy(tensor: Any) -> np.ndarray:
    """A torch tensor as a NumPy array of its own memory."""
    return np.array(tensor.detach().cpu().numpy(), copy=True)


def check_temperature(fn: str, temperature: float) -> float:
    """``temperature`` as a float, or a ValueError if it is not a finite T > 0 (the spec's
    next_token_probs divides by T)."""
    T = float(temperature)
    if not (T > 0 and math.isfinite(T)):
        raise ValueError(f"{fn}: the temperature must be finite and > 0, got {temperature!r}")
    return T
