"""The spec's weights container: every learned tensor of a GPT, typed by its shape.

A :class:`Weights` holds the embedding, position and unembedding matrices, the final layer norm,
and one :class:`BlockWeights` per layer. Field annotations are jaxtyping types, so the run-time
checker validates a whole container (``weights.blocks[3].W_O axis 0 is d_model = ...``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np

from .types import (
    EmbeddingMatrix,
    LayerNormBias,
    LayerNormGain,
    MLPDown,
    MLPDownBias,
    MLPUp,
    MLPUpBias,
    OutputMatrix,
    PositionMatrix,
    StackedKeyMatrix,
    StackedQueryMatrix,
    StackedValueDown,
    UnembeddingMatrix,
)

__all__ = ["BlockWeights", "Weights"]


@dataclasses.dataclass(frozen=True)
class BlockWeights:
    """One block: pre-layer-norm attention, then pre-layer-norm MLP, each added to the residual."""

    ln1_gain: LayerNormGain
    ln1_bias: LayerNormBias
    W_Q: StackedQueryMatrix
    W_K: StackedKeyMatrix
    W_V_down: StackedValueDown
    W_O: OutputMatrix
    ln2_gain: LayerNormGain
    ln2_bias: LayerNormBias
    W_up: MLPUp
    b_up: MLPUpBias
    W_down: MLPDown
    b_down: MLPDownBias

    def arrays(self) -> Iterator[tuple[str, np.ndarray]]:
        """(field name, array) for every tensor of the block."""
        for field in dataclasses.fields(self):
            yield field.name, getattr(self, field.name)


@dataclasses.dataclass(frozen=True)
class Weights:
    """Every learned tensor of the model: ``blocks`` has one entry per layer."""

    W_E: EmbeddingMatrix
    W_pos: PositionMatrix
    blocks: tuple[BlockWeights, ...]
    lnf_gain: LayerNormGain
    lnf_bias: LayerNormBias
    W_U: UnembeddingMatrix

    def arrays(self) -> Iterator[tuple[str, np.ndarray]]:
        """(dotted name, array) for every tensor, blocks included (``blocks[0].W_Q``)."""
        for field in dataclasses.fields(self):
            if field.name == "blocks":
                for i, block in enumerate(self.blocks):
                    for name, array in block.arrays():
                        yield f"blocks[{i}].{name}", array
            else:
                yield field.name, getattr(self, field.name)

    @property
    def n_layers(self) -> int:
        return len(self.blocks)

    def n_params(self) -> int:
        """How many numbers the container holds."""
        return sum(int(a.size) for _, a in self.arrays())
