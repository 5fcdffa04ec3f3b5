"""``gptspec check``: the whole forward pass at full size on shape-only arrays, every shape checked.

Exit status: 0 every shape matched the spec, 1 one did not (the message names layer, function and
dim), 2 bad arguments or a target that cannot be loaded.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from typing import Any

from ..spec import Config, SpecError
from .options import add_config_options, config_from_args

FLOWS = ("ops", "calls", "none")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "check",
        help="run the whole forward pass at full size on shape-only arrays, every shape checked",
        description="Run embed → every block → unembed at full size on shape-only arrays (a few bytes "
        "each), checking every call against the spec's typed signatures with the config bound.",
    )
    add_config_options(p)
    p.add_argument("--ctx", type=int, default=None, help="tokens in the call (default n_ctx)")
    p.add_argument("--target", default=None, metavar="MODULE_OR_PY_PATH",
                   help="your NumPy implementation: its functions replace the reference's where it has them")
    p.add_argument("--layout", choices=("columns", "rows"), default="columns",
                   help="the target's layout; check supports columns (the spec's: tokens are columns)")
    p.add_argument("--flow", choices=FLOWS, default="ops",
                   help="shape flow of one block: every operation, only the calls, or none (default ops)")
    p.set_defaults(func=run)


def _usage_error(message: str) -> int:
    print(f"gptspec check: {message}", file=sys.stderr)
    return 2


def _load_target(path: str | None) -> Any:
    """The target object, or None; a target of another framework than NumPy is refused: shape-only arrays
    are NumPy arrays."""
    if path is None:
        return None
    from ..target import MODELS, TargetError, load  # only needed with --target
    from ..verification.frameworks import detect

    if path in MODELS:
        raise TargetError(f"{path} is {MODELS[path][1]}, which computes with torch; check runs NumPy implementations "
                          "on shape-only arrays (verify it with gptspec verify)")
    target = load(path)
    framework = detect(target.obj, target.provides)
    if framework.converts:
        raise TargetError(f"{path} uses {framework.name}; check runs NumPy implementations on shape-only arrays "
                          f"({framework.shapes_only})")
    return target.obj


def _peak_rss() -> int:
    """Peak resident set size of this process in bytes (Linux reports KiB)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib if sys.platform == "darwin" else kib * 1024


def _header(config: Config, ctx: int) -> str:
    c = config
    return (
        f"gptspec check: {c.name} — vocab {c.vocab:,}, d_model {c.d_model:,}, {c.n_heads} heads of {c.d_head}, "
        f"n_ctx {c.n_ctx:,}, {c.n_layers} layers, d_mlp {c.d_mlp:,}; ctx {ctx:,}"
    )


def run(args: argparse.Namespace) -> int:
    from ..symbolic.forward import check_alone, check_forward
    from ..symbolic.report import block_flow, layer_events, render_flow, render_memory

    config = config_from_args(args)
    ctx = config.n_ctx if args.ctx is None else args.ctx
    if not 1 <= ctx <= config.n_ctx:
        return _usage_error(f"--ctx must satisfy 1 <= ctx <= n_ctx = {config.n_ctx}, got {ctx}")
    if args.layout != "columns":
        return _usage_error("--layout rows is not supported by check: give a columns-layout target "
                            "(gptspec verify --layout rows adapts a rows target for the property checks)")
    try:
        target = _load_target(args.target)
    except SpecError as exc:
        return _usage_error(str(exc))

    print(_header(config, ctx))
    start = time.perf_counter()
    runs = []
    for dtype in ("float32", "float16"):  # the weights' dtype; each run measures its own activations
        try:
            runs.append(check_forward(config, ctx, target, dtype))
        except SpecError as exc:
            print(f"FAILED at full size ({dtype} weights): {exc}")
            return 1
    try:
        alone = check_alone(target, config, ctx) if target is not None else ()
    except SpecError as exc:
        print(f"FAILED at full size: {exc}")
        return 1
    seconds = time.perf_counter() - start
    shown = runs[0]  # float32: its flow is printed

    print(f"forward pass: {', '.join(f'{n} ({s})' for n, s in shown.sources.items())}")
    if alone:
        print(f"also called once at full size: {', '.join(alone)}")
    if callable(getattr(target, "sample", None)):
        print("not checked here: sample (it needs values: an argmax or a random draw)")
    if args.flow != "none":
        print(f"\nshape flow of one block, as observed (layer 0; all {config.n_layers} layers checked):")
        print(render_flow(block_flow(layer_events(shown.recorder.events)), calls_only=args.flow == "calls"))
    print(f"\nmemory:\n{render_memory(runs, _peak_rss(), seconds)}")
    logits = " × ".join(f"{n:,}" for n in shown.logits_shape)
    print(f"\npassed: {config.n_layers} layers, logits [vocab ctx] = {logits}, every call matched the spec "
          "(float32 and float16 weights)")
    return 0
