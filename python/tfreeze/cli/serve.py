"""``tfreeze serve MODEL.pb [--name N] [--port 8501]``: TF Serving's REST API, from C++.

The server is the C++ program ``tfreeze-serve``, built into the package beside
``_core``. This command only finds it and hands over the process (``exec``), so
its options, its exit codes and signals (SIGTERM stops it gracefully) are the
program's own; ``tfreeze serve --help`` shows them.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "server_path"]

_PROGRAM = "tfreeze-serve"


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "serve",
        help="serve a .pb over TF Serving's REST API (C++)",
        epilog="examples:\n  tfreeze serve model.pb --port 8501\n"
        "  tfreeze serve model.pb --name digits -v",
        add_help=False,  # --help is the server's own
        prefix_chars="\0",  # every argument goes to the server unparsed
    )
    p.add_argument("arguments", nargs=argparse.REMAINDER)
    p.set_defaults(handler=serve)


def server_path() -> Path:
    """The ``tfreeze-serve`` program: the package's own, else one on PATH."""
    bundled = Path(__file__).resolve().parent.parent / _PROGRAM
    if bundled.is_file() and os.access(bundled, os.X_OK):
        return bundled
    found = shutil.which(_PROGRAM)
    if found:
        return Path(found)
    raise OSError(
        f"{_PROGRAM} is not in this installation: it is built with tfreeze when cpp-httplib "
        "is found; install it (Debian: apt-get install libcpp-httplib-dev pkg-config) and "
        "reinstall tfreeze (`make setup` in a checkout does both)"
    )


def serve(args: argparse.Namespace) -> int:
    program = str(server_path())
    os.execv(program, [program, *args.arguments])  # does not return
    return 0  # pragma: no cover
