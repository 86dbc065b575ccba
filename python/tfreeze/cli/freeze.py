"""``tfreeze freeze SOURCE -o OUT.pb``: any source into one self-describing .pb."""

from __future__ import annotations

import argparse
import json
from typing import Any

from tfreeze.cli import render
from tfreeze.cli.common import add_unsafe_argument, console, names, print_json, unsafe_allowance

__all__ = ["add_parser"]


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "freeze",
        help="freeze any TensorFlow/Keras model into one self-describing .pb",
        description="SOURCE: a .keras or .h5 file, a SavedModel directory, a TF1 checkpoint "
        "(.meta file, checkpoint prefix or directory), or a GraphDef .pb/.pbtxt (frozen, or "
        "with --checkpoint). No node names are needed: they are read from the source or "
        "guessed, and the guess is printed.",
        epilog="examples:\n"
        "  tfreeze freeze model.keras -o model.pb\n"
        "  tfreeze freeze saved_model/ -o model.pb --json\n"
        "  tfreeze freeze model.ckpt.meta -o model.pb --output-names scores\n"
        "  tfreeze freeze graph.pb --checkpoint ckpt/ -o model.pb --input-value keep_prob=1.0",
    )
    p.add_argument("source", help="the model to freeze")
    p.add_argument("-o", "--output", required=True, help="the .pb to write (.pbtxt: text)")
    _add_naming_arguments(p)
    _add_pipeline_arguments(p)
    _add_source_arguments(p)
    add_unsafe_argument(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(handler=run)


def _add_naming_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input-names", help="comma-separated new names, one per input in model order")
    p.add_argument(
        "--inputs",
        metavar="NODE[:K],...",
        help="TF1 graphs: the tensors that are the inputs; the graph is cut there (each becomes "
        "a Placeholder) and what only fed them (an input pipeline) is dropped",
    )
    p.add_argument(
        "--input-shape",
        action="append",
        default=[],
        metavar="NAME=?,224,224,3",
        help="shape of an input whose rank the graph leaves unknown (repeat per input); "
        "NAME= for a scalar such as keep_prob",
    )
    p.add_argument(
        "--input-value",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="fix an input to a value at freeze time, as freeze_graph users fixed keep_prob=1.0 "
        "or is_training=false: it becomes a constant and training branches fold away (repeat)",
    )
    p.add_argument(
        "--output-names",
        help="comma-separated, one per output in model order; for TF1 graphs the output "
        "nodes themselves (NODE or NAME=NODE:0), like freeze_graph.py's --output_node_names",
    )


def _add_pipeline_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--keep-control-flow",
        action="store_true",
        help="keep functional While/If instead of lowering them",
    )
    p.add_argument(
        "--optimize",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run grappler (constant folding, BatchNorm folding, pruning) in a child process",
    )
    p.add_argument(
        "--no-verify", action="store_true", help="skip running the frozen graph against the source"
    )
    p.add_argument(
        "--verify-shape",
        action="append",
        default=[],
        metavar="NAME=1,40,256,1",
        help="the full shape of an input's verification feeds (repeat per input); by default "
        "open dimensions start small and double until the graph runs",
    )
    p.add_argument("--rtol", type=float, default=1e-5, help="verification tolerance (relative)")
    p.add_argument("--atol", type=float, default=1e-6, help="verification tolerance (absolute)")


