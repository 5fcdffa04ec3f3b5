"""PyTorch: every NumPy array becomes a CPU tensor of the same dtype, and the tensors that come back
become NumPy arrays; a one-element integer tensor where the spec returns ``int`` (``sample``) becomes
that int. The ``rng`` of ``sample`` stays a ``numpy.random.Generator``: draw from it or seed torch
from it. A target process computes on one torch thread (:func:`one_thread`).

torch is imported by these functions only, in the target's process."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from . import Framework

__all__ = ["FRAMEWORK", "to_tensor", "from_tensor", "one_thread"]


def _torch() -> Any:
    import torch  # imported only when the torch framework is used

    return torch


def to_tensor(value: Any) -> Any:
    """A CPU tensor of the same dtype (bool, int64, float16/32/64), contiguous, on the array's memory
    when it already is contiguous: every call's arrays are the target process's own copies."""
    if isinstance(value, np.ndarray):
        return _torch().from_numpy(np.ascontiguousarray(value))
    return value


def from_tensor(value: Any, integer: bool) -> Any:
    """A tensor as a NumPy array (detached, on the CPU), or as an int where ``integer`` and it is one
    integer; anything else unchanged."""
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(value, torch.Tensor):
        return value
    if integer and value.numel() == 1 and not value.dtype.is_floating_point:
        return int(value.item())
    return value.detach().cpu().resolve_conj().resolve_neg().numpy()


def one_thread() -> None:
    """A torch target computes on one thread: the examples are tiny, and torch's pool on every core
    in each target process (one per --jobs worker) oversubscribed the cores; one thread also keeps
    the bits independent of the machine's core count. Also for a target that computes with torch
    inside (a whole model), so it acts whenever torch is imported."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


FRAMEWORK = Framework(
    name="torch", values="torch tensors", libraries=("torch",), needs="PyTorch",
    shapes_only="for torch, run your model on the meta device",
    load=_torch, to_native=to_tensor, from_native=from_tensor, set_up=one_thread,
)
