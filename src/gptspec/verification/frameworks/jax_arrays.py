"""JAX: every NumPy array becomes a ``jax.Array`` on the CPU (``jnp.asarray``), and the JAX arrays
that come back become NumPy arrays; a one-element integer array where the spec returns ``int``
(``sample``) becomes that int. The ``rng`` of ``sample`` stays a ``numpy.random.Generator``.

JAX computes in float32 unless 64-bit mode is on (``jax.config.update("jax_enable_x64", True)``,
or ``JAX_ENABLE_X64=1``): without it a float64 array becomes float32 on the way in. So a target's
module that does not enable it declares the float32 domain (:func:`dtypes`, read after the module
is imported): the search draws float32 only, and the report says so, rather than failing every
float64 example on a precision the target never had.

jax is imported by these functions only, in the target's process."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from . import Framework

__all__ = ["FRAMEWORK", "to_jax", "from_jax", "dtypes"]


def _jax() -> Any:
    import jax  # imported only when the jax framework is used

    return jax


def to_jax(value: Any) -> Any:
    """``jnp.asarray(value)`` for a NumPy array (float64 stays float64 only in 64-bit mode)."""
    if isinstance(value, np.ndarray):
        return _jax().numpy.asarray(value)
    return value


def from_jax(value: Any, integer: bool) -> Any:
    """A JAX array as a NumPy array of its own (writable), or as an int where ``integer`` and it is
    one integer; anything else unchanged."""
    jax = sys.modules.get("jax")
    if jax is None or not isinstance(value, jax.Array):
        return value
    if integer and value.size == 1 and np.issubdtype(value.dtype, np.integer):
        return int(value.item())
    return np.array(value)


def dtypes() -> tuple[str, ...]:
    """``("float32",)`` unless JAX's 64-bit mode is on: the dtypes a JAX target computes in."""
    jax = sys.modules.get("jax")
    if jax is None or jax.config.read("jax_enable_x64"):
        return ()
    return ("float32",)


FRAMEWORK = Framework(
    name="jax", values="JAX arrays", libraries=("jax", "jaxlib"), needs="JAX",
    shapes_only="for JAX, jax.eval_shape runs your functions on shapes alone",
    load=_jax, to_native=to_jax, from_native=from_jax, declared=dtypes,
)
