"""gptspec.spec: WHAT the shapes of GPT are.

Dimension symbols, configs (GPT-3, GPT-2 small, custom), jaxtyping aliases for every tensor, the
typed signature of every function, the weights container, the parameter tally, and the run-time
checker that binds named dims across calls. Depends on nothing else in gptspec.
"""

from . import errors, hints, signatures, types
from .check import (
    bind,
    bound_config,
    check_call,
    check_result,
    checks,
    checks_enabled,
    checks_mode,
    has_values,
    implements,
    located,
    set_checks,
    spec_error,
    spec_of,
)
from .config import GPT2_SMALL, GPT3, PRESETS, Config, config_from_file, config_from_mapping, get_config
from .dims import CONTEXT_DIMS, DIMS, Dim
from .errors import *  # noqa: F403 (every error class: errors.__all__, listed once)
from .signatures import FUNCTIONS, MODEL_FUNCTIONS, SIGNATURES
from .tally import Category, Tally, tally
from .weights import BlockWeights, Weights

__all__ = [
    "errors", "hints", "signatures", "types",
    "bind", "bound_config", "check_call", "check_result", "checks", "checks_enabled", "checks_mode", "has_values",
    "implements", "located", "set_checks", "spec_error", "spec_of",
    "GPT2_SMALL", "GPT3", "PRESETS", "Config", "config_from_file", "config_from_mapping", "get_config",
    "CONTEXT_DIMS", "DIMS", "Dim",
    "FUNCTIONS", "MODEL_FUNCTIONS", "SIGNATURES",
    "Category", "Tally", "tally",
    "BlockWeights", "Weights",
]
__all__ += errors.__all__
