"""``tfreeze verify MODEL.pb``: replay the file's stored test vectors in C++."""

from __future__ import annotations

import argparse
from typing import Any

from tfreeze.cli import render
from tfreeze.cli.common import add_unsafe_argument, console, print_json, unsafe_allowance

__all__ = ["add_parser"]


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "verify",
        help="replay the test vectors stored in a .pb, in C++",
        epilog="examples:\n  tfreeze verify model.pb\n  tfreeze verify model.pb --json",
    )
    p.add_argument("model")
    add_unsafe_argument(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tfreeze.runtime import Model

    report = Model(args.model, allow_unsafe_ops=unsafe_allowance(args)).verify()
    if args.json:
        print_json(report)
    else:
        console.print(render.verify_table(args.model, report))
    return 0 if report["passed"] else 1
