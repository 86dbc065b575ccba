"""``tfreeze inspect MODEL.pb``: a frozen model's inputs and outputs, its op
types and its parameter count."""

from __future__ import annotations

import argparse
from typing import Any

from tfreeze.cli import render
from tfreeze.cli.common import console, print_json

__all__ = ["add_parser"]


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "inspect",
        help="print a .pb's inputs and outputs, op counts, parameters, and any ops that reach "
        "outside the model",
        epilog="examples:\n  tfreeze inspect model.pb\n  tfreeze inspect model.pb --json",
    )
    p.add_argument("model")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import os

    from tfreeze.runtime import inspect_file

    # Read without a session, a SavedModel's too: none of its restore or init
    # ops run, so this is the safe first look at a file.
    described = inspect_file(args.model)
    unsafe = described.unsafe_ops
    stats = None if os.path.isdir(args.model) else _stats(args.model)
    if args.json:
        print_json(
            {
                "inputs": [spec.as_dict() for spec in described.inputs],
                "outputs": [spec.as_dict() for spec in described.outputs],
                "unsafe_ops": unsafe,
                **(stats.as_dict() if stats else {}),
            }
        )
    else:
        console.print(render.signature_table(described, args.model))
        if stats:
            console.print(render.op_histogram_table(stats))
        if unsafe:
            console.print(render.unsafe_ops_table(unsafe))
    return 0


def _stats(path: str) -> Any:
    """Op histogram and parameters, read from the proto: nothing in it runs."""
    from tfreeze.graphview import graph_stats, read_graph_def

    return graph_stats(read_graph_def(path))
