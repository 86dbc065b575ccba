"""``tfreeze run MODEL.pb --input NAME=FILE.npy``: run from C++ on .npy inputs."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from tfreeze.cli import render
from tfreeze.cli.common import add_unsafe_argument, console, names, print_json, unsafe_allowance

if TYPE_CHECKING:
    import numpy as np

__all__ = ["add_parser"]


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "run",
        help="run a .pb from C++ on .npy inputs",
        epilog="examples:\n"
        "  tfreeze run model.pb --input images.npy\n"
        "  tfreeze run model.pb --input image=images.npy -o outputs.npz --json",
    )
    p.add_argument("model")
    p.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="NAME=FILE.npy",
        help="one per input (NAME= may be left out for a one-input model)",
    )
    p.add_argument("--fetch", help="comma-separated output names (default: all)")
    p.add_argument("-o", "--output", metavar="OUT.npz", help="save the outputs")
    p.add_argument("--device", help="cpu, cpu:N, gpu, gpu:N (default: TensorFlow places ops)")
    add_unsafe_argument(p)
    p.add_argument("--json", action="store_true", help="print the outputs as JSON lists")
    p.set_defaults(handler=run)


def _parse_inputs(specs: list[str], input_names: list[str]) -> dict[str, np.ndarray]:
    feeds = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep:
            if len(input_names) != 1:
                raise ValueError(
                    f"--input {spec!r} has no NAME=; this model's inputs are: "
                    + ", ".join(input_names)
                )
            name, path = input_names[0], spec
        feeds[name] = _load_npy(path)
    return feeds


def _load_npy(path: str) -> np.ndarray:
    import numpy as np

    try:
        return np.load(path, allow_pickle=False)
    except (EOFError, ValueError) as error:  # empty, truncated, pickled or not .npy at all
        raise ValueError(f"--input {path!r} is not a readable .npy file ({error})") from None


def run(args: argparse.Namespace) -> int:
    from tfreeze.runtime import Model

    model = Model(args.model, device=args.device, allow_unsafe_ops=unsafe_allowance(args))
    outputs = model.run(_parse_inputs(args.input, model.input_names), names(args.fetch))
    if args.output:
        import numpy as np

        np.savez(args.output, **outputs)
    if args.json:
        print_json({name: value.tolist() for name, value in outputs.items()})
    else:
        console.print(render.outputs_table(outputs, args.output))
    return 0
