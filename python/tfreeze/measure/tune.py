"""`tfreeze tune`: find the fastest session configuration for one model and
batch size, and write it as a config file that tfreeze.Model(config=...),
the C++ LoadOptionsFile and the tools' --config accept.

Each trial runs in a fresh process, because two of the knobs (oneDNN, XLA's
CPU clustering) are fixed for the life of a process. The search is coordinate
descent from tfreeze's defaults: thread counts first, then the executor the
default "auto" did not pick for this graph, oneDNN, XLA, Grappler and
caller-thread runs one at a time, keeping each change only if the p50 drops.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Trial", "tune", "write_config"]

_ONEDNN = "TF_ENABLE_ONEDNN_OPTS"


@dataclass
class Trial:
    options: dict[str, Any]
    environment: dict[str, str]
    p50_us: float = float("inf")
    error: str | None = None
    executor: str | None = None  # the one the session ran with

    def label(self) -> str:
        parts = [f"{k}={v}" for k, v in self.options.items()]
        parts += [f"{k}={v}" for k, v in self.environment.items()]
        return ", ".join(parts) or "TensorFlow defaults"


@dataclass
class TuneResult:
    best: Trial
    default: Trial
    trials: list[Trial] = field(default_factory=list)

    @property
    def speedup(self) -> float:
        return self.default.p50_us / self.best.p50_us


def _run_trial(path: str, trial: Trial, batch: int, iterations: int) -> Trial:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **trial.environment}
    command = [
        sys.executable,
        "-m",
        "tfreeze.measure.tune",
        "--worker",
        os.fspath(path),
        json.dumps(trial.options),
        str(batch),
        str(iterations),
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode == 0:
        result = json.loads(done.stdout.strip().splitlines()[-1])
        trial.p50_us, trial.executor = result["p50_us"], result["executor"]
    else:
        trial.error = (done.stderr.strip().splitlines() or ["failed"])[-1]
    return trial


def tune(
    path: str | os.PathLike[str],
    *,
    batch: int = 1,
    iterations: int = 300,
    progress: Callable[[str], None] | None = None,
) -> TuneResult:
    cores = os.cpu_count() or 1
    thread_choices = sorted({1, cores})
    trials: list[Trial] = []

    def attempt(options: dict[str, Any], environment: dict[str, str]) -> Trial:
        trial = Trial(dict(options), dict(environment))
        if progress:
            progress(trial.label())
        trials.append(_run_trial(os.fspath(path), trial, batch, iterations))
        return trial

    default = attempt({}, {})
    best = default
    for intra in thread_choices:
        for inter in thread_choices:
            trial = attempt({"intra_op_threads": intra, "inter_op_threads": inter}, {})
            best = trial if trial.p50_us < best.p50_us else best
    # The defaults' "auto" picked one executor for this graph: try the other.
    other = "default" if best.executor == "single_threaded" else "single_threaded"
    for options, environment in (
        ({"executor": other}, {}),
        ({}, {_ONEDNN: "0"}),
        # XLA's clusters need TensorFlow's executor: "auto" keeps it with xla on,
        # where a single_threaded kept from the step before would refuse to load.
        ({"xla": True, "executor": "auto"}, {}),
        ({"graph_optimizations": False}, {}),
    ):
        trial = attempt({**best.options, **options}, {**best.environment, **environment})
        best = trial if trial.p50_us < best.p50_us else best
    # The calling thread as the only inter-op thread: replaces inter_op_threads.
    caller = {k: v for k, v in best.options.items() if k != "inter_op_threads"}
    trial = attempt({**caller, "caller_thread": True}, best.environment)
    best = trial if trial.p50_us < best.p50_us else best
    return TuneResult(best=best, default=default, trials=trials)


def write_config(
    result: TuneResult, destination: str | os.PathLike[str], *, model: str, batch: int
) -> dict[str, Any]:
    from tfreeze.files import write_atomically

    document = {
        "format": "tfreeze.config",
        "version": 1,
        "options": result.best.options,
        "environment": result.best.environment,
        "tuned_for": {
            "model": os.path.basename(model),
            "batch": batch,
            "p50_us": round(result.best.p50_us, 2),
            "default_p50_us": round(result.default.p50_us, 2),
            "speedup": round(result.speedup, 3),
            "cpu_count": os.cpu_count(),
        },
        "trials": [
            {
                "options": t.options,
                "environment": t.environment,
                "p50_us": None if t.error else round(t.p50_us, 2),
                "error": t.error,
            }
            for t in result.trials
        ],
    }
    write_atomically(destination, (json.dumps(document, indent=2) + "\n").encode())
    return document


def _worker(path: str, options_json: str, batch: str, iterations: str) -> None:
    from tfreeze.runtime.model import Model

    model = Model(path, **json.loads(options_json))
    runs = int(iterations)
    stats = model.benchmark(batch_size=int(batch), warmup=min(30, runs), iterations=runs)
    print(json.dumps({"p50_us": stats["p50_us"], "executor": model.executor}))


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--worker":
        _worker(*sys.argv[2:])
    else:
        raise SystemExit(
            "internal: python -m tfreeze.measure.tune --worker MODEL OPTIONS BATCH ITERATIONS"
        )
