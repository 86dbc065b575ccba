"""`tfreeze bench`: latency of a .pb in tfreeze's C++ loop, optionally compared
in the same run with Python session.run on the same file, ONNX Runtime (the
file converted with tf2onnx) and a Keras call, over batch sizes and thread
counts; plus cold start (load, time to first result, peak RSS) measured in
fresh processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tfreeze.measure.latency import time_python_loop
from tfreeze.runtime.model import Model

__all__ = [
    "RUNNERS",
    "BenchRow",
    "cold_start",
    "measure_runner",
    "plot",
    "plot_figure",
    "run_bench",
]

RUNNERS = ("tfreeze", "python", "onnxruntime", "keras")


@dataclass
class BenchRow:
    runner: str
    batch: int
    threads: int | None
    stats: dict[str, Any]
    samples_us: list[float] = field(default_factory=list)
    error: str | None = None  # a comparison runner that could not run this model
    executor: str | None = None  # tfreeze's rows: the executor its session ran with

    @property
    def throughput(self) -> float:
        """Items per second at the mean latency."""
        mean = self.stats.get("mean_us", 0)
        return self.batch * 1e6 / mean if mean else 0.0

    def as_dict(self) -> dict[str, Any]:
        base = {"runner": self.runner, "batch": self.batch, "threads": self.threads}
        if self.executor:
            base["executor"] = self.executor
        if self.error:
            return {**base, "error": self.error}
        return {**base, **self.stats, "throughput_per_s": self.throughput}


def _check_runners(runners: Iterable[str], source: Any) -> list[str]:
    chosen = list(runners)
    for runner in chosen:
        if runner not in RUNNERS:
            raise ValueError(f"unknown runner {runner!r}; choose from: {', '.join(RUNNERS)}")
    if "keras" in chosen and source is None:
        raise ValueError("comparing with keras needs the source model (--source MODEL.keras)")
    if "onnxruntime" in chosen:
        missing = [m for m in ("tf2onnx", "onnxruntime") if not _importable(m)]
        if missing:
            raise ValueError(
                f"comparing with onnxruntime needs {' and '.join(missing)}: "
                f"pip install {' '.join(missing)} (or, from the tfreeze checkout, "
                'pip install ".[bench]")'
            )
    return chosen


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _onnx_step(path: str, model: Model, feeds: dict, threads: int | None) -> Callable[[], Any]:
    import onnxruntime as ort
    import tensorflow as tf
    import tf2onnx

    graph_def = tf.compat.v1.GraphDef()
    with open(path, "rb") as file:
        graph_def.ParseFromString(file.read())
    proto, _ = tf2onnx.convert.from_graph_def(
        graph_def,
        input_names=[f"{n}:0" for n in model.input_names],
        output_names=[f"{n}:0" for n in model.output_names],
        opset=17,
    )
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or 0
    options.inter_op_num_threads = threads or 0
    session = ort.InferenceSession(
        proto.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    onnx_feeds = {f"{name}:0": value for name, value in feeds.items()}
    return lambda: session.run(None, onnx_feeds)


def measure_runner(
    runner: str,
    path: str,
    model: Model,
    source: Any,
    feeds: dict,
    threads: int | None,
    warmup: int,
    iterations: int,
) -> dict[str, Any]:
    if runner == "tfreeze":
        return model.benchmark(feeds, warmup=warmup, iterations=iterations)
    if runner == "python":
        from tfreeze.runtime.python_session import PythonSession

        with PythonSession(path, intra_op_threads=threads, inter_op_threads=threads) as session:
            return time_python_loop(
                lambda: session.run(feeds), warmup=warmup, iterations=iterations
            )
    if runner == "onnxruntime":
        step = _onnx_step(path, model, feeds, threads)
        return time_python_loop(step, warmup=warmup, iterations=iterations)
    from tfreeze.freezer.keras_io import KerasIO, load_keras_model

    io = KerasIO.of(load_keras_model(source))
    flat = [feeds[name] for name in model.input_names]
    return time_python_loop(lambda: io.call(flat), warmup=warmup, iterations=iterations)


def run_bench(
    path: str,
    *,
    batches: list[int],
    threads: list[int | None],
    runners: Iterable[str] = ("tfreeze",),
    source: Any = None,
    warmup: int = 10,
    iterations: int = 200,
    progress: Callable[[str], None] | None = None,
    **model_options: Any,
) -> list[BenchRow]:
    """Every runner x batch x thread count, in one process, on the same inputs."""
    chosen = _check_runners(runners, source)
    if "keras" in chosen:
        _set_eager_threads(threads[0])
    rows = []
    for thread_count in threads:
        # With caller_thread the calling thread is the one inter-op thread.
        inter_op = None if model_options.get("caller_thread") else thread_count
        model = Model(
            path, intra_op_threads=thread_count, inter_op_threads=inter_op, **model_options
        )
        for batch in batches:
            feeds = model.random_feeds(batch_size=batch)
            for runner in chosen:
                if progress:
                    progress(f"{runner}, batch {batch}, threads {thread_count or 'auto'}")
                rows.append(
                    _row(
                        runner, path, model, source, feeds, thread_count, batch, warmup, iterations
                    )
                )
    return rows


def _row(
    runner: str,
    path: str,
    model: Model,
    source: Any,
    feeds: dict,
    threads: int | None,
    batch: int,
    warmup: int,
    iterations: int,
) -> BenchRow:
    try:
        stats = measure_runner(runner, path, model, source, feeds, threads, warmup, iterations)
    except Exception as error:
        if runner == "tfreeze":
            raise
        # A comparison that cannot run this model (tf2onnx has no converter for
        # an op, say) is reported, not fatal: tfreeze's own figures still stand.
        reason = str(error).strip().splitlines()
        return BenchRow(
            runner,
            batch,
            threads,
            {},
            error=f"{type(error).__name__}: {reason[0] if reason else ''}"[:200],
        )
    samples = stats.pop("samples_us")
    executor = model.executor if runner == "tfreeze" else None
    return BenchRow(runner, batch, threads, stats, samples, executor=executor)


def _set_eager_threads(threads: int | None) -> None:
    """Keras runs eagerly on TensorFlow's global pools, which take their size
    once, before the first op: so the keras runner uses the first --threads."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads or 0)
        tf.config.threading.set_inter_op_parallelism_threads(threads or 0)
    except RuntimeError:  # already initialized in this process
        pass


