"""The ``tfreeze`` command line: one module per command, each declaring its
own arguments (``add_parser``) and its handler; ``render`` draws the tables.

Nothing else in the package imports this one.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from tfreeze._version import __version__
from tfreeze.cli import (
    bench,
    demo,
    export,
    freeze,
    graph,
    inspect,
    parity,
    run,
    serve,
    tune,
    verify,
)
from tfreeze.errors import Error

__all__ = ["build_parser", "main"]

# In the order `tfreeze --help` lists them.
_COMMANDS = (freeze, inspect, graph, run, verify, parity, bench, tune, serve, export, demo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tfreeze",
        description="Freeze TensorFlow/Keras models into one .pb and run them from C++.",
    )
    parser.add_argument("--version", action="version", version=f"tfreeze {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in _COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # TensorFlow's C++ start-up chatter (oneDNN, CPU features) drowns the
    # output; users can still ask for it with TF_CPP_MIN_LOG_LEVEL=0.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # for a command that must start itself again (cli.common.rerun_with)
    try:
        return args.handler(args)
    except (Error, OSError, ValueError) as error:
        print(f"tfreeze {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
