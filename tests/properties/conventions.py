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


REFERENCES = {"torch_sdpa": torch_sdpa, "numpy_kernel": numpy_kernel}
