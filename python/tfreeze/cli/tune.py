"""``tfreeze tune MODEL.pb -o tuned.json``: the fastest session configuration."""

from __future__ import annotations

import argparse
from typing import Any

from tfreeze.cli import render
from tfreeze.cli.common import console, positive, print_json

__all__ = ["add_parser"]


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "tune",
        help="find the fastest session configuration for a .pb",
        epilog="examples:\n"
        "  tfreeze tune model.pb -o tuned.json\n"
        "  tfreeze tune model.pb --batch 32 --json",
    )
    p.add_argument("model")
    p.add_argument("--batch", type=positive, default=1)
    p.add_argument("--iterations", type=positive, default=300, help="timed runs per trial")
    p.add_argument("-o", "--output", default="tfreeze-config.json", help="config file to write")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from tfreeze.measure import tune

    with Progress(console=console, transient=True, disable=args.json) as progress:
        task = progress.add_task("tuning", total=None)
        result = tune.tune(
            args.model,
            batch=args.batch,
            iterations=args.iterations,
            progress=lambda label: progress.update(task, description=label),
        )
    document = tune.write_config(result, args.output, model=args.model, batch=args.batch)
    if args.json:
        print_json(document)
        return 0
    console.print(render.tune_table(args.model, result))
    console.print(
        f"wrote {args.output}: use tfreeze.Model(path, config={args.output!r}), "
        f"`--config {args.output}`, or tfreeze::LoadOptionsFile in C++"
    )
    for name, value in result.best.environment.items():
        console.print(
            f"[yellow]start the process with {name}={value}[/yellow] "
            "(TensorFlow reads it at start-up)"
        )
    return 0