def cold_start(
    path: str,
    batch: int,
    runners: Iterable[str] = ("tfreeze", "python"),
) -> dict[str, dict[str, float]]:
    """Load time, process start to first result, and peak RSS, each runner in a
    fresh interpreter."""
    results = {}
    for runner in runners:
        spawned = time.time()
        done = subprocess.run(
            [sys.executable, "-m", "tfreeze.measure.startup", runner, os.fspath(path), str(batch)],
            capture_output=True,
            text=True,
            check=True,
        )
        report = json.loads(done.stdout.strip().splitlines()[-1])
        report["process_to_first_result_ms"] = (report.pop("first_result_at") - spawned) * 1e3
        report.pop("started_at")
        results[runner] = report
    return results


def plot(rows: list[BenchRow], destination: str) -> None:
    """Latency distribution at the smallest batch, and p50 against batch size:
    one series per runner and thread count."""
    import matplotlib.pyplot as plt

    figure = plot_figure(rows)
    # bbox_inches="tight" keeps the legend, which sits outside the plots.
    figure.savefig(destination, dpi=110, bbox_inches="tight")
    plt.close(figure)


def _series(rows: list[BenchRow]) -> dict[str, list[BenchRow]]:
    """Label -> rows, one per (runner, threads); the thread count named only
    when several were measured."""
    several = len({row.threads for row in rows}) > 1
    series: dict[str, list[BenchRow]] = {}
    for row in rows:
        label = row.runner
        if several:
            label += f", {row.threads or 'default'} thread{'s' if row.threads != 1 else ''}"
        series.setdefault(label, []).append(row)
    return series


def plot_figure(rows: list[BenchRow]) -> Any:
    """The matplotlib Figure ``plot`` saves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [row for row in rows if not row.error]
    smallest = min(row.batch for row in rows)
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    bins = _log_bins(rows, smallest)
    for label, series in _series(rows).items():
        samples = [r.samples_us for r in series if r.batch == smallest]
        if samples:
            left.hist(samples[0], bins=bins, alpha=0.5, label=label)
        curve = sorted((r.batch, r.stats["p50_us"]) for r in series)
        right.plot([b for b, _ in curve], [p for _, p in curve], marker="o", label=label)
    left.set(
        title=f"latency distribution, batch {smallest}",
        xlabel="µs per run",
        ylabel="runs",
        xscale="log",
    )
    right.set(
        title="p50 latency by batch size",
        xlabel="batch size",
        ylabel="µs per run",
        xscale="log",
        yscale="log",
    )
    # One legend for both plots, to the right of them, where it covers no data.
    handles, labels = right.get_legend_handles_labels()
    right.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    figure.tight_layout()
    return figure


def _log_bins(rows: list[BenchRow], batch: int) -> np.ndarray:
    """Shared log-spaced bins: runners can differ by 100x."""
    values = np.concatenate([r.samples_us for r in rows if r.batch == batch])
    return np.geomspace(np.percentile(values, 0.5), np.percentile(values, 99.5), 60)