def _add_source_arguments(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("SavedModel")
    group.add_argument("--signature", default="serving_default", help="signature to freeze")
    group.add_argument("--tags", help="comma-separated MetaGraph tags (default: serve)")
    group.add_argument(
        "--saved-model-loader",
        choices=("auto", "tf2", "tf1"),
        default="auto",
        help="auto: the TF1 loader for TF1-written SavedModels and when tf.saved_model.load "
        "rejects one",
    )
    group = p.add_argument_group("TF1 checkpoints and GraphDefs (freeze_graph.py's parameters)")
    group.add_argument("--checkpoint", help="checkpoint prefix or directory for a GraphDef source")
    group.add_argument(
        "--clear-devices",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="drop device placements from the source graph",
    )
    group.add_argument("--variable-allowlist", help="comma-separated variables to freeze (only)")
    group.add_argument("--variable-denylist", help="comma-separated variables not to freeze")
    group.add_argument(
        "--initializer-nodes",
        help="comma-separated ops to run once at load (default: the ops that fill lookup tables)",
    )
    group = p.add_argument_group(".h5 files")
    group.add_argument(
        "--legacy-keras",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="load with tf_keras in a child process (default: when the file says Keras 2)",
    )


def _verify_shapes(specs: list[str]) -> dict[str, list[int]] | None:
    """``NAME=1,40,256,1`` -> {NAME: [1, 40, 256, 1]}: every size given."""
    shapes = {}
    for spec in specs:
        name, sep, dims = spec.partition("=")
        try:
            if not sep or not name:
                raise ValueError
            shapes[name] = [int(d) for d in dims.split(",")] if dims.strip() else []
            if any(d < 1 for d in shapes[name]):
                raise ValueError
        except ValueError:
            raise ValueError(
                f"--verify-shape {spec!r} is not NAME=DIM,DIM,... (every size a positive number)"
            ) from None
    return shapes or None


def _shapes(specs: list[str]) -> dict[str, list[int]] | None:
    """``NAME=?,224,224,3`` (``?`` or ``-1``: open) -> {NAME: [-1, 224, 224, 3]}."""
    shapes = {}
    for spec in specs:
        name, sep, dims = spec.partition("=")
        try:
            if not sep:
                raise ValueError
            # NAME= (nothing after it) is a scalar: keep_prob, is_training.
            parts = dims.split(",") if dims.strip() else []
            shapes[name] = [-1 if d.strip() in ("?", "-1") else int(d) for d in parts]
        except ValueError:
            raise ValueError(
                f"--input-shape {spec!r} is not NAME=DIM,DIM,... (? for open; NAME= for a scalar)"
            ) from None
    return shapes or None


def _values(specs: list[str]) -> dict[str, Any] | None:
    """``keep_prob=1.0`` -> {"keep_prob": 1.0}; true/false stay text for bool inputs."""
    values: dict[str, Any] = {}
    for spec in specs:
        name, sep, text = spec.partition("=")
        if not sep or not name or not text:
            raise ValueError(f"--input-value {spec!r} is not NAME=VALUE (e.g. keep_prob=1.0)")
        try:
            values[name] = json.loads(text)
        except ValueError:
            values[name] = text  # true/false/True/False, or a string input's value
    return values or None


def freeze_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword options of ``tfreeze.freeze`` that the flags give."""
    options: dict[str, Any] = {
        "input_names": names(args.input_names),
        "inputs": names(args.inputs),
        "input_shapes": _shapes(args.input_shape),
        "input_values": _values(args.input_value),
        "output_names": names(args.output_names),
        "keep_control_flow": args.keep_control_flow,
        "optimize": args.optimize,
        "verify": not args.no_verify,
        "verify_shapes": _verify_shapes(args.verify_shape),
        "rtol": args.rtol,
        "atol": args.atol,
        "signature_name": args.signature,
        "saved_model_loader": args.saved_model_loader,
        "checkpoint": args.checkpoint,
        "clear_devices": args.clear_devices,
        "variable_allowlist": names(args.variable_allowlist),
        "variable_denylist": names(args.variable_denylist),
        "initializer_nodes": names(args.initializer_nodes),
        "legacy_keras": args.legacy_keras,
        "allow_unsafe_ops": unsafe_allowance(args),
    }
    if args.tags is not None:
        options["tags"] = names(args.tags)
    return options


def run(args: argparse.Namespace) -> int:
    from tfreeze.freezer import freeze

    options = freeze_options(args)
    if args.json:
        report = freeze(args.source, args.output, **options)
        print_json(report.to_dict())
        return 0
    with render.FreezeProgress(console) as progress:
        report = freeze(args.source, args.output, progress=progress.stage, **options)
    render.print_freeze_report(console, report)
    return 0
