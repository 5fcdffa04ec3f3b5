"""The parameter tally of a config, by category, as the video counts GPT-3's 175 billion.

The video's total counts weight matrices only: embedding, key, query, value-down, value-up (the
output matrix), MLP up, MLP down, unembedding. ``Tally.total_all`` adds what the model of this
spec also learns: MLP biases, layer-norm gains and biases, and the position embedding. It equals
the number of values in a ``Weights`` container for the config.
"""

from __future__ import annotations

import dataclasses

from .config import Config

__all__ = ["Category", "Tally", "tally"]


@dataclasses.dataclass(frozen=True)
class Category:
    """One line of the tally: a name, the tensor and its shape, how many per layer, the count."""

    name: str
    tensor: str
    shape: str
    per: str  # "once" or "per layer" or "per head per layer"
    count: int
    in_video_total: bool


@dataclasses.dataclass(frozen=True)
class Tally:
    config: Config
    categories: tuple[Category, ...]

    @property
    def total(self) -> int:
        """The weights-only count of the video (GPT-3: 175,181,291,520)."""
        return sum(c.count for c in self.categories if c.in_video_total)

    @property
    def total_all(self) -> int:
        """Every learned number of the model: the video's total plus biases, norms and positions."""
        return sum(c.count for c in self.categories)

    def __getitem__(self, name: str) -> int:
        for c in self.categories:
            if c.name == name:
                return c.count
        raise KeyError(name)


def tally(config: Config) -> Tally:
    """The parameter count of ``config`` by category."""
    c = config
    L, H = c.n_layers, c.n_heads
    head_matrix = c.d_head * c.d_model
    return Tally(
        config,
        (
            Category("embedding", "W_E", "d_model × vocab", "once", c.d_model * c.vocab, True),
            Category("key", "W_K", "d_head × d_model", "per head per layer", L * H * head_matrix, True),
            Category("query", "W_Q", "d_head × d_model", "per head per layer", L * H * head_matrix, True),
            Category("value-down", "W_V_down", "d_head × d_model", "per head per layer", L * H * head_matrix, True),
            Category(
                "value-up (output)", "W_O", "d_model × n_heads·d_head", "per layer",
                L * c.d_model * H * c.d_head, True,
            ),
            Category("MLP up", "W_up", "d_mlp × d_model", "per layer", L * c.d_mlp * c.d_model, True),
            Category("MLP down", "W_down", "d_model × d_mlp", "per layer", L * c.d_model * c.d_mlp, True),
            Category("unembedding", "W_U", "vocab × d_model", "once", c.vocab * c.d_model, True),
            Category("MLP biases", "b_up, b_down", "d_mlp + d_model", "per layer", L * (c.d_mlp + c.d_model), False),
            Category(
                "layer norms", "gain, bias", "2 × d_model", "2 per layer + final",
                (2 * L + 1) * 2 * c.d_model, False,
            ),
            Category("position embedding", "W_pos", "d_model × n_ctx", "once", c.d_model * c.n_ctx, False),
        ),
    )
