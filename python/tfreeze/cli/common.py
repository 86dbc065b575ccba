"""What every command shares: the console, JSON output, list and number arguments."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from typing import Any

from rich.console import Console

__all__ = [
    "add_unsafe_argument",
    "console",
    "int_list",
    "names",
    "positive",
    "print_json",
    "printable",
    "require_modules",
    "rerun_with",
    "unsafe_allowance",
]

# A terminal: rich fits tables to its width. Anything else (a pipe, a file, a
# CI log) has no width to fit, and rich's default there, COLUMNS or 80, cut
# headers and numbers to "…": tables keep their natural width instead, up to this.
_WIDTH_WHEN_NOT_A_TERMINAL = 200

console = Console(width=None if sys.stdout.isatty() else _WIDTH_WHEN_NOT_A_TERMINAL)

# C0 and C1 control characters: ESC starts the sequences that clear a screen
# or retitle a terminal, a newline would split a one-line error.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` with each control character shown as \\xNN: names read from a
    file are printed, never obeyed by the terminal."""
    return _CONTROL_CHARACTERS.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


def names(text: str | None) -> list[str] | None:
    """``a, b`` -> ["a", "b"]; None stays None (the option was not given)."""
    return None if text is None else [name.strip() for name in text.split(",")]


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=_json_value))


def _json_value(value: Any) -> Any:
    """Bytes (string tensors) as text, or as TF Serving writes binary: {"b64": ...}."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            import base64

            return {"b64": base64.b64encode(value).decode("ascii")}
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None
    if any(value < 1 for value in values):
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return values


def rerun_with(environment: dict[str, str], args: argparse.Namespace, *, reason: str) -> int:
    """Runs this same command again in a fresh process with ``environment`` set,
    for settings TensorFlow reads only when it loads; returns its exit code."""
    settings = " ".join(f"{name}={value}" for name, value in environment.items())
    print(
        f"tfreeze {args.command}: starting a fresh process with {settings} ({reason})",
        file=sys.stderr,
    )
    command = [sys.executable, "-m", "tfreeze", *args.argv]
    return subprocess.run(command, env={**os.environ, **environment}, check=False).returncode


def add_unsafe_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-unsafe-ops",
        nargs="?",
        const="all",
        metavar="OPS",
        help="run a graph holding ops that touch files, the network or the process: the named "
        "ops (comma-separated), or all of them with no value. Only for files you trust",
    )


def unsafe_allowance(args: argparse.Namespace) -> bool | list[str]:
    """``--allow-unsafe-ops`` as the ``allow_unsafe_ops`` keyword takes it."""
    given = args.allow_unsafe_ops
    if given is None:
        return False
    return True if given == "all" else names(given)


def require_modules(modules: dict[str, str], *, purpose: str) -> None:
    """Fails at once, in one line, when an optional package is missing: not
    after minutes of work, not with a traceback. ``modules``: import name ->
    the extra (pyproject.toml) that brings it."""
    import importlib.util

    missing = {
        name: extra for name, extra in modules.items() if importlib.util.find_spec(name) is None
    }
    if missing:
        extras = ",".join(dict.fromkeys(missing.values()))
        raise ValueError(
            f"{purpose} needs {' and '.join(missing)}: pip install {' '.join(missing)} (or, from "
            f'the tfreeze checkout, pip install ".[{extras}]")'
        )
