"""``tfreeze export MODEL.pb --saved-model DIR``: a versioned SavedModel for TF Serving."""

from __future__ import annotations

import argparse
from typing import Any

from tfreeze.cli.common import (
    add_unsafe_argument,
    console,
    positive,
    print_json,
    unsafe_allowance,
)

__all__ = ["add_parser"]


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "export",
        help="write a .pb as a versioned SavedModel (DIR/1/) that TF Serving loads unchanged",
        epilog="examples:\n  tfreeze export model.pb --saved-model models/digits\n"
        "  tfreeze export model.pb --saved-model models/digits --version 2 --json",
    )
    p.add_argument("model", help="a frozen .pb")
    p.add_argument(
        "--saved-model",
        required=True,
        metavar="DIR",
        help="the model's base directory; the version goes in DIR/VERSION/",
    )
    p.add_argument("--version", type=positive, default=1, help="version number (default 1)")
    p.add_argument("--force", action="store_true", help="replace an existing version")
    add_unsafe_argument(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tfreeze.export import export_saved_model

    path = export_saved_model(
        args.model,
        args.saved_model,
        version=args.version,
        force=args.force,
        allow_unsafe_ops=unsafe_allowance(args),
    )
    if args.json:
        print_json({"saved_model": str(path), "signature": "serving_default", "tags": ["serve"]})
    else:
        console.print(f"wrote {path} (signature serving_default, tag serve)")
    return 0
