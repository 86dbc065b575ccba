"""Latency of the test models at batch 1 and 32, one intra- and one inter-op
thread for every runner, compared in one run.

- tfreeze's overhead over the bare C API (`overhead.cc`): both loops in one
  process on the same graph, in alternating blocks; plus an A/A run (two bare
  sessions) that shows the comparison's noise floor, and the cost of
  tfreeze's validation timed alone.
- tfreeze's C++ loop driven from Python, Python session.run on the same .pb,
  and a Keras call: medians over rounds of each runner's p50.

    python benchmarks/run.py --overhead build/bench/benchmarks/overhead

Writes benchmarks/results/latest.json and latest.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the test models

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

THREADS = 1
tf.config.threading.set_intra_op_parallelism_threads(THREADS)
tf.config.threading.set_inter_op_parallelism_threads(THREADS)

import keras  # noqa: E402

import models  # noqa: E402
import tfreeze  # noqa: E402
from tfreeze.demo import build_digits_cnn  # noqa: E402
from tfreeze.latency import keras_latency, python_session_latency  # noqa: E402

MODELS = {
    "mlp": models.mlp,
    "digits_cnn": build_digits_cnn,
    "cnn_16x16": models.cnn,
    "lstm": models.lstm,
}
BATCHES = (1, 32)
PYTHON_RUNNERS = ("tfreeze from Python", "Python session.run", "Keras call")


def overhead(
    program: Path,
    pb: Path,
    model: tfreeze.Model,
    batch: int,
    *,
    blocks: int,
    runs: int,
    control: bool,
) -> dict:
    outputs = ",".join(f"{name}:0" for name in model.output_names)
    shapes = {n: a.shape for n, a in model.random_feeds(batch_size=batch).items()}
    inputs = [f"{n}:0=" + "x".join(str(d) for d in shapes[n]) for n in model.input_names]
    env = {**os.environ, **({"OVERHEAD_CONTROL": "1"} if control else {})}
    command = [str(program), str(pb), str(THREADS), str(blocks), str(runs), outputs, *inputs]
    result = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return json.loads(result.stdout)


def python_runners(
    source, pb: Path, model: tfreeze.Model, batch: int, rounds: int, iterations: int
) -> dict[str, float]:
    feeds = {k: np.zeros_like(v) for k, v in model.random_feeds(batch_size=batch).items()}
    flat = [feeds[name] for name in model.input_names]
    samples: dict[str, list[float]] = {r: [] for r in PYTHON_RUNNERS}
    for _ in range(rounds):
        stats = model.benchmark(feeds, warmup=50, iterations=iterations)
        samples["tfreeze from Python"].append(stats["p50_us"])
        stats = python_session_latency(pb, feeds, threads=THREADS, iterations=iterations)
        samples["Python session.run"].append(stats["p50_us"])
        stats = keras_latency(source, flat, iterations=max(iterations // 4, 20))
        samples["Keras call"].append(stats["p50_us"])
    return {runner: statistics.median(values) for runner, values in samples.items()}


def measure(kind: str, args: argparse.Namespace) -> list[dict]:
    keras.utils.set_random_seed(0)
    source = MODELS[kind]()
    pb = args.workdir / f"{kind}.pb"
    tfreeze.freeze(source, pb)
    model = tfreeze.Model(pb, intra_op_threads=THREADS, inter_op_threads=THREADS)
    rows = []
    for batch in BATCHES:
        loops = overhead(
            args.overhead, pb, model, batch, blocks=args.blocks, runs=args.runs, control=False
        )
        control = overhead(
            args.overhead, pb, model, batch, blocks=args.blocks, runs=args.runs, control=True
        )
        python = python_runners(source, pb, model, batch, args.rounds, args.runs)
        rows.append(
            {
                "model": kind,
                "batch": batch,
                "overhead": loops,
                "aa_ratio": control["ratio"],
                "python": python,
            }
        )
        print(
            f"{kind} batch {batch}: bare {loops['bare_p50_us']:.1f} µs, tfreeze "
            f"{loops['tfreeze_p50_us']:.1f} µs (ratio {loops['ratio']:.3f}, A/A "
            f"{control['ratio']:.3f}), " + ", ".join(f"{r} {v:.1f} µs" for r, v in python.items()),
            flush=True,
        )
    return rows


def markdown(rows: list[dict], machine: str) -> str:
    lines = [
        f"Machine: {machine}. Threads: {THREADS} intra-op, {THREADS} inter-op. p50 latency in µs.",
        "",
        "| model | batch | bare C API | tfreeze C++ | tfreeze / bare | A/A noise | validation ns "
        "| tfreeze from Python | Python session.run | × tfreeze | Keras call | × tfreeze |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        o, p = row["overhead"], row["python"]
        base = p["tfreeze from Python"]
        lines.append(
            f"| {row['model']} | {row['batch']} | {o['bare_p50_us']:.1f} | "
            f"{o['tfreeze_p50_us']:.1f} | {o['ratio']:.3f} | {row['aa_ratio']:.3f} | "
            f"{o['prepare_ns']:.0f} | {base:.1f} | {p['Python session.run']:.1f} | "
            f"{p['Python session.run'] / base:.2f} | {p['Keras call']:.1f} | "
            f"{p['Keras call'] / base:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--overhead", type=Path, required=True, help="the overhead executable")
    parser.add_argument("--blocks", type=int, default=20, help="alternating blocks per loop")
    parser.add_argument("--runs", type=int, default=300, help="runs per block / per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the Python runners")
    parser.add_argument("--workdir", type=Path, default=ROOT / "build" / "bench")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    args.results.mkdir(parents=True, exist_ok=True)
    rows = [row for kind in MODELS for row in measure(kind, args)]
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"TensorFlow {tf.__version__}"
    )
    (args.results / "latest.json").write_text(
        json.dumps({"machine": machine, "threads": THREADS, "rows": rows}, indent=2) + "\n"
    )
    (args.results / "latest.md").write_text(markdown(rows, machine))
    print(markdown(rows, machine))


if __name__ == "__main__":
    main()
