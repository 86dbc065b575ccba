"""``tfreeze inspect MODEL.pb``: a frozen model's inputs and outputs."""

from __future__ import annotations

import argparse
from typing import Any

from tfreeze.cli import render
from tfreeze.cli.common import console, print_json

__all__ = ["add_parser"]


def add_parser(commands: Any) -> None:
    p = commands.add_parser("inspect", help="print a .pb's inputs and outputs")
    p.add_argument("model")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tfreeze.runtime import Model

    model = Model(args.model)
    signature = {
        "inputs": [spec.as_dict() for spec in model.inputs],
        "outputs": [spec.as_dict() for spec in model.outputs],
    }
    if args.json:
        print_json(signature)
    else:
        console.print(render.signature_table(model, args.model))
    return 0
