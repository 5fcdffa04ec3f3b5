"""Options shared by sub-commands: choosing a config by name, file or flags."""

from __future__ import annotations

import argparse

from ..spec import Config, config_from_file, config_from_mapping, get_config
from ..spec.config import FIELDS

__all__ = ["add_config_options", "config_from_args"]


def add_config_options(parser: argparse.ArgumentParser, default: str = "gpt3") -> None:
    group = parser.add_argument_group("config", "a preset, a JSON file, and/or single sizes overriding it")
    group.add_argument("--config", default=None, metavar="NAME", help=f"preset: gpt3, gpt2-small (default {default})")
    group.add_argument("--config-file", default=None, metavar="FILE", help="JSON object with the config's fields")
    for field in FIELDS:
        group.add_argument(f"--{field.replace('_', '-')}", dest=field, type=int, default=None, metavar="N")
    parser.set_defaults(_default_config=default)


def config_from_args(args: argparse.Namespace) -> Config:
    """The config the options describe: file or preset as the base, single sizes on top."""
    if args.config_file is not None:
        base = config_from_file(args.config_file)
    else:
        base = get_config(args.config or args._default_config)
    overrides = {f: getattr(args, f) for f in FIELDS if getattr(args, f) is not None}
    if not overrides:
        return base
    return config_from_mapping(overrides, base=base)
