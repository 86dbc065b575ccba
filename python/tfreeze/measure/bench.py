"""`tfreeze bench`: latency of a .pb in tfreeze's C++ loop, optionally compared
in the same run with peers (tfreeze.measure.peers: Python session.run on the
same file, ONNX Runtime on it converted by tf2onnx, OpenVINO reading it, a
Keras call), over batch sizes and thread counts; plus cold start (load, time
to first result, peak RSS) measured in fresh processes.

A peer runs in a Python loop; the same loop on an empty model with the same
inputs is timed beside it, so each peer has a raw figure (what a Python user
sees) and a compute figure (raw minus that loop), and tfreeze is divided by
both, each ratio naming its divisor."""

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

from tfreeze.measure.latency import time_against_empty
from tfreeze.measure.peers import MODULES, PEERS, PeerCannotRun, read_signature
from tfreeze.runtime.model import Model
from tfreeze.signature import Signature

__all__ = [
    "RUNNERS",
    "BenchRow",
    "cold_start",
    "measure_peer",
    "plot",
    "plot_figure",
    "run_bench",
]

RUNNERS = ("tfreeze", "python", "onnxruntime", "openvino", "keras")

# A peer's compute (raw minus its loop) is floored here: when the empty
# model's loop is as slow as the model's, the difference is noise, not speed.
COMPUTE_FLOOR_US = 0.01


@dataclass
class BenchRow:
    """One runner at one batch and thread count. A peer's ``stats`` are its
    raw Python-loop figures; ``loop_p50_us`` is the same loop on the empty
    model, and ``ratios`` say what tfreeze's p50 is divided by."""

    runner: str
    batch: int
    threads: int | None
    stats: dict[str, Any]
    samples_us: list[float] = field(default_factory=list)
    error: str | None = None  # a comparison runner that could not run this model
    executor: str | None = None  # tfreeze's rows: the executor its session ran with
    loop_p50_us: float | None = None  # a peer's empty-model loop
    peer: dict[str, Any] = field(default_factory=dict)  # Peer.describe()
    ratios: list[dict[str, Any]] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        """Items per second at the mean latency."""
        mean = self.stats.get("mean_us", 0)
        return self.batch * 1e6 / mean if mean else 0.0

    @property
    def below_loop_noise(self) -> bool:
        return self.loop_p50_us is not None and self.loop_p50_us >= self.stats["p50_us"]

    @property
    def compute_p50_us(self) -> float:
        """A peer's p50 without its Python loop; tfreeze's own p50."""
        if self.loop_p50_us is None:
            return self.stats["p50_us"]
        return max(self.stats["p50_us"] - self.loop_p50_us, COMPUTE_FLOOR_US)

    def as_dict(self) -> dict[str, Any]:
        base = {"runner": self.runner, "batch": self.batch, "threads": self.threads}
        if self.executor:
            base["executor"] = self.executor
        if self.error:
            return {**base, "error": self.error}
        figures = {**self.stats, "throughput_per_s": self.throughput}
        if self.loop_p50_us is None:
            return {**base, "timed": "C++ loop", "precision": "fp32", **figures}
        return {
            **base,
            "timed": "Python loop",
            **self.peer,
            **figures,
            "raw_p50_us": self.stats["p50_us"],
            "loop_p50_us": self.loop_p50_us,
            "compute_p50_us": self.compute_p50_us,
            "below_loop_noise": self.below_loop_noise,
            "ratios": self.ratios,
        }


def _check_runners(runners: Iterable[str], source: Any) -> list[str]:
    chosen = list(runners)
    for runner in chosen:
        if runner not in RUNNERS:
            raise ValueError(f"unknown runner {runner!r}; choose from: {', '.join(RUNNERS)}")
    if "keras" in chosen and source is None:
        raise ValueError("comparing with keras needs the source model (--source MODEL.keras)")
    for runner in chosen:
        missing = [m for m in MODULES.get(runner, ()) if not _importable(m)]
        if missing:
            raise ValueError(
                f"comparing with {runner} needs {' and '.join(missing)}: "
                f"pip install {' '.join(missing)} (or, from the tfreeze checkout, "
                'pip install ".[bench]")'
            )
    return chosen


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def measure_peer(
    runner: str,
    path: str,
    signature: Signature,
    source: Any,
    feeds: dict,
    threads: int | None,
    warmup: int,
    iterations: int,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A peer's raw Python-loop figures, the same loop's on the empty model,
    and the peer's settings (precision, threads)."""
    peer = PEERS[runner](path, signature, feeds, threads, source)
    raw, loop = time_against_empty(peer.step, peer.empty_step, warmup=warmup, iterations=iterations)
    return raw, loop, peer.describe()


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
    signature = read_signature(path) if len(chosen) > 1 else None
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
                if runner == "tfreeze":
                    rows.append(_tfreeze_row(model, feeds, thread_count, batch, warmup, iterations))
                    continue
                keras_threads = threads[0] if runner == "keras" else thread_count
                measure = (
                    runner,
                    path,
                    signature,
                    source,
                    feeds,
                    keras_threads,
                    warmup,
                    iterations,
                )
                rows.append(_peer_row(measure, batch, thread_count))
    _add_ratios(rows)
    return rows


def _tfreeze_row(
    model: Model, feeds: dict, threads: int | None, batch: int, warmup: int, iterations: int
) -> BenchRow:
    stats = model.benchmark(feeds, warmup=warmup, iterations=iterations)
    samples = stats.pop("samples_us")
    return BenchRow("tfreeze", batch, threads, stats, samples, executor=model.executor)


def _peer_row(measure: tuple, batch: int, threads: int | None) -> BenchRow:
    runner, peer_threads = measure[0], measure[5]
    if peer_threads != threads:
        return BenchRow(runner, batch, threads, {}, error=_KERAS_THREADS.format(peer_threads))
    try:
        raw, loop, described = measure_peer(*measure)
    except Exception as error:
        # A comparison that cannot run this model (tf2onnx has no converter for
        # an op, say) is reported, not fatal: tfreeze's own figures still stand.
        reason = str(error).strip().splitlines()
        kind = "" if isinstance(error, PeerCannotRun) else f"{type(error).__name__}: "
        return BenchRow(runner, batch, threads, {}, error=f"{kind}{reason[0] if reason else ''}")
    samples = raw.pop("samples_us")
    return BenchRow(
        runner, batch, threads, raw, samples, loop_p50_us=loop["p50_us"], peer=described
    )


_KERAS_THREADS = (
    "runs on TensorFlow's global thread pools, sized once per process: measured only at the "
    "first --threads ({})"
)


def _add_ratios(rows: list[BenchRow]) -> None:
    """tfreeze's p50 over each peer's compute (the headline) and over its raw
    Python-loop figure, each saying which figure it divides by."""
    tfreeze = {(r.batch, r.threads): r.stats["p50_us"] for r in rows if r.runner == "tfreeze"}
    for row in rows:
        if row.loop_p50_us is None or (row.batch, row.threads) not in tfreeze:
            continue
        ours = tfreeze[(row.batch, row.threads)]
        row.ratios = [
            {
                "name": f"tfreeze / {label}",
                "value": ours / divisor,
                "numerator": "tfreeze p50_us",
                "ratio_to": field_name,
            }
            for label, field_name, divisor in (
                ("compute", "compute_p50_us", row.compute_p50_us),
                ("raw", "raw_p50_us", row.stats["p50_us"]),
            )
        ]


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
