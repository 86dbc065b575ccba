"""``tfreeze inspect MODEL.pb``: a frozen model's inputs and outputs, its op
types and its parameter count, ops that reach outside the model and constants
TensorFlow would fill in to more than the file holds."""

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
    constants = {
        "expanded_constants": described.expanded_constants,
        "constant_limit_bytes": described.constant_limit_bytes,
    }
    stats = None if os.path.isdir(args.model) else _stats(args.model)
    if args.json:
        print_json(
            {
                "inputs": [spec.as_dict() for spec in described.inputs],
                "outputs": [spec.as_dict() for spec in described.outputs],
                "unsafe_ops": unsafe,
                **constants,
                **(stats.as_dict() if stats else {}),
            }
        )
    else:
        console.print(render.signature_table(described, args.model))
        if stats:
            console.print(render.op_histogram_table(stats))
        if unsafe:
            console.print(render.unsafe_ops_table(unsafe))
        if constants["expanded_constants"]:
            console.print(_expanded_constants_table(**constants))
    return 0


def _expanded_constants_table(
    expanded_constants: list[dict[str, Any]], constant_limit_bytes: int
) -> Any:
    from rich.table import Table

    total = sum(entry["bytes"] for entry in expanded_constants)
    verdict = (
        f"[red]{total} bytes in all: refused at load[/red] (over {constant_limit_bytes}; "
        "raise max_constant_bytes for a file you trust)"
        if total > constant_limit_bytes
        else f"loads: under the default limit of {constant_limit_bytes} bytes"
    )
    table = Table(title=f"constants TensorFlow fills in at load ({verdict})")
    for column in ("node", "dtype", "shape", "bytes in file", "bytes in memory"):
        table.add_column(column)
    for entry in expanded_constants:
        where = entry["node"] + (f" (in {entry['function']})" if entry["function"] else "")
        shape = "[" + ", ".join(map(str, entry["shape"])) + "]"
        table.add_row(
            render.shown(where),
            entry["dtype"],
            shape,
            str(entry["bytes_in_file"]),
            str(entry["bytes"]),
        )
    return table


def _stats(path: str) -> Any:
    """Op histogram and parameters, read from the proto: nothing in it runs."""
    from tfreeze.graphview import graph_stats, read_graph_def

    return graph_stats(read_graph_def(path))
