"""The ``sdpa`` convention: a function with ``torch.nn.functional.scaled_dot_product_attention``'s signature.

    kernel(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None) -> out

with ``query [batch heads L E]``, ``key [batch heads S E]``, ``value [batch heads S Ev]``, ``out
[batch heads L Ev]``::

    out = softmax(query · keyᵀ · scale + bias) · value,   scale = 1/√E when None

where the bias is 0 where a bool ``attn_mask`` is True (True = attend) and −∞ where it is False,
a float ``attn_mask`` itself (additive), and with ``is_causal`` −∞ above the diagonal of the
top-left aligned ``tril(ones(L, S))``. Custom kernels (Triton, CUDA, a NumPy port) implement
exactly this as drop-in replacements.

Around it gptspec builds the spec's attention functions (:mod:`.attention`: each call is
``kernel(query, key, value, is_causal=causal)``) and provides two entry points: ``batched_attention``
(the same call on ``[batch heads L E]`` arrays) and ``sdpa_kernel(query, key, value, **keywords)``,
the kernel with exactly the keywords a property gives, so the sdpa family can state what this
signature owes (scale, masks, is_causal, dropout_p = 0).

Framework: ``--framework`` if given, else detected as for a module (:mod:`..frameworks`: the
kernel is a library's own, or its module imports the library), NumPy otherwise. The framework
converts each array (a bool mask stays bool) and what comes back; a NumPy kernel gets and returns
NumPy arrays.
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np

from ...target import detect_framework
from .. import frameworks
from . import Built, Convention
from .attention import expect_output, spec_functions

__all__ = ["build", "framework_of"]


def framework_of(kernel: Any, requested: str | None) -> str:
    """``requested``, or the framework whose library the kernel is of or its module imports, else numpy."""
    if requested is not None:
        return requested
    return detect_framework(types.SimpleNamespace(kernel=kernel), ("kernel",))


def build(kernel: Any, *, framework: str | None, label: str, convention: Convention) -> Built:
    """The framework chosen, and the spec's attention functions with ``sdpa_kernel`` and
    ``batched_attention``, each calling ``kernel``."""
    chosen = frameworks.named(framework_of(kernel, framework))
    chosen.require()
    convert = chosen.to_native

    def sdpa_kernel(query: np.ndarray, key: np.ndarray, value: np.ndarray, **keywords: Any) -> np.ndarray:
        out = kernel(convert(query), convert(key), convert(value), **{k: convert(v) for k, v in keywords.items()})
        return expect_output(label, chosen.from_native(out, False), query, value)

    def batched(query: np.ndarray, key: np.ndarray, value: np.ndarray, causal: bool) -> np.ndarray:
        return sdpa_kernel(query, key, value, is_causal=causal)

    functions = spec_functions(batched)
    functions["sdpa_kernel"] = sdpa_kernel
    return Built(chosen.name, functions)
