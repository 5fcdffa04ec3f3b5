"""Correct kernels of the conventions, adapted in this process: the references of the sdpa and batch families."""

from __future__ import annotations

import functools
import importlib.util
import pathlib
from typing import Any

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def _no_guard(name: str, fn: Any) -> Any:
    return fn


@functools.cache
def torch_sdpa() -> Any:
    """torch.nn.functional.scaled_dot_product_attention behind the sdpa convention."""
    import torch.nn.functional as F

    from gptspec.verification.conventions import adapt_convention

    return adapt_convention("sdpa", F.scaled_dot_product_attention, label="torch SDPA", framework=None, guard=_no_guard)


@functools.cache
def numpy_kernel() -> Any:
    """examples/sdpa_numpy_kernel.py behind the sdpa convention (NumPy in and out)."""
    from gptspec.verification.conventions import adapt_convention

    spec = importlib.util.spec_from_file_location("sdpa_numpy_kernel_example", EXAMPLES / "sdpa_numpy_kernel.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return adapt_convention("sdpa", module.scaled_dot_product_attention, label="NumPy kernel", framework=None,
                            guard=_no_guard)


MODULE_TARGETS = pathlib.Path(__file__).resolve().parents[1] / "verification" / "targets"


def module_convention(target: str, convention: str, label: str) -> Any:
    """``tests/verification/targets/TARGET`` (PATH.py:NAME, a factory) behind a module convention, here."""
    from gptspec.target import load_object
    from gptspec.verification.conventions import adapt_convention

    factory, _ = load_object(f"{MODULE_TARGETS}/{target}")
    return adapt_convention(convention, factory, label=label, framework=None, guard=_no_guard)


@functools.cache
def nanogpt_module() -> Any:
    """nanoGPT's CausalSelfAttention (tests/verification/targets/nanogpt_module.py) behind fused-linear."""
    return module_convention("nanogpt_module.py:make", "fused-linear", "nanoGPT CausalSelfAttention")


REFERENCES = {"torch_sdpa": torch_sdpa, "numpy_kernel": numpy_kernel, "nanogpt_module": nanogpt_module}

PROVIDES = {
    "torch_sdpa": ("attention_pattern", "attention_head", "cross_attention_head", "multi_head_attention",
                   "batched_attention", "sdpa_kernel"),
    "numpy_kernel": ("attention_pattern", "attention_head", "cross_attention_head", "multi_head_attention",
                     "batched_attention", "sdpa_kernel"),
    "nanogpt_module": ("multi_head_attention", "batched_multi_head_attention"),
}
"""What each reference provides (known before it is built, so collecting the tests imports no torch):
a reference satisfies the properties of a family it provides the functions for."""
