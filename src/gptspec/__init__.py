"""gptspec: the shapes of a GPT transformer as a typed, checked, provable specification.

- :mod:`gptspec.spec` — WHAT: dims, configs, jaxtyping signatures, weights container, tally.
- :mod:`gptspec.impl` — HOW: the NumPy reference, checked against the spec on every call.
- :mod:`gptspec.properties` — WHY: Hypothesis properties of any implementation.

Orientation is the video's: columns are tokens, the attention pattern is keys × queries with
softmax down each column and the lower-left masked.
"""

from .spec import (
    GPT2_SMALL,
    GPT3,
    ArgumentTypeError,
    BlockWeights,
    Config,
    ConfigError,
    ContextLengthError,
    DtypeError,
    ShapeError,
    SoftmaxInputError,
    SpecError,
    TemperatureError,
    TokenError,
    Weights,
    bind,
    checks,
    checks_enabled,
    checks_mode,
    get_config,
    set_checks,
    tally,
)

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # at run time gptspec.verify is imported on first use (see __getattr__)
    from .verification import verify

__version__ = "0.1.0"

__all__ = [
    "GPT2_SMALL", "GPT3", "Config", "get_config", "tally", "BlockWeights", "Weights",
    "bind", "checks", "checks_enabled", "checks_mode", "set_checks",
    "SpecError", "ShapeError", "ContextLengthError", "DtypeError", "ArgumentTypeError", "ConfigError",
    "TokenError", "TemperatureError", "SoftmaxInputError",
    "__version__", "verify",
]


def __getattr__(name: str) -> object:
    """``gptspec.verify`` is imported on first use: it pulls in Hypothesis and the catalogue."""
    if name == "verify":
        from .verification import verify

        return verify
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
