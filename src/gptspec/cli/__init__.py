"""The ``gptspec`` command: one sub-command per module of this package.

Each sub-command module provides ``add_parser(subparsers)`` (which sets ``func``) and returns an
exit status from ``func(args)``: 0 success, 1 a check failed, 2 bad arguments or unloadable input.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from ..spec import SpecError

__all__ = ["main", "build_parser"]

COMMANDS = ("explain", "plot", "verify", "check")


def build_parser(commands: Sequence[str] = COMMANDS) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gptspec",
        description="The shapes of a GPT transformer as a typed, checked, provable specification.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in commands:
        importlib.import_module(f"{__name__}.{name}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # import only the sub-command asked for: each pulls in its own dependencies (verify:
    # Hypothesis, explain: rich), and `gptspec check` is meant to finish in well under a second
    parser = build_parser([argv[0]] if argv and argv[0] in COMMANDS else COMMANDS)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad arguments, 0 on --help
        return int(exc.code or 0)
    try:
        return int(args.func(args))
    except SpecError as exc:
        print(f"gptspec {args.command}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `gptspec explain | head`: the reader left; say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
