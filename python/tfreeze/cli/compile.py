"""``tfreeze compile MODEL.pb -o DIR``: XLA ahead-of-time code and a small C++ library."""

from __future__ import annotations

import argparse
from typing import Any

from rich.text import Text

from tfreeze.cli.common import console, int_list, print_json, printable

__all__ = ["add_parser"]


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "compile",
        help="compile a .pb ahead of time with XLA into a C++ library without TensorFlow",
        epilog="examples:\n"
        "  tfreeze compile model.pb -o build/digits\n"
        "  tfreeze compile model.pb -o build/digits --batch 1,8 --name digits --json\n"
        "  tfreeze compile model.pb -o build/m --input-shape tokens=1,128 --no-verify",
    )
    p.add_argument("model", help="a frozen .pb")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="directory to write")
    p.add_argument(
        "--batch", type=int_list, default=[1], help="batch sizes to compile, e.g. 1,8 (default 1)"
    )
    p.add_argument(
        "--name", help="C++ namespace, library and CMake target name (default: the file's stem)"
    )
    p.add_argument(
        "--input-shape",
        action="append",
        default=[],
        metavar="NAME=D1,D2,..",
        help="the full shape of an input with open dimensions besides the batch (repeatable)",
    )
    p.add_argument(
        "--no-verify",
        action="store_true",
        help="skip the parity check against the file's stored test vectors",
    )
    p.add_argument(
        "--conv-as-matmul",
        choices=("auto", "on", "off"),
        default="auto",
        help="write 2-D convolutions as image patches times a matrix before compiling "
        "(auto: one input channel or filters up to 3x3x16, measured faster; on: all, and "
        "max-pools as slices; off: XLA's convolution; default auto; see docs/compile.md)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tfreeze.compile import compile_model

    report = compile_model(
        args.model,
        args.output,
        batches=args.batch,
        name=args.name,
        input_shapes=args.input_shape,
        verify=not args.no_verify,
        conv_as_matmul=args.conv_as_matmul,
    )
    if args.json:
        print_json(report)
    else:
        # Paths come from the user's file names: shown, not interpreted as markup.
        console.print(Text(_summary(report)), highlight=False)
    return 0


def _summary(report: dict[str, Any]) -> str:
    name, directory = report["name"], printable(report["directory"])
    built = report["runtime_built_s"]
    batches = ", ".join(map(str, report["batches"]))
    lines = [
        f"compiled {printable(report['model'])} -> {directory} (batch {batches}) in "
        f"{report['compile_s']} s",
        f"  library    {directory}/{report['library']}  (C++ API: {directory}/include/{name}.h)",
        f"  runtime    {len(report['runtime_files'])} files from {report['runtime_cache']}"
        + (f", {len(built)} built now ({sum(built.values()):.0f} s)" if built else ", all cached"),
        _conv_line(report["conv_as_matmul"]),
        f"  CMake      add_subdirectory({directory}) -> target {name}::{name}",
        f"  benchmark  {directory}/bin/{name}-bench --json",
    ]
    lines += [f"  note       {note}" for note in report.get("notes", [])]
    parity = report["parity"]
    if parity is None:
        lines.append(
            "  parity     not checked (--no-verify, no stored test vectors, or no batch dimension)"
        )
    else:
        lines.append(
            f"  parity     passed on {parity['rows']} stored rows: max abs diff "
            f"{parity['max_abs']:.2g} (tolerance rtol {parity['rtol']}, atol {parity['atol']})"
        )
    return "\n".join(lines)


def _conv_line(conv: dict[str, Any]) -> str:
    count = len(conv["rewritten"])
    if count:
        return (
            f"  convs      {count} ops rewritten without XLA's convolution "
            f"(--conv-as-matmul {conv['mode']})"
        )
    return f"  convs      none rewritten (--conv-as-matmul {conv['mode']})"
