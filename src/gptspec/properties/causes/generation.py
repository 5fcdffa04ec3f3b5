"""generate's draw: the first position's logits, the temperature multiplied, top_k + 1 kept, T = 0 sampling.

A model family's ``generate`` draws, so a change to it is a change of its draw rule
(:data:`gptspec.properties.generation.Rule`: which column of the logits, at which T, over how many of
the largest), put into the changed reference as ``next_token_rule``; the diagnosis asks whether the
target's tokens can come from it (:func:`gptspec.properties.generation.follows`), with the properties'
own tests. Deterministic changes come first: of two that fit, the one with no randomness is named.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .base import Namespace, cause

__all__ = ["GENERATE", "RULE"]

GENERATE = ("generate",)
RULE = "next_token_rule"
"""The changed reference's name for its draw rule (absent: the spec's)."""

Pick = tuple[np.ndarray, float, "int | None"]


def _rule(rule: Callable[[np.ndarray, float, int | None], Pick]) -> Callable[[Namespace, str, float],
                                                                            dict[str, Callable[..., Any]]]:
    def change(g: Namespace, fn: str, p: float) -> dict[str, Callable[..., Any]]:
        return {RULE: rule}

    return change


cause("generate-first-position", "generate draws from the first position's logits, not the last's (logits[:, 0] "
      "for logits[:, -1])", GENERATE)(_rule(lambda L, T, k: (L[:, 0], T, k)))
cause("generate-temperature-multiplied", "generate multiplies the logits by the temperature (softmax(logits · T)), "
      "not divides them", GENERATE)(_rule(lambda L, T, k: (L[:, -1], 1 / T if T else 0.0, k)))
cause("generate-top-k-plus-one", "generate keeps the top_k + 1 largest logits, not the top_k largest", GENERATE)(
    _rule(lambda L, T, k: (L[:, -1], T, None if k is None else k + 1)))
cause("generate-greedy-samples", "generate samples at T = 0 (from softmax(logits), as with do_sample left on) "
      "instead of taking the argmax", GENERATE)(_rule(lambda L, T, k: (L[:, -1], T or 1.0, k)))
