"""``tfreeze parity SOURCE MODEL.pb``: C++ vs Python's run of the .pb vs the source."""

from __future__ import annotations

import argparse
from typing import Any

from tfreeze.cli import render
from tfreeze.cli.common import (
    add_unsafe_argument,
    console,
    names,
    positive,
    print_json,
    unsafe_allowance,
)

__all__ = ["add_parser"]


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "parity",
        help="compare C++, Python-.pb and source-model outputs",
        epilog="examples:\n"
        "  tfreeze parity model.keras model.pb\n"
        "  tfreeze parity model.ckpt.meta model.pb --batch 8 --json",
    )
    p.add_argument("source", help="the model the .pb was frozen from (any freeze source)")
    p.add_argument("model", help="the frozen .pb")
    p.add_argument("--checkpoint", help="as given to freeze (GraphDef sources)")
    p.add_argument("--signature", help="as given to freeze (SavedModel sources)")
    p.add_argument("--output-names", help="as given to freeze (TF1 graphs: the output nodes)")
    p.add_argument("--batch", type=positive, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rtol", type=float, default=1e-5)
    p.add_argument("--atol", type=float, default=1e-6)
    add_unsafe_argument(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run)


def _source_options(args: argparse.Namespace) -> dict[str, Any]:
    given = {
        "checkpoint": args.checkpoint,
        "signature_name": args.signature,
        "output_names": names(args.output_names),
    }
    return {key: value for key, value in given.items() if value is not None}


def run(args: argparse.Namespace) -> int:
    from tfreeze.measure.parity import check_parity

    report = check_parity(
        args.source,
        args.model,
        batch_size=args.batch,
        seed=args.seed,
        rtol=args.rtol,
        atol=args.atol,
        source_options=_source_options(args),
        allow_unsafe_ops=unsafe_allowance(args),
    )
    if args.json:
        print_json(report.as_dict())
    else:
        console.print(render.parity_table(report))
    return 0 if report.passed else 1
