"""``tfreeze bench MODEL.pb``: a C++ timing loop, optionally against other runners."""

from __future__ import annotations

import argparse
from typing import Any

from tfreeze.cli import render
from tfreeze.cli.common import (
    add_unsafe_argument,
    console,
    int_list,
    names,
    positive,
    print_json,
    require_modules,
    rerun_with,
    unsafe_allowance,
)

__all__ = ["add_parser"]

# tfreeze.runtime.options.EXECUTORS, spelled out so that building the parser
# (`tfreeze --help`) does not load the runtime; a test keeps the two equal.
EXECUTORS = ("default", "single_threaded", "auto")


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "bench",
        help="time a .pb in a C++ loop, optionally against others",
        epilog="examples:\n"
        "  tfreeze bench model.pb --batch 1,32\n"
        "  tfreeze bench model.pb --threads 1,2 --compare python --plot bench.png\n"
        "  tfreeze bench model.pb --threads 1 --compare onnxruntime,openvino\n"
        "  tfreeze bench model.pb --config tuned.json --json\n"
        "  tfreeze bench build/digits --batch 1,8    (a `tfreeze compile` directory)",
    )
    p.add_argument("model", help="a frozen .pb, or a directory written by `tfreeze compile`")
    p.add_argument("--batch", type=int_list, default=[1], help="batch sizes, e.g. 1,8,32")
    p.add_argument(
        "--threads",
        type=int_list,
        default=None,
        help="intra- and inter-op thread counts, e.g. 1,2 (default: TensorFlow's)",
    )
    p.add_argument(
        "--compare",
        help="also measure peers, comma-separated: python, onnxruntime, openvino, keras; each is "
        "timed in a Python loop, raw and minus the same loop on an empty model (compute), in fp32 "
        "at the same --threads",
    )
    p.add_argument("--source", help="the .keras model the .pb came from (for keras)")
    p.add_argument("--iterations", type=positive, default=200)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--device", help="cpu, cpu:N, gpu, gpu:N (default: TensorFlow places ops)")
    p.add_argument("--xla", action="store_true", help="compile the graph with XLA's JIT")
    p.add_argument(
        "--config",
        help="a config file written by `tfreeze tune`; its environment (e.g. "
        "TF_ENABLE_ONEDNN_OPTS) is applied by running the benchmark in a fresh process",
    )
    p.add_argument(
        "--executor",
        choices=EXECUTORS,
        default="auto",
        help="auto (the default): single_threaded for graphs with at most 4 MiB of weights, "
        "where it can run them; single_threaded: ops one after another in the calling thread "
        "(faster on small models; CPU only, no TF1 control flow); default: TensorFlow's",
    )
    p.add_argument(
        "--caller-thread",
        action="store_true",
        help="run each step in the calling thread instead of the inter-op pool",
    )
    p.add_argument("--plot", metavar="FILE.png", help="latency distribution and batch curve")
    add_unsafe_argument(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run)


def _measure(args: argparse.Namespace, runners: list[str]) -> tuple[list[Any], dict[str, Any]]:
    from rich.progress import Progress

    from tfreeze.measure import bench

    threads = args.threads or [None]
    total = len(runners) * len(args.batch) * len(threads)
    with Progress(console=console, transient=True, disable=args.json) as progress:
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
            executor=args.executor,
            caller_thread=args.caller_thread,
            config=args.config,
            allow_unsafe_ops=unsafe_allowance(args),
        )
        cold = bench.cold_start(
            args.model, args.batch[0], [r for r in ("tfreeze", "python") if r in runners]
        )
    return rows, cold


def run(args: argparse.Namespace) -> int:
    import os

    if os.path.isdir(args.model):
        return _bench_compiled(args)
    from tfreeze.measure import bench
    from tfreeze.runtime.options import missing_environment

    if args.plot:
        require_modules({"matplotlib": "bench"}, purpose="--plot")
    if args.config and (environment := missing_environment(args.config)):
        # TensorFlow reads these once, when it loads: only a new process can apply them.
        return rerun_with(environment, args, reason=f"tuned in {args.config}")
    rows, cold = _measure(args, ["tfreeze", *(names(args.compare) or [])])
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
        print_json(summary)
    else:
        console.print(render.bench_table(args.model, rows))
        console.print(render.cold_start_table(cold))
        if args.plot:
            console.print(f"plot written to {args.plot}")
    return 0


# Options of a TensorFlow run that a compiled model has no use for.
_RUNTIME_ONLY = {
    "--threads": "threads",
    "--compare": "compare",
    "--config": "config",
    "--xla": "xla",
    "--caller-thread": "caller_thread",
    "--plot": "plot",
    "--device": "device",
}


def _bench_compiled(args: argparse.Namespace) -> int:
    """A compiled model: its own benchmark program, one process per batch size
    (the same fields as tfreeze-bench --json, plus peak_rss_mb)."""
    import json
    import os
    import subprocess
    from pathlib import Path

    from tfreeze.compile import MARKER

    marker = Path(args.model, MARKER)
    if not marker.exists():
        raise ValueError(f"{args.model!r} is a directory but not a `tfreeze compile` output")
    unused = [flag for flag, value in _RUNTIME_ONLY.items() if getattr(args, value)]
    if unused:
        raise ValueError(
            f"{', '.join(unused)} apply to a .pb run by TensorFlow, not to a compiled model "
            "(one thread, static batch sizes); a compiled directory takes --batch, "
            "--iterations, --warmup and --json"
        )
    name = json.loads(marker.read_text())["name"]
    rows = []
    for batch in args.batch:
        command = [str(Path(args.model, "bin", f"{name}-bench")), "--batch", str(batch)]
        command += ["--iterations", str(args.iterations), "--warmup", str(args.warmup), "--json"]
        # TF_ENABLE_ONEDNN_OPTS=0: see tfreeze.compile.parity.QUIET_ENV.
        environment = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0"}
        result = subprocess.run(command, capture_output=True, text=True, env=environment)
        if result.returncode != 0:
            raise ValueError(result.stderr.strip().splitlines()[-1])
        rows.append(json.loads(result.stdout))
    if args.json:
        print_json({**rows[0], "rows": rows})
    else:
        for row in rows:
            console.print(
                f"{name} (XLA AOT) batch {row['batch']}: p50 {row['p50_us']:.2f} us, "
                f"p90 {row['p90_us']:.2f} us, p99 {row['p99_us']:.2f} us; "
                f"init {row['init_ms']:.3f} ms, first run {row['first_run_ms']:.3f} ms; "
                f"peak RSS {row['peak_rss_mb']:.1f} MB",
                highlight=False,
            )
    return 0
