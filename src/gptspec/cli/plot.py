"""``gptspec plot temperature|pattern|heads --out FILE.png``: pictures of the reference."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .. import plots

KINDS = ("temperature", "pattern", "heads")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "plot", help="draw temperature, an attention pattern, or several heads to a PNG (needs gptspec[plot])"
    )
    p.add_argument("kind", choices=KINDS, help="temperature: softmax(logits/T) at T = 0.25, 0.5, 1, 2; "
                   "pattern: one causal attention pattern; heads: several heads side by side")
    p.add_argument("--out", default=None, metavar="FILE.png", help="where to write the PNG (default KIND.png)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random logits / embeddings / weights (default 0)")
    p.add_argument("--ctx", type=int, default=len(plots.WORDS), help="positions in a pattern (default %(default)s)")
    p.add_argument("--heads", type=int, default=plots.PLOT_CONFIG.n_heads, help="heads to draw (default %(default)s)")
    p.add_argument("--vocab", type=int, default=plots.PLOT_CONFIG.vocab,
                   help="tokens in the logit vector (default %(default)s)")
    p.set_defaults(func=run)


def figure(args: argparse.Namespace) -> Any:
    """The figure ``args.kind`` asks for."""
    if args.kind == "temperature":
        return plots.temperature_figure(plots.demo_logits(args.vocab, args.seed))
    config = plots.PLOT_CONFIG.replace(n_heads=args.heads, n_ctx=max(args.ctx, 1))
    patterns = plots.head_patterns(config, args.ctx, args.seed)
    if args.kind == "pattern":
        return plots.pattern_figure(patterns[0])
    return plots.heads_figure(patterns)


def run(args: argparse.Namespace) -> int:
    for name in ("ctx", "heads", "vocab"):
        if getattr(args, name) < 1:
            print(f"gptspec plot: --{name} must be at least 1, got {getattr(args, name)}", file=sys.stderr)
            return 2
    out = args.out or f"{args.kind}.png"
    try:
        plots.save(figure(args), out)
    except plots.MissingExtraError as exc:
        print(f"gptspec plot: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"gptspec plot: cannot write {out}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0
