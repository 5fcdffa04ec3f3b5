"""The context of a checked call: the bound config, and where we are (for error messages).

``with bind(config):`` makes the checker hold every named dim to the config's sizes across calls;
``with located("layer 37"):`` prefixes every error raised inside with where it happened
(``layer 37 › multi_head_attention: ...``). Both are context variables, so threads and tasks
each see their own.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from .config import Config
from .errors import ArgumentTypeError, SpecError

__all__ = ["bind", "bound_config", "located", "spec_error", "CONFIG"]

CONFIG: contextvars.ContextVar[Config | None] = contextvars.ContextVar("gptspec_config", default=None)
"""The config of the innermost ``bind`` (None outside any)."""

_WHERE: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("gptspec_where", default=())


@contextlib.contextmanager
def bind(config: Config) -> Iterator[Config]:
    """Bind the named dims of every checked call in the block to ``config``'s sizes.

    ``with bind(GPT3): impl.embed(tokens, W_E)`` requires W_E to be 12288 × 50257 and
    ``len(tokens) <= 2048``.
    """
    if not isinstance(config, Config):
        raise ArgumentTypeError(f"bind() takes a gptspec Config, got {type(config).__name__}")
    token = CONFIG.set(config)
    try:
        yield config
    finally:
        CONFIG.reset(token)


def bound_config() -> Config | None:
    """The config bound by the innermost ``bind``, or None."""
    return CONFIG.get()


@contextlib.contextmanager
def located(where: str) -> Iterator[None]:
    """Errors raised inside the block say where they happened (``layer 37 › multi_head_attention``)."""
    token = _WHERE.set(_WHERE.get() + (where,))
    try:
        yield
    finally:
        _WHERE.reset(token)


def _prefix(fn_name: str) -> str:
    return " › ".join(_WHERE.get() + (fn_name,))


def spec_error(cls: type[SpecError], fn_name: str, message: str) -> SpecError:
    """An error of class ``cls`` for ``fn_name``, prefixed with where it happened."""
    return cls(f"{_prefix(fn_name)}: {message}")
