"""The anchor benchmark: MLP, small CNN, MobileNetV2 and ResNet50 at batch 1
and 32, one intra- and one inter-op thread unless tuned, compared in one run:

- tfreeze's overhead over the bare C API (`overhead.cc`): both loops in one
  process on the same graph, in alternating blocks, with an A/A control run
  and the cost of tfreeze's validation timed alone;
- tfreeze (default config and `tfreeze tune`'s best), Python session.run on
  the same .pb, ONNX Runtime (tf2onnx), and a Keras call: p50 latency;
- cold start in fresh processes: process start to first result, peak RSS.

    python benchmarks/run.py --overhead build/bench/benchmarks/overhead

Writes benchmarks/results/latest.json and latest.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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
from tfreeze.examples.digits import build_digits_cnn  # noqa: E402
from tfreeze.measure.bench import cold_start, measure_runner  # noqa: E402
from tfreeze.measure.tune import tune  # noqa: E402

MODELS = {
    "mlp": models.mlp,
    "small_cnn": build_digits_cnn,
    "mobilenet_v2_160": lambda: keras.applications.MobileNetV2(
        weights=None, input_shape=(160, 160, 3)
    ),
    "resnet50_128": lambda: keras.applications.ResNet50(weights=None, input_shape=(128, 128, 3)),
}
BATCHES = (1, 32)
RUNNERS = ("python", "onnxruntime", "keras")
SECONDS_PER_MEASUREMENT = 1.5


def iterations_for(model: tfreeze.Model, feeds: dict) -> int:
    """Enough runs for ~1.5 s of timing, between 10 and 400."""
    once = model.benchmark(feeds, warmup=2, iterations=3)["p50_us"]
    return int(np.clip(SECONDS_PER_MEASUREMENT * 1e6 / once, 10, 400))


def overhead(
    program: Path, pb: Path, model: tfreeze.Model, feeds: dict, runs: int, control: bool
) -> dict:
    outputs = ",".join(f"{name}:0" for name in model.output_names)
    inputs = [f"{n}:0=" + "x".join(str(d) for d in feeds[n].shape) for n in model.input_names]
    env = {**os.environ, **({"OVERHEAD_CONTROL": "1"} if control else {})}
    blocks = 10 if runs < 100 else 20
    command = [
        str(program),
        str(pb),
        str(THREADS),
        str(blocks),
        str(max(runs // 4, 5)),
        outputs,
        *inputs,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return json.loads(result.stdout)


def measure(kind: str, batch: int, source, pb: Path, args) -> dict:
    model = tfreeze.Model(pb, intra_op_threads=THREADS, inter_op_threads=THREADS)
    feeds = model.random_feeds(batch_size=batch)
    runs = iterations_for(model, feeds)
    loops = overhead(args.overhead, pb, model, feeds, runs, control=False)
    control = overhead(args.overhead, pb, model, feeds, runs, control=True)
    p50 = {"tfreeze": model.benchmark(feeds, warmup=10, iterations=runs)["p50_us"]}
    tuned = tune(pb, batch=batch, iterations=runs)
    p50["tfreeze tuned"] = tuned.best.p50_us
    for runner in RUNNERS:
        stats = measure_runner(
            runner,
            str(pb),
            model,
            source,
            feeds,
            THREADS,
            5,
            max(runs // (8 if runner == "keras" else 1), 10),
        )
        p50[runner] = stats["p50_us"]
    row = {
        "model": kind,
        "batch": batch,
        "iterations": runs,
        "p50_us": p50,
        "overhead": loops,
        "aa_ratio": control["ratio"],
        "tuned_config": tuned.best.label(),
        "tuned_default_p50_us": tuned.default.p50_us,
    }
    print(
        f"{kind} batch {batch}: "
        + ", ".join(f"{k} {v:.1f}" for k, v in p50.items())
        + f" | overhead {loops['ratio']:.3f} (A/A {control['ratio']:.3f})"
        + f" | tuned: {row['tuned_config']}",
        flush=True,
    )
    return row


def markdown(rows: list[dict], cold: dict, machine: str) -> str:
    lines = [
        f"Machine: {machine}. Untuned runners: {THREADS} intra-op and {THREADS} inter-op thread. "
        "p50 latency in µs.",
        "",
        "| model | batch | tfreeze | tuned | ONNX Runtime | tuned / ORT | session.run | Keras "
        "| Keras / tfreeze | tfreeze / bare (A/A) | tuned config |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        p = row["p50_us"]
        lines.append(
            f"| {row['model']} | {row['batch']} | {p['tfreeze']:.1f} | {p['tfreeze tuned']:.1f} | "
            f"{p['onnxruntime']:.1f} | {p['tfreeze tuned'] / p['onnxruntime']:.2f} | "
            f"{p['python']:.1f} | {p['keras']:.1f} | {p['keras'] / p['tfreeze']:.1f} | "
            f"{row['overhead']['ratio']:.3f} ({row['aa_ratio']:.3f}) | {row['tuned_config']} |"
        )
    lines += [
        "",
        "Cold start (fresh process; batch 1):",
        "",
        "| model | tfreeze: start → first result ms | Python: ms | ratio | tfreeze peak RSS MB "
        "| Python MB | ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind, figures in cold.items():
        t, p = figures["tfreeze"], figures["python"]
        lines.append(
            f"| {kind} | {t['process_to_first_result_ms']:.0f} | "
            f"{p['process_to_first_result_ms']:.0f} | "
            f"{t['process_to_first_result_ms'] / p['process_to_first_result_ms']:.2f} | "
            f"{t['peak_rss_mb']:.0f} | {p['peak_rss_mb']:.0f} | "
            f"{t['peak_rss_mb'] / p['peak_rss_mb']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--overhead", type=Path, required=True, help="the overhead executable")
    parser.add_argument("--workdir", type=Path, default=ROOT / "build" / "bench")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    args.results.mkdir(parents=True, exist_ok=True)
    rows, cold = [], {}
    for kind in args.models.split(","):
        keras.utils.set_random_seed(0)
        source = MODELS[kind]()
        pb = args.workdir / f"{kind}.pb"
        tfreeze.freeze(source, pb)
        cold[kind] = cold_start(pb, 1)
        rows += [measure(kind, batch, source, pb, args) for batch in BATCHES]
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, TensorFlow {tf.__version__}"
    )
    (args.results / "latest.json").write_text(
        json.dumps(
            {"machine": machine, "threads": THREADS, "rows": rows, "cold_start": cold}, indent=2
        )
        + "\n"
    )
    (args.results / "latest.md").write_text(markdown(rows, cold, machine))
    print(markdown(rows, cold, machine))


if __name__ == "__main__":
    main()
