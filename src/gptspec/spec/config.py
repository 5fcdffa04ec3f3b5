"""Configs: the sizes every named dim takes, with GPT-3's and GPT-2 small's numbers.

A :class:`Config` fixes ``vocab``, ``d_model``, ``n_heads``, ``d_head``, ``n_ctx``, ``n_layers`` and
``d_mlp``. It does not assume ``d_model == n_heads * d_head``: the output matrix W_O is
d_model × (n_heads·d_head), and the two may differ.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from typing import Any

from .errors import ConfigError

__all__ = ["Config", "GPT3", "GPT2_SMALL", "PRESETS", "get_config", "config_from_file", "config_from_mapping"]

FIELDS = ("vocab", "d_model", "n_heads", "d_head", "n_ctx", "n_layers", "d_mlp")


@dataclasses.dataclass(frozen=True)
class Config:
    """The sizes of a GPT. Every field is a positive integer.

    ``name`` is only a label, used in error messages ("bound by config gpt3").
    """

    vocab: int
    d_model: int
    n_heads: int
    d_head: int
    n_ctx: int
    n_layers: int
    d_mlp: int
    name: str = "custom"

    def __post_init__(self) -> None:
        for field in FIELDS:
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(
                    f"Config.{field} must be a positive integer, got {type(value).__name__} {value!r}"
                )
            if value < 1:
                raise ConfigError(f"Config.{field} must be a positive integer, got {value}")
        if not isinstance(self.name, str):
            raise ConfigError(f"Config.name must be a string, got {type(self.name).__name__}")

    @property
    def d_attn(self) -> int:
        """n_heads · d_head: the rows of concat_h(W_V_down_h E A_h), the columns of W_O."""
        return self.n_heads * self.d_head

    def dims(self) -> dict[str, int]:
        """The named dims this config fixes (ctx is not fixed, only bounded by n_ctx)."""
        return {field: getattr(self, field) for field in FIELDS}

    def replace(self, **changes: Any) -> Config:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


GPT3 = Config(
    vocab=50257, d_model=12288, n_heads=96, d_head=128, n_ctx=2048, n_layers=96, d_mlp=49152, name="gpt3"
)
GPT2_SMALL = Config(
    vocab=50257, d_model=768, n_heads=12, d_head=64, n_ctx=1024, n_layers=12, d_mlp=3072, name="gpt2-small"
)

PRESETS: dict[str, Config] = {"gpt3": GPT3, "gpt2-small": GPT2_SMALL}


def get_config(name: str) -> Config:
    """A preset by name: ``gpt3`` or ``gpt2-small`` (case and ``_``/``-`` do not matter)."""
    key = name.strip().lower().replace("_", "-")
    aliases = {"gpt-3": "gpt3", "gpt2": "gpt2-small", "gpt-2-small": "gpt2-small", "gpt2small": "gpt2-small"}
    key = aliases.get(key, key)
    try:
        return PRESETS[key]
    except KeyError:
        known = ", ".join(sorted(PRESETS))
        raise ConfigError(f"unknown config {name!r}; known configs: {known}") from None


def config_from_mapping(values: Mapping[str, Any], *, base: Config | None = None, name: str = "custom") -> Config:
    """A config from a mapping of field names to sizes; missing fields come from ``base``."""
    unknown = sorted(set(values) - set(FIELDS) - {"name"})
    if unknown:
        raise ConfigError(f"unknown config field(s) {', '.join(unknown)}; fields are {', '.join(FIELDS)}")
    merged: dict[str, Any] = base.dims() if base is not None else {}
    merged.update({k: v for k, v in values.items() if k != "name"})
    missing = [f for f in FIELDS if f not in merged]
    if missing:
        raise ConfigError(f"config is missing field(s) {', '.join(missing)}")
    label = values.get("name", name if base is None else f"{base.name}+custom")
    return Config(**{f: merged[f] for f in FIELDS}, name=str(label))


def config_from_file(path: str | os.PathLike[str]) -> Config:
    """A config from a JSON file holding an object with the seven fields (and optionally ``name``).

    An object may also say ``"base": "gpt2-small"`` and override only some fields.
    """
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {os.fspath(path)!r}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"config file {os.fspath(path)!r} is not valid JSON: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {os.fspath(path)!r} must hold a JSON object")
    base_name = data.pop("base", None)
    base = get_config(base_name) if base_name is not None else None
    return config_from_mapping(data, base=base, name=os.path.splitext(os.path.basename(os.fspath(path)))[0])
