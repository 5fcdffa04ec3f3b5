"""The minGPT family: karpathy/minGPT's ``mingpt/model.py`` (and forks), verified as written.

Recognised by structure: an ``nn.Module`` class with a static ``get_default_config()`` whose
config (minGPT's ``CfgNode``, or any object with attributes) has ``n_layer, n_head, n_embd,
vocab_size, block_size``, and ``generate(idx, max_new_tokens, temperature, do_sample, top_k)``;
built at a tiny size it has GPT-2's parameter names (:mod:`.torch_gpt`). A file inside the
``mingpt/`` package is imported as part of it (:func:`gptspec.target.load`), so its ``from
mingpt.utils import CfgNode`` works.

The model is built from ``get_default_config()`` with ``model_type = None`` (minGPT takes either
a named GPT-2 size or the sizes), the drawn sizes and every dropout 0. Variants read off the built
model as for nanoGPT (:mod:`.nanogpt`): minGPT's ``NewGELU`` is GPT-2's tanh form (no variant),
its ``lm_head`` is its own (untied), c_fc is 4·n_embd wide (``d_mlp=4*d_model``). ``forward`` is
``model(idx)`` (every position's logits), the MLP is the block's ``mlpf``; ``generate`` is the
model's ``generate(idx, n, temperature=T, do_sample=True, top_k=k)``, and at T = 0
``do_sample=False`` (minGPT's greedy).
"""

from __future__ import annotations

import types
from typing import Any

from .families import Family, Found, Miss, register
from .torch_classes import module_class

__all__ = ["FAMILY", "CONFIG_FIELDS", "recognise"]

CONFIG_FIELDS = ("n_layer", "n_head", "n_embd", "vocab_size", "block_size")
GENERATE = ("idx", "max_new_tokens", "temperature", "do_sample")


def model_class(module: types.ModuleType) -> type:
    cls = module_class(module, GENERATE, "generate(idx, max_new_tokens, temperature, do_sample, top_k)")
    if not callable(getattr(cls, "get_default_config", None)):
        raise Miss(f"{cls.__name__} has no get_default_config()")
    return cls


def recognise(module: types.ModuleType) -> Found:
    gpt = model_class(module)
    try:
        default = gpt.get_default_config()  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - not minGPT's static config
        raise Miss(f"{gpt.__name__}.get_default_config() raised {type(exc).__name__}: {exc}") from None
    lacking = [f for f in CONFIG_FIELDS if not hasattr(default, f)]
    if lacking:
        raise Miss(f"{gpt.__name__}.get_default_config() has no {', '.join(lacking)}")
    return _found(module, gpt)


def _found(module: types.ModuleType, gpt: type) -> Found:
    from . import torch_gpt
    from .models import Dims

    def build(dims: Dims) -> Any:
        config = gpt.get_default_config()  # type: ignore[attr-defined]
        values: dict[str, Any] = {"model_type": None, "n_layer": dims.n_layers, "n_head": dims.n_heads,
                                  "n_embd": dims.d_model, "vocab_size": dims.vocab, "block_size": dims.n_ctx}
        for name in dir(config):
            if name.endswith("pdrop"):
                values[name] = 0.0
        for name, value in values.items():
            setattr(config, name, value)
        return gpt(config)

    tiny = torch_gpt.tiny_gpt2(build, f"{gpt.__name__}(get_default_config())")
    block = tiny.transformer.h[0]
    if not callable(getattr(block, "mlpf", None)):
        raise Miss("its block has no mlpf")
    act = getattr(block.mlp, "act", None)
    shape = torch_gpt.probe(tiny, act if act is not None else (lambda x: x))
    features, assume = ["fused-linear"], ["d_model=n_heads*d_head", "causal-only"]
    if shape.tied:
        features.append("tied embeddings")
        assume.append("tied-embeddings")
    features.append({"erf": "GELU erf", "tanh": "GELU tanh"}.get(shape.gelu or "", "an activation that is not GELU"))
    if shape.gelu == "erf":
        assume.append("gelu=erf")
    if shape.d_mlp_ratio == 4:
        features.append("d_mlp = 4·d_model")
        assume.append("d_mlp=4*d_model")

    def generate(model: Any, idx: Any, n_new: int, T: float, top_k: int | None) -> Any:
        if T == 0:
            return model.generate(idx, n_new, do_sample=False)
        return model.generate(idx, n_new, temperature=T, do_sample=True, top_k=top_k)

    recipe = torch_gpt.Recipe(build, lambda model, idx, last: model(idx)[0], lambda block, x: block.mlpf(x), generate,
                              lambda d_model: int(shape.d_mlp_ratio * d_model))
    return torch_gpt.recognised(FAMILY, gpt, features, assume, module, recipe)


FAMILY = register(Family(
    "mingpt", "minGPT", "a GPT nn.Module with get_default_config() and generate(idx, max_new_tokens, temperature, "
    "do_sample, top_k)", recognise))
