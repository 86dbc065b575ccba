"""The latency rows for one intra-op thread count, in a process of their own
(Keras runs on TensorFlow's global thread pools, sized once per process):

    python benchmarks/rows.py SPEC.json OUT.json

SPEC names the thread count, the plan (see plan.py) and, per model, its .pb,
.keras and .onnx files and the batch sizes. Every runner gets the same runs,
calibrated on tfreeze's default config (Keras an eighth: it is 10-1000x
slower); inter-op threads are 1 throughout (caller-thread rows: the calling
thread is the one inter-op thread).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# name -> tfreeze.Model options besides the thread counts
# ("default": tfreeze's defaults, whose executor "auto" picks per graph; the
# others name their executor, so each column is one executor on every model.)
TFREEZE_VARIANTS = {
    "default": {},
    "tf_executor": {"executor": "default"},
    "single_threaded": {"executor": "single_threaded"},
    "caller_thread": {"executor": "default", "caller_thread": True},
    "single_threaded+caller": {"executor": "single_threaded", "caller_thread": True},
}


def tfreeze_p50(pb: str, options: dict, threads: int, feeds: dict, warmup: int, runs: int):
    import tfreeze

    inter = None if options.get("caller_thread") else 1
    with tfreeze.Model(pb, intra_op_threads=threads, inter_op_threads=inter, **options) as model:
        return model.benchmark(feeds, warmup=warmup, iterations=runs)["p50_us"]


def python_loops(entry: dict, feeds: dict, threads: int, warmup: int, runs: int) -> dict:
    """p50 of session.run, ONNX Runtime, ORT's empty-graph loop and Keras."""
    import onnx_loop

    from tfreeze.freezer.keras_io import KerasIO, load_keras_model
    from tfreeze.measure.latency import time_python_loop
    from tfreeze.runtime.python_session import PythonSession

    def p50(step, iterations=runs) -> float:
        return time_python_loop(step, warmup=warmup, iterations=iterations)["p50_us"]

    results = {}
    with PythonSession(entry["pb"], intra_op_threads=threads, inter_op_threads=1) as session:
        results["session.run"] = p50(lambda: session.run(feeds))
    results |= onnx_loop.p50s(entry["onnx"], feeds, threads, warmup, runs)
    io = KerasIO.of(load_keras_model(entry["keras"]))
    flat = [feeds[name] for name in entry["inputs"]]
    results["keras"] = p50(lambda: io.call(flat), max(runs // 8, 3))
    return results


def measure(entry: dict, batch: int, threads: int, plan) -> dict:
    """One row: every runner's p50 for this model, batch and thread count."""
    import tfreeze

    started = time.perf_counter()
    with tfreeze.Model(entry["pb"], intra_op_threads=threads, inter_op_threads=1) as model:
        feeds = model.random_feeds(batch_size=batch)
        once = model.benchmark(feeds, warmup=2, iterations=3)["p50_us"]
    runs = plan.runs(once)
    warmup = plan.warmup_for(runs)
    p50, errors = {}, {}
    for name, options in TFREEZE_VARIANTS.items():
        try:
            p50[name] = tfreeze_p50(entry["pb"], options, threads, feeds, warmup, runs)
        except Exception as error:  # e.g. a graph the single-threaded executor refuses
            errors[name] = f"{type(error).__name__}: {str(error).splitlines()[0][:160]}"
    p50.update(python_loops(entry, feeds, threads, warmup, runs))
    elapsed = time.perf_counter() - started
    timed = sum((warmup + runs) * v for k, v in p50.items() if k != "keras") * 1e-6
    timed += (warmup + max(runs // 8, 3)) * p50["keras"] * 1e-6
    row = {"model": entry["kind"], "batch": batch, "threads": threads, "runs": runs}
    row |= {"p50_us": p50, "errors": errors, "base_p50_us": once}
    row["phase"] = {"fixed_s": max(elapsed - timed, 0.0), "timed_s": timed}
    print(
        f"  {entry['kind']} batch {batch} threads {threads}: "
        + ", ".join(f"{k} {v:.1f}" for k, v in p50.items()),
        flush=True,
    )
    return row


def main(spec_path: str, out_path: str) -> None:
    from plan import Plan

    spec = json.loads(Path(spec_path).read_text())
    plan = Plan(**spec["plan"])
    threads = spec["threads"]
    import tensorflow as tf

    # Before any op runs: Keras's eager calls use these global pools.
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    rows = [
        measure(entry, batch, threads, plan)
        for entry in spec["models"]
        for batch in spec["batches"]
    ]
    Path(out_path).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main(*sys.argv[1:])
