"""HF GPT-2 classes in a user's file: a subclass of ``GPT2LMHeadModel``, or a modified copy of it.

Recognised by structure: a class defined in the module that is a transformers ``PreTrainedModel``
whose ``config_class`` is (a subclass of) ``GPT2Config``, and that, built from :mod:`.hf_gpt2`'s
config at a tiny size, has exactly ``GPT2LMHeadModel``'s parameter names. Such a class is
verified as ``hf:gpt2`` is (:mod:`.hf_gpt2`: the same config, state dict, hooks and mapping), with
the user's class built in place of transformers' own: a fresh copy of :mod:`.hf_gpt2` whose
``GPT2LMHeadModel`` is the user's class, so nothing of ``hf:gpt2`` itself changes.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
import types
from typing import Any

from .families import Family, Found, Miss, classes_of, register

__all__ = ["FAMILY", "recognise"]


def _copy_of_hf_gpt2(model_class: type) -> types.ModuleType:
    """:mod:`.hf_gpt2` executed afresh (its own cache), building ``model_class``."""
    spec = importlib.util.find_spec("gptspec.ecosystem.hf_gpt2")
    assert spec is not None and spec.loader is not None
    copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copy)
    copy.GPT2LMHeadModel = model_class  # type: ignore[attr-defined]  # what its _build constructs
    return copy


def recognise(module: types.ModuleType) -> Found:
    transformers = sys.modules.get("transformers")
    if transformers is None:
        raise Miss("it does not import transformers")
    from transformers import GPT2Config, PreTrainedModel

    def gpt2_config(cls: type) -> bool:
        config_class = getattr(cls, "config_class", None)
        return isinstance(config_class, type) and issubclass(config_class, GPT2Config)

    candidates = [c for c in classes_of(module) if issubclass(c, PreTrainedModel) and gpt2_config(c)]
    if not candidates:
        raise Miss("no PreTrainedModel class with a GPT2Config")
    from . import hf_gpt2
    from .models import Dims

    for cls in candidates:
        try:
            built = cls(hf_gpt2.config(Dims(3, 4, 4, 2, 2, 16, 1, "float32")))
        except Exception:  # noqa: BLE001 - not built from GPT-2's config alone: try the next
            continue
        names = {n for n, _ in built.named_parameters(remove_duplicate=False)}
        want = {n for n, _ in hf_gpt2.MODELS.build(Dims(3, 4, 4, 2, 2, 16, 1, "float32"))
                .named_parameters(remove_duplicate=False)}
        if names == want:
            copy = _copy_of_hf_gpt2(cls)
            found = Found(FAMILY, cls.__name__, ("Conv1D c_attn (hf-gpt2 layout)", "untied", "GELU tanh (gelu_new)"),
                          None)
            model = types.SimpleNamespace(
                **{n: getattr(copy, n) for n in ("forward", "next_token_probs", "block", "multi_head_attention",
                                                 "mlp", "layer_norm", "forward_cached", "multi_head_attention_cached",
                                                 "forward_padded", "forward_padded_cached")},
                GPTSPEC_ASSUME=list(copy.GPTSPEC_ASSUME), GPTSPEC_FRAMEWORK="numpy", GPTSPEC_FAMILY=found.text)
            return dataclasses.replace(found, model=model)
    raise Miss(f"{', '.join(c.__name__ for c in candidates)}: not GPT2LMHeadModel's parameters when built")


FAMILY = register(Family("hf-gpt2", "Hugging Face GPT-2", "a PreTrainedModel with a GPT2Config and "
                         "GPT2LMHeadModel's parameters", recognise))
