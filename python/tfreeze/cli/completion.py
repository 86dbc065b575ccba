"""``tfreeze completion bash|zsh|fish``: a shell completion script, printed.

shtab writes the script from the argparse parser itself, once: completing a
word later is the shell's own work, with no Python (and no TensorFlow) started
per key press, unlike argcomplete, which runs the program on every TAB.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_parser"]

SHELLS = ("bash", "zsh", "fish")


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh or fish)",
        description="Prints a completion script for the shell: commands, options and "
        "file names complete with TAB.",
        epilog="examples:\n"
        "  tfreeze completion bash > ~/.local/share/bash-completion/completions/tfreeze\n"
        "  tfreeze completion zsh > ~/.zfunc/_tfreeze      # with fpath+=~/.zfunc\n"
        "  tfreeze completion fish > ~/.config/fish/completions/tfreeze.fish\n"
        '  eval "$(tfreeze completion bash)"                # this shell only',
    )
    p.add_argument("shell", choices=SHELLS)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import shtab

    print(shtab.complete(args.parser, shell=args.shell))
    return 0
