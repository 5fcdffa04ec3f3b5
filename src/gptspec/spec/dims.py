"""The dimension symbols of the spec, what each one means, and how a config fixes it."""

from __future__ import annotations

import dataclasses

__all__ = ["Dim", "DIMS", "CONTEXT_DIMS"]


@dataclasses.dataclass(frozen=True)
class Dim:
    """One named dim: its symbol, its meaning, and the config field that fixes or bounds it."""

    symbol: str
    meaning: str
    equals: str | None = None  # config field the dim must equal when a config is bound
    at_most: str | None = None  # config field the dim must not exceed when a config is bound
    least: int = 1  # the smallest size the dim takes (a cache is empty before the first call)


DIMS: dict[str, Dim] = {
    d.symbol: d
    for d in (
        Dim("vocab", "tokens in the vocabulary", equals="vocab"),
        Dim("d_model", "embedding dimension", equals="d_model"),
        Dim("n_heads", "attention heads per layer", equals="n_heads"),
        Dim("d_head", "query/key space = value-down space", equals="d_head"),
        Dim("n_ctx", "context length (most tokens per call)", equals="n_ctx"),
        Dim("n_layers", "blocks", equals="n_layers"),
        Dim("d_mlp", "MLP hidden size", equals="d_mlp"),
        Dim("ctx", "tokens in this call (1 <= ctx <= n_ctx)", at_most="n_ctx"),
        Dim("ctx_q", "query positions in this call", at_most="n_ctx"),
        Dim("ctx_k", "key positions in this call", at_most="n_ctx"),
        Dim("ctx_past", "positions already in the KV cache (0 before the first call)", at_most="n_ctx", least=0),
        Dim("ctx_new", "new positions fed in this call of incremental decoding", at_most="n_ctx"),
    )
}

CONTEXT_DIMS = frozenset(s for s, d in DIMS.items() if d.at_most == "n_ctx")
