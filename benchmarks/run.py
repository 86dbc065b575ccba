"""Latency of the test models at batch 1 and 32, one thread, compared in one run:
the bare C API loop (bare_c_api.cc) and the same loop through tfreeze
(tfreeze_loop.cc), each in a fresh process; tfreeze's loop from Python
(Model.benchmark); Python session.run on the same .pb; and a Keras call. Each
figure is the median over rounds of each runner's p50, runners interleaved
round by round so drift hits them alike.

    python benchmarks/run.py --bin build/bench/benchmarks

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
import time
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
RUNNERS = ("bare C API", "tfreeze C++", "tfreeze from Python", "Python session.run", "Keras call")
BATCHES = (1, 32)
# TensorFlow's worker threads in this process spin after work; on a 2-core
# machine they slow a loop in another process. So the two C++ loops run first,
# while this process is idle, and only then the in-process runners.
SETTLE_SECONDS = 3.0
WARMUP = 50


def loop_p50(program: Path, pb: Path, model: tfreeze.Model, batch: int, iterations: int) -> float:
    outputs = ",".join(f"{name}:0" for name in model.output_names)
    shapes = {n: a.shape for n, a in model.random_feeds(batch_size=batch).items()}
    inputs = [f"{n}:0=" + "x".join(str(d) for d in shapes[n]) for n in model.input_names]
    command = [str(program), str(pb), str(THREADS), str(WARMUP), str(iterations), outputs, *inputs]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)["p50_us"]


def c_loops(cases: dict, bin_dir: Path, rounds: int, iterations: int) -> dict:
    """bare C API vs tfreeze, alternating which goes first each round."""
    time.sleep(SETTLE_SECONDS)
    samples = {case: {"bare C API": [], "tfreeze C++": []} for case in cases}
    programs = [("bare C API", "bare_c_api"), ("tfreeze C++", "tfreeze_loop")]
    for round_index in range(rounds):
        for (kind, batch), (pb, model) in cases.items():
            order = programs if round_index % 2 == 0 else programs[::-1]
            for runner, program in order:
                p50 = loop_p50(bin_dir / program, pb, model, batch, iterations)
                samples[(kind, batch)][runner].append(p50)
    return samples


def python_runners(
    source, pb: Path, model: tfreeze.Model, batch: int, rounds: int, iterations: int
) -> dict:
    feeds = {k: np.zeros_like(v) for k, v in model.random_feeds(batch_size=batch).items()}
    flat = [feeds[name] for name in model.input_names]
    samples: dict[str, list[float]] = {r: [] for r in RUNNERS[2:]}
    for _ in range(rounds):
        samples["tfreeze from Python"].append(
            model.benchmark(feeds, warmup=WARMUP, iterations=iterations)["p50_us"]
        )
        samples["Python session.run"].append(
            python_session_latency(pb, feeds, threads=THREADS, iterations=iterations)["p50_us"]
        )
        samples["Keras call"].append(
            keras_latency(source, flat, iterations=max(iterations // 4, 20))["p50_us"]
        )
    return samples


def run_all(bin_dir: Path, workdir: Path, rounds: int, iterations: int) -> list[dict]:
    sources, cases = {}, {}
    for kind, build in MODELS.items():
        keras.utils.set_random_seed(0)
        sources[kind] = build()
        pb = workdir / f"{kind}.pb"
        tfreeze.freeze(sources[kind], pb)
        model = tfreeze.Model(pb, intra_op_threads=THREADS, inter_op_threads=THREADS)
        for batch in BATCHES:
            cases[(kind, batch)] = (pb, model)
    samples = c_loops(cases, bin_dir, rounds, iterations)
    rows = []
    for (kind, batch), (pb, model) in cases.items():
        samples[(kind, batch)].update(
            python_runners(sources[kind], pb, model, batch, rounds, iterations)
        )
        p50 = {r: statistics.median(samples[(kind, batch)][r]) for r in RUNNERS}
        rows.append(
            {"model": kind, "batch": batch, "p50_us": p50, "rounds": samples[(kind, batch)]}
        )
        print(
            f"{kind} batch {batch}: " + ", ".join(f"{r} {v:.1f} µs" for r, v in p50.items()),
            flush=True,
        )
    return rows


def markdown(rows: list[dict], machine: str) -> str:
    lines = [
        f"Machine: {machine}. Threads: {THREADS} intra-op, {THREADS} inter-op. "
        "Median over rounds of each runner's p50 latency (µs); ratios against the bare C API loop.",
        "",
        "| model | batch | bare C API | tfreeze C++ | tfreeze / bare | tfreeze from Python | "
        "Python session.run | × tfreeze | Keras call | × tfreeze |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        p = row["p50_us"]
        lines.append(
            f"| {row['model']} | {row['batch']} | {p['bare C API']:.1f} | {p['tfreeze C++']:.1f} | "
            f"{p['tfreeze C++'] / p['bare C API']:.3f} | {p['tfreeze from Python']:.1f} | "
            f"{p['Python session.run']:.1f} | "
            f"{p['Python session.run'] / p['tfreeze C++']:.2f} | {p['Keras call']:.1f} | "
            f"{p['Keras call'] / p['tfreeze C++']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--bin",
        type=Path,
        required=True,
        help="folder with the bare_c_api and tfreeze_loop executables",
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=400)
    parser.add_argument("--workdir", type=Path, default=ROOT / "build" / "bench")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    args.results.mkdir(parents=True, exist_ok=True)
    rows = run_all(args.bin, args.workdir, args.rounds, args.iterations)
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
