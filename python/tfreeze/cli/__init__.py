"""The ``tfreeze`` command line: one module per command, each declaring its
own arguments (``add_parser``, with an epilog of example lines) and its
handler; ``render`` draws the tables.

What every command gets from here: ``-v/--verbose`` (TensorFlow's log lines,
hidden otherwise: ``logs``), help that keeps the epilog's example lines as
written, and exit codes 0 ok / 1 a check failed / 2 usage or input error /
130 interrupted, each failure one line on stderr.

Nothing else in the package imports this one.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tfreeze._version import __version__
from tfreeze.cli import (
    bench,
    compile,
    completion,
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
from tfreeze.cli.common import printable
from tfreeze.cli.logs import tensorflow_logs
from tfreeze.errors import Error

__all__ = ["build_parser", "main"]

# In the order `tfreeze --help` lists them.
_COMMANDS = (
    freeze,
    inspect,
    graph,
    run,
    verify,
    parity,
    bench,
    tune,
    compile,
    serve,
    export,
    demo,
    completion,
)

_VERBOSE_HELP = "show TensorFlow's own log lines (hidden by default; errors always show)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tfreeze",
        description="Freeze TensorFlow/Keras models into one .pb and run them from C++.",
        epilog="examples:\n"
        "  tfreeze freeze model.keras -o model.pb\n"
        "  tfreeze inspect model.pb\n"
        "  tfreeze run model.pb --input images.npy\n"
        "  tfreeze COMMAND --help    (each command's options and examples)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tfreeze {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help=_VERBOSE_HELP)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in _COMMANDS:
        command.add_parser(commands)
    for subparser in commands.choices.values():
        # Example lines in the epilog stay as written.
        subparser.formatter_class = argparse.RawDescriptionHelpFormatter
        if "-" not in subparser.prefix_chars:
            continue  # hands every argument to another program (serve), -v too
        # Also after the command (`tfreeze inspect m.pb -v`); SUPPRESS keeps a
        # -v given before the command.
        subparser.add_argument(
            "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=_VERBOSE_HELP
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)  # --help and usage errors end here, TensorFlow unloaded
    args.argv = argv  # for a command that must start itself again (cli.common.rerun_with)
    args.parser = parser  # for `completion`, which writes the whole parser out
    try:
        with tensorflow_logs(verbose=args.verbose):
            return args.handler(args)
    except (Error, OSError, ValueError) as error:
        print(f"tfreeze {args.command}: error: {printable(str(error))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"tfreeze {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # TensorFlow's own, or a bug: still one line
        if args.verbose:
            raise
        first = printable((str(error).strip().splitlines() or [""])[0])
        print(
            f"tfreeze {args.command}: error: {type(error).__name__}: {first} "
            "(unexpected; rerun with --verbose for the traceback)",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
