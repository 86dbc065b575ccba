"""``tfreeze graph MODEL.pb -o graph.svg``: draw a frozen graph (Graphviz), or
write it for TensorBoard."""

from __future__ import annotations

import argparse
from typing import Any

from tfreeze.cli.common import console, names, print_json

__all__ = ["add_parser"]


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "graph",
        help="draw a .pb's graph (.svg, .png, .dot; name scopes collapsed) or write it for "
        "TensorBoard",
        epilog="examples:\n  tfreeze graph model.pb -o graph.svg\n"
        "  tfreeze graph model.pb -o both.svg --compare unoptimized.pb --json\n"
        "  tfreeze graph model.pb --tensorboard logs",
    )
    p.add_argument("model", help="a frozen .pb")
    p.add_argument("-o", "--output", metavar="FILE", help="graph.svg, graph.png or graph.dot")
    opened = p.add_mutually_exclusive_group()
    opened.add_argument(
        "--expand", metavar="SCOPE[,SCOPE]", help="draw these top-level scopes node by node"
    )
    opened.add_argument("--expand-all", action="store_true", help="draw every node")
    p.add_argument("--compare", metavar="OTHER.pb", help="draw OTHER.pb beside it; diff op counts")
    p.add_argument(
        "--tensorboard", metavar="LOGDIR", help="write an event file: tensorboard --logdir LOGDIR"
    )
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tfreeze.graphview.draw import ALL, check_output, compare_ops, render, write_drawing
    from tfreeze.graphview.tensorboard import write_tensorboard

    if not args.output and not args.tensorboard:
        raise ValueError(
            "nothing to write: give -o graph.svg|.png|.dot and/or --tensorboard LOGDIR"
        )
    if args.output:  # a bad suffix or a missing dot fails before any work
        check_output(args.output)
    graph = _read_checked(args.model)
    other = _read_checked(args.compare) if args.compare else None
    expand = [ALL] if args.expand_all else (names(args.expand) or [])
    result: dict = {}
    if args.output:
        graphs = [(args.model, graph)] + ([(args.compare, other)] if other is not None else [])
        write_drawing(render(graphs, expand), args.output)
        result["drawing"] = args.output
    if args.tensorboard:
        result["tensorboard_event"] = str(write_tensorboard(graph, args.tensorboard))
    if other is not None:
        result["op_count_changes"] = {
            op: [before, after] for op, before, after in compare_ops(graph, other)
        }
    if args.json:
        print_json(result)
    else:
        _print_result(result, args)
    return 0


def _read_checked(path: str) -> Any:
    """The file's GraphDef once the loader's checks pass: a drawing runs
    nothing, so unsafe ops are allowed (they are drawn in red), but a graph
    crafted to abort TensorFlow is refused here as everywhere else."""
    from tfreeze.graphview.stats import read_graph_def
    from tfreeze.runtime.safety import check_file

    check_file(path, allow=True)
    return read_graph_def(path)


def _print_result(result: dict, args: argparse.Namespace) -> None:
    if "drawing" in result:
        console.print(f"drew {result['drawing']}")
    if "tensorboard_event" in result:
        console.print(
            f"wrote {result['tensorboard_event']}: tensorboard --logdir {args.tensorboard}"
        )
    if "op_count_changes" in result:
        changes = result["op_count_changes"]
        console.print(f"op counts, {args.model} -> {args.compare}:", highlight=False)
        for op, (before, after) in changes.items():
            console.print(f"{op}: {before} -> {after} ({after - before:+d})")
        if not changes:
            console.print("same op counts")
