"""The nanoGPT family: karpathy/nanoGPT's ``model.py`` and the forks of it, verified as written.

Recognised by structure (:func:`recognise`): the module defines

- a dataclass config with the fields ``n_layer, n_head, n_embd, block_size, vocab_size`` (others,
  such as ``bias`` and ``dropout``, are set when present and left at their defaults otherwise);
- an ``nn.Module`` class with ``generate(idx, max_new_tokens, temperature, top_k)`` and
  ``forward(idx, targets)``, built from that config alone;
- and that class, built at a tiny size, has GPT-2's parameter names (:mod:`.torch_gpt`: fused
  ``c_attn``, ``transformer.wte/wpe/h/ln_f``, ``lm_head``).

The class and config names are free (a fork's ``MyGPT`` and ``MyConfig`` with an extra field are
recognised). What is read off the built model is declared, not failed (DESIGN "Variants"):
``tied-embeddings`` when ``lm_head.weight`` is ``wte.weight``, ``gelu=erf`` when the MLP's
activation computes ``nn.GELU()``'s erf form, ``d_mlp=4*d_model`` when c_fc is 4·n_embd wide;
always ``d_model=n_heads*d_head`` (``n_embd // n_head`` per head) and ``causal-only``.

How the spec's functions call it: ``forward`` is ``model(idx, targets)`` with targets given (so
nanoGPT computes every position's logits); ``next_token_probs`` is ``model(idx)`` as at
inference (targets None: the last position's logits only), then softmax(logits / T);
``generate`` is the model's ``generate(idx, n, temperature=T, top_k=k)``, and at T = 0 (greedy)
``top_k=1`` (nanoGPT divides by T, so T = 0 is not a temperature it takes). The attention runs on
the path the user's code chooses (``F.scaled_dot_product_attention`` when torch has it, else the
masked matmul); ``GPTSPEC_NANOGPT_ATTENTION=manual`` in the environment hides SDPA from the
model while it is built, so the manual path is verified too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import types
from collections.abc import Iterator
from typing import Any

from .families import Family, Found, Miss, classes_of, has_parameters, register
from .torch_classes import module_class

__all__ = ["FAMILY", "CONFIG_FIELDS", "recognise"]

CONFIG_FIELDS = ("n_layer", "n_head", "n_embd", "block_size", "vocab_size")
GENERATE = ("idx", "max_new_tokens", "temperature", "top_k")


def config_class(module: types.ModuleType) -> type:
    """The dataclass with nanoGPT's config fields."""
    for cls in classes_of(module):
        if dataclasses.is_dataclass(cls) and set(CONFIG_FIELDS) <= {f.name for f in dataclasses.fields(cls)}:
            return cls
    raise Miss(f"no dataclass with the fields {', '.join(CONFIG_FIELDS)}")


def make_config(cls: type, values: dict[str, Any]) -> Any:
    """``cls`` with the given fields (those it has), every other at its default."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in names})


@contextlib.contextmanager
def _attention_path() -> Iterator[None]:
    """With ``GPTSPEC_NANOGPT_ATTENTION=manual``: torch.nn.functional without SDPA while a model is
    built (nanoGPT picks its path by ``hasattr(F, 'scaled_dot_product_attention')``)."""
    import torch.nn.functional as F

    if os.environ.get("GPTSPEC_NANOGPT_ATTENTION", "") != "manual":
        yield
        return
    sdpa = F.scaled_dot_product_attention
    del F.scaled_dot_product_attention
    try:
        yield
    finally:
        F.scaled_dot_product_attention = sdpa


def recognise(module: types.ModuleType) -> Found:
    config, gpt = config_class(module), module_class(module, GENERATE, "generate(idx, max_new_tokens, temperature, top_k)")
    if not has_parameters(getattr(gpt, "forward", None), ("idx", "targets")):
        raise Miss(f"{gpt.__name__}.forward does not take (idx, targets)")
    return _found(module, gpt, config)


def _found(module: types.ModuleType, gpt: type, config: type) -> Found:
    import torch

    from . import torch_gpt
    from .models import Dims

    def build(dims: Dims) -> Any:
        values = {"n_layer": dims.n_layers, "n_head": dims.n_heads, "n_embd": dims.d_model, "block_size": dims.n_ctx,
                  "vocab_size": dims.vocab, "dropout": 0.0, "bias": True}
        with _attention_path():
            return gpt(make_config(config, values))

    tiny = torch_gpt.tiny_gpt2(build, f"{gpt.__name__}({config.__name__}(...))")
    mlp = tiny.transformer.h[0].mlp
    act = next((m for n, m in mlp.named_children() if n not in ("c_fc", "c_proj", "dropout")), None)
    shape = torch_gpt.probe(tiny, act if act is not None else (lambda x: x))
    attention = "flash attention" if getattr(tiny.transformer.h[0].attn, "flash", False) else "manual attention"
    features, assume = ["fused-linear"], ["d_model=n_heads*d_head", "causal-only"]
    if shape.tied:
        features.append("tied embeddings")
        assume.append("tied-embeddings")
    if shape.gelu == "erf":
        features.append("GELU erf")
        assume.append("gelu=erf")
    if shape.d_mlp_ratio == 4:
        features.append("d_mlp = 4·d_model")
        assume.append("d_mlp=4*d_model")
    features.append(attention)

    def logits(model: Any, idx: Any, last: bool) -> Any:
        return model(idx)[0] if last else model(idx, torch.zeros_like(idx))[0]

    def generate(model: Any, idx: Any, n_new: int, T: float, top_k: int | None) -> Any:
        if T == 0:
            return model.generate(idx, n_new, temperature=1.0, top_k=1)
        return model.generate(idx, n_new, temperature=T, top_k=top_k)

    recipe = torch_gpt.Recipe(build, logits, lambda block, x: block.mlp(x), generate,
                              lambda d_model: int(shape.d_mlp_ratio * d_model))
    return torch_gpt.recognised(FAMILY, gpt, features, assume, module, recipe)


FAMILY = register(Family(
    "nanogpt", "nanoGPT", "a GPTConfig-like dataclass and a GPT nn.Module with generate(idx, max_new_tokens, "
    "temperature, top_k)", recognise))
