"""The ``tfreeze`` command line: freeze, inspect, run, parity, bench, demo."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
from rich.console import Console

from tfreeze import reports
from tfreeze.errors import Error

__all__ = ["main"]

_console = Console()


def _names(text: str | None) -> list[str] | None:
    return None if text is None else [name.strip() for name in text.split(",")]


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2))


def _shapes(specs: list[str]) -> dict[str, list[int]] | None:
    """``NAME=?,224,224,3`` (``?`` or ``-1``: open) -> {NAME: [-1, 224, 224, 3]}."""
    shapes = {}
    for spec in specs:
        name, sep, dims = spec.partition("=")
        try:
            if not sep:
                raise ValueError
            shapes[name] = [-1 if d.strip() in ("?", "-1") else int(d) for d in dims.split(",")]
        except ValueError:
            raise ValueError(
                f"--input-shape {spec!r} is not NAME=DIM,DIM,... (? for open)"
            ) from None
    return shapes or None


def _freeze_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {
        "input_names": _names(args.input_names),
        "input_shapes": _shapes(args.input_shape),
        "output_names": _names(args.output_names),
        "keep_control_flow": args.keep_control_flow,
        "optimize": args.optimize,
        "verify": not args.no_verify,
        "rtol": args.rtol,
        "atol": args.atol,
        "signature_name": args.signature,
        "saved_model_loader": args.saved_model_loader,
        "checkpoint": args.checkpoint,
        "clear_devices": args.clear_devices,
        "variable_allowlist": _names(args.variable_allowlist),
        "variable_denylist": _names(args.variable_denylist),
        "initializer_nodes": _names(args.initializer_nodes),
        "legacy_keras": args.legacy_keras,
    }
    if args.tags is not None:
        options["tags"] = _names(args.tags)
    return options


def cmd_freeze(args: argparse.Namespace) -> int:
    from tfreeze.freezer import freeze

    options = _freeze_options(args)
    if args.json:
        report = freeze(args.source, args.output, **options)
        _print_json(report.to_json())
        return 0
    with reports.FreezeProgress(_console) as progress:
        report = freeze(args.source, args.output, progress=progress.stage, **options)
    reports.print_freeze_report(_console, report)
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from tfreeze.model import Model

    model = Model(args.model)
    signature = {
        "inputs": [spec.as_dict() for spec in model.inputs],
        "outputs": [spec.as_dict() for spec in model.outputs],
    }
    if args.json:
        _print_json(signature)
    else:
        _console.print(reports.signature_table(model, args.model))
    return 0


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
        feeds[name] = np.load(path, allow_pickle=False)
    return feeds


def cmd_run(args: argparse.Namespace) -> int:
    from tfreeze.model import Model

    model = Model(args.model, device=args.device)
    outputs = model.run(_parse_inputs(args.input, model.input_names), _names(args.fetch))
    if args.output:
        np.savez(args.output, **outputs)
    if args.json:
        _print_json({name: value.tolist() for name, value in outputs.items()})
    else:
        _console.print(reports.outputs_table(outputs, args.output))
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from tfreeze.model import Model

    report = Model(args.model).verify()
    if args.json:
        _print_json(report)
    else:
        _console.print(reports.verify_table(args.model, report))
    return 0 if report["passed"] else 1


def _parity_source_options(args: argparse.Namespace) -> dict[str, Any]:
    given = {
        "checkpoint": args.checkpoint,
        "signature_name": args.signature,
        "output_names": _names(args.output_names),
    }
    return {key: value for key, value in given.items() if value is not None}


def cmd_parity(args: argparse.Namespace) -> int:
    from tfreeze.parity import check_parity

    report = check_parity(
        args.source,
        args.model,
        batch_size=args.batch,
        seed=args.seed,
        rtol=args.rtol,
        atol=args.atol,
        source_options=_parity_source_options(args),
    )
    if args.json:
        _print_json(report.as_dict())
    else:
        _console.print(reports.parity_table(report))
    return 0 if report.passed else 1


def _int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None
    if any(value < 1 for value in values):
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return values


def cmd_bench(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from tfreeze import bench

    runners = ["tfreeze", *(_names(args.compare) or [])]
    threads = args.threads or [None]
    total = len(runners) * len(args.batch) * len(threads)
    with Progress(console=_console, transient=True, disable=args.json) as progress:
        task = progress.add_task("benchmarking", total=total)

        def advance(label: str) -> None:
            progress.update(task, advance=1, description=label)

        rows = bench.run_bench(
            args.model,
            batches=args.batch,
            threads=threads,
            runners=runners,
            source=args.source,
            warmup=args.warmup,
            iterations=args.iterations,
            progress=advance,
            device=args.device,
            xla=args.xla,
        )
        cold = bench.cold_start(
            args.model, args.batch[0], [r for r in ("tfreeze", "python") if r in runners]
        )
    if args.plot:
        bench.plot(rows, args.plot)
    first = rows[0]
    summary = {
        **first.stats,
        "batch_size": first.batch,
        "threads": first.threads,
        "rows": [row.as_dict() for row in rows],
        "cold_start": cold,
    }
    if args.json:
        _print_json(summary)
    else:
        _console.print(reports.bench_table(args.model, rows))
        _console.print(reports.cold_start_table(cold))
        if args.plot:
            _console.print(f"plot written to {args.plot}")
    return 0


def cmd_tune(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from tfreeze import tune

    with Progress(console=_console, transient=True, disable=args.json) as progress:
        task = progress.add_task("tuning", total=None)
        result = tune.tune(
            args.model,
            batch=args.batch,
            iterations=args.iterations,
            progress=lambda label: progress.update(task, description=label),
        )
    document = tune.write_config(result, args.output, model=args.model, batch=args.batch)
    if args.json:
        _print_json(document)
    else:
        _console.print(reports.tune_table(args.model, result))
        _console.print(
            f"wrote {args.output}: use tfreeze.Model(path, config={args.output!r}), "
            f"`--config {args.output}`, or tfreeze::LoadOptionsFile in C++"
        )
        for name, value in result.best.environment.items():
            _console.print(
                f"[yellow]start the process with {name}={value}[/yellow] "
                "(TensorFlow reads it at start-up)"
            )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from tfreeze.demo import run_demo

    return run_demo(_console, workdir=args.workdir, epochs=args.epochs, threads=args.threads)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tfreeze",
        description="Freeze TensorFlow/Keras models into one .pb and run them from C++.",
    )
    parser.add_argument("--version", action="version", version=f"tfreeze {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "freeze",
        help="freeze any TensorFlow/Keras model into one self-describing .pb",
        description="SOURCE: a .keras or .h5 file, a SavedModel directory, a TF1 checkpoint "
        "(.meta file, checkpoint prefix or directory), or a GraphDef .pb/.pbtxt (frozen, or "
        "with --checkpoint). No node names are needed: they are read from the source or "
        "guessed, and the guess is printed.",
    )
    p.add_argument("source", help="the model to freeze")
    p.add_argument("-o", "--output", required=True, help="the .pb to write (.pbtxt: text)")
    p.add_argument("--input-names", help="comma-separated new names, one per input in model order")
    p.add_argument(
        "--input-shape",
        action="append",
        default=[],
        metavar="NAME=?,224,224,3",
        help="shape of an input whose rank the graph leaves unknown (repeat per input)",
    )
    p.add_argument(
        "--output-names",
        help="comma-separated, one per output in model order; for TF1 graphs the output "
        "nodes themselves (NODE or NAME=NODE:0), like freeze_graph.py's --output_node_names",
    )
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
    p.add_argument("--rtol", type=float, default=1e-5, help="verification tolerance (relative)")
    p.add_argument("--atol", type=float, default=1e-6, help="verification tolerance (absolute)")
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
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(handler=cmd_freeze)

    p = sub.add_parser("inspect", help="print a .pb's inputs and outputs")
    p.add_argument("model")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_inspect)

    p = sub.add_parser("run", help="run a .pb from C++ on .npy inputs")
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
    p.add_argument("--json", action="store_true", help="print the outputs as JSON lists")
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("verify", help="replay the test vectors stored in a .pb, in C++")
    p.add_argument("model")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_verify)

    p = sub.add_parser("parity", help="compare C++, Python-.pb and source-model outputs")
    p.add_argument("source", help="the model the .pb was frozen from (any freeze source)")
    p.add_argument("model", help="the frozen .pb")
    p.add_argument("--checkpoint", help="as given to freeze (GraphDef sources)")
    p.add_argument("--signature", help="as given to freeze (SavedModel sources)")
    p.add_argument("--output-names", help="as given to freeze (TF1 graphs: the output nodes)")
    p.add_argument("--batch", type=_positive, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rtol", type=float, default=1e-5)
    p.add_argument("--atol", type=float, default=1e-6)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_parity)

    p = sub.add_parser("bench", help="time a .pb in a C++ loop, optionally against others")
    p.add_argument("model")
    p.add_argument("--batch", type=_int_list, default=[1], help="batch sizes, e.g. 1,8,32")
    p.add_argument(
        "--threads",
        type=_int_list,
        default=None,
        help="intra- and inter-op thread counts, e.g. 1,2 (default: TensorFlow's)",
    )
    p.add_argument("--compare", help="also measure: python, onnxruntime, keras (comma-separated)")
    p.add_argument("--source", help="the .keras model the .pb came from (for keras)")
    p.add_argument("--iterations", type=_positive, default=200)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--device", help="cpu, cpu:N, gpu, gpu:N (default: TensorFlow places ops)")
    p.add_argument("--xla", action="store_true", help="compile the graph with XLA's JIT")
    p.add_argument("--config", help="a config file written by `tfreeze tune`")
    p.add_argument("--plot", metavar="FILE.png", help="latency distribution and batch curve")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_bench)

    p = sub.add_parser("tune", help="find the fastest session configuration for a .pb")
    p.add_argument("model")
    p.add_argument("--batch", type=_positive, default=1)
    p.add_argument("--iterations", type=_positive, default=300, help="timed runs per trial")
    p.add_argument("-o", "--output", default="tfreeze-config.json", help="config file to write")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_tune)

    p = sub.add_parser("demo", help="train, freeze, run from C++, print parity and latency")
    p.add_argument("--workdir", default=os.path.join("build", "demo"))
    p.add_argument("--epochs", type=_positive, default=12)
    p.add_argument("--threads", type=_positive, default=1)
    p.set_defaults(handler=cmd_demo)
    return parser


def _version() -> str:
    from tfreeze import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    # TensorFlow's C++ start-up chatter (oneDNN, CPU features) drowns the
    # output; users can still ask for it with TF_CPP_MIN_LOG_LEVEL=0.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (Error, OSError, ValueError) as error:
        print(f"tfreeze {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
