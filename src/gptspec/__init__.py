"""gptspec: the shapes of a GPT transformer as a typed, checked, provable specification.

- :mod:`gptspec.spec` — WHAT: dims, configs, jaxtyping signatures, weights container, tally.
- :mod:`gptspec.impl` — HOW: the NumPy reference, checked against the spec on every call.
- :mod:`gptspec.properties` — WHY: Hypothesis properties of any implementation.

Orientation is the video's: columns are tokens, the attention pattern is keys × queries with
softmax down each column and the lower-left masked.
"""

from .spec import GPT2_SMALL, GPT3, BlockWeights, Config, Weights, bind, checks, checks_enabled, checks_mode
from .spec import errors as _errors
from .spec import get_config, set_checks, tally
from .spec.errors import *  # noqa: F403 (every error class: spec.errors.__all__, listed once)

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # at run time gptspec.verify is imported on first use (see __getattr__)
    from .verification import verify

__version__ = "0.1.0"

__all__ = [
    "GPT2_SMALL", "GPT3", "Config", "get_config", "tally", "BlockWeights", "Weights",
    "bind", "checks", "checks_enabled", "checks_mode", "set_checks",
    "__version__", "verify",
]
__all__ += _errors.__all__


def __getattr__(name: str) -> object:
    """``gptspec.verify`` is imported on first use: it pulls in Hypothesis and the catalogue."""
    if name == "verify":
        from .verification import verify

        return verify
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
