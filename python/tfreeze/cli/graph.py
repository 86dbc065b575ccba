"""``tfreeze graph MODEL.pb -o graph.svg``: draw a frozen graph (Graphviz), or
write it for TensorBoard."""

from __future__ import annotations

import argparse
from typing import Any

from tfreeze.cli.common import console, names

__all__ = ["add_parser"]


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "graph",
        help="draw a .pb's graph (.svg, .png, .dot; name scopes collapsed) or write it for "
        "TensorBoard",
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
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tfreeze.graphview.draw import ALL, check_output, compare_ops, render, write_drawing
    from tfreeze.graphview.stats import read_graph_def
    from tfreeze.graphview.tensorboard import write_tensorboard

    if not args.output and not args.tensorboard:
        raise ValueError(
            "nothing to write: give -o graph.svg|.png|.dot and/or --tensorboard LOGDIR"
        )
    if args.output:  # a bad suffix or a missing dot fails before any work
        check_output(args.output)
    graph = read_graph_def(args.model)
    other = read_graph_def(args.compare) if args.compare else None
    expand = [ALL] if args.expand_all else (names(args.expand) or [])
    if args.output:
        graphs = [(args.model, graph)] + ([(args.compare, other)] if other is not None else [])
        write_drawing(render(graphs, expand), args.output)
        console.print(f"drew {args.output}")
    if args.tensorboard:
        event = write_tensorboard(graph, args.tensorboard)
        console.print(f"wrote {event}: tensorboard --logdir {args.tensorboard}")
    if other is not None:
        changes = compare_ops(graph, other)
        console.print(f"op counts, {args.model} -> {args.compare}:", highlight=False)
        for op, before, after in changes:
            console.print(f"{op}: {before} -> {after} ({after - before:+d})")
        if not changes:
            console.print("same op counts")
    return 0
