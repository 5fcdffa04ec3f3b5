"""The one exception hierarchy of gptspec.

Every error gptspec raises on purpose is a :class:`SpecError`. Subclasses are also the builtin
exception a Python user would expect (``ValueError`` for bad values and shapes, ``TypeError`` for
wrong kinds of object), so ``except ValueError`` keeps working. Messages name the function, the
argument, the axis symbol, the expected size and what bound it, and the size received; they never
print array contents.
"""

from __future__ import annotations

__all__ = [
    "SpecError",
    "ShapeError",
    "DtypeError",
    "ArgumentTypeError",
    "ConfigError",
    "ContextLengthError",
    "TokenError",
    "TemperatureError",
    "SoftmaxInputError",
]


class SpecError(Exception):
    """Base class of every error gptspec raises about input that breaks the spec."""


class ShapeError(SpecError, ValueError):
    """An array has the wrong number of axes, or an axis has the wrong size."""


class ContextLengthError(ShapeError):
    """ctx is 0, or larger than n_ctx of the bound config."""


class DtypeError(SpecError, TypeError):
    """An array has the wrong kind of dtype (float where int is needed, and so on)."""


class ArgumentTypeError(SpecError, TypeError):
    """A non-array argument has the wrong type (a string temperature, an int for ``causal``)."""


class ConfigError(SpecError, ValueError):
    """A config field is missing, not a positive integer, or inconsistent."""


class TokenError(SpecError, ValueError):
    """Token ids outside [0, vocab): NumPy would wrap a negative id around silently; we refuse."""


class TemperatureError(SpecError, ValueError):
    """A temperature outside its range: softmax needs 0 < T < inf, sample needs 0 <= T <= 2."""


class SoftmaxInputError(SpecError, ValueError):
    """A softmax slice that is all -inf, or holds NaN or +inf: there is no distribution to give."""
