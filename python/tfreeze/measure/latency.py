"""Latency of the same model run three ways, measured the same way: tfreeze's
C++ loop, Python TensorFlow's session.run on the same .pb, and a Keras call."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from tfreeze._native import _core
from tfreeze.runtime.model import Model

__all__ = [
    "cpp_latency",
    "keras_latency",
    "python_session_latency",
    "time_against_empty",
    "time_python_loop",
]


def time_python_loop(
    step: Callable[[], Any], *, warmup: int = 10, iterations: int = 200
) -> dict[str, Any]:
    """Runs ``step`` in a Python loop; the statistics are computed by the same
    C++ code as the C++ loop's, so the figures are comparable."""
    for _ in range(warmup):
        step()
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        step()
        samples.append((time.perf_counter() - started) * 1e6)
    return _core.summarize_latencies(samples)


def time_against_empty(
    step: Callable[[], Any],
    empty_step: Callable[[], Any],
    *,
    warmup: int = 10,
    iterations: int = 200,
    blocks: int = 4,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``step`` and ``empty_step`` (the same loop on a model that computes
    nothing) timed in alternating blocks, so that a machine whose speed drifts
    during the run shifts both figures alike and their difference holds."""
    for _ in range(warmup):
        step()
        empty_step()
    samples: tuple[list[float], list[float]] = ([], [])
    sizes = [iterations // blocks + (k < iterations % blocks) for k in range(blocks)]
    for size in filter(None, sizes):
        for function, into in ((step, samples[0]), (empty_step, samples[1])):
            for _ in range(size):
                started = time.perf_counter()
                function()
                into.append((time.perf_counter() - started) * 1e6)
    return _core.summarize_latencies(samples[0]), _core.summarize_latencies(samples[1])


def cpp_latency(
    pb_path: str | os.PathLike[str],
    feeds: dict[str, np.ndarray],
    *,
    threads: int | None = 1,
    warmup: int = 10,
    iterations: int = 200,
) -> dict[str, Any]:
    model = Model(pb_path, intra_op_threads=threads, inter_op_threads=threads)
    return model.benchmark(feeds, warmup=warmup, iterations=iterations)


def python_session_latency(
    pb_path: str | os.PathLike[str],
    feeds: dict[str, np.ndarray],
    *,
    threads: int | None = 1,
    warmup: int = 10,
    iterations: int = 200,
) -> dict[str, Any]:
    from tfreeze.runtime.python_session import PythonSession

    with PythonSession(pb_path, intra_op_threads=threads, inter_op_threads=threads) as session:
        return time_python_loop(lambda: session.run(feeds), warmup=warmup, iterations=iterations)


def keras_latency(
    model: Any, flat_inputs: list[np.ndarray], *, warmup: int = 10, iterations: int = 200
) -> dict[str, Any]:
    """A Keras call, ``model(x, training=False)``, eager, as users run it."""
    from tfreeze.freezer.keras_io import KerasIO

    io = KerasIO.of(model)
    return time_python_loop(lambda: io.call(flat_inputs), warmup=warmup, iterations=iterations)
