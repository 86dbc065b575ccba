"""Grappler on a frozen graph, in a child process.

Grappler aborts the whole process on some inputs (a MetaGraphDef without
dtypes, for one), so ``optimize_graph`` runs it in a ``python -m
tfreeze.freezer.optimize --serve`` child (kept for the next graph): a crash there is
a message here, and the freezer keeps the unoptimized graph.

Passes: constant folding, arithmetic simplification, dependency and loop
optimization, shape optimization and pruning of dead nodes. Together these
fold Keras 3's inference BatchNorm into the preceding weights. Layout and
remapping (fused-op) passes are left to the runtime: TensorFlow runs them
when a session is created, for the device the model actually runs on, and
baking one device's choice into the file would hurt the others.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["OptimizeResult", "optimize_graph"]

_PASSES = ("constfold", "arithmetic", "dependency", "loop", "shape", "pruning", "function")


@dataclass
class OptimizeResult:
    graph_def: Any  # the optimized graph, or the input when optimization failed
    error: str | None  # why grappler failed, when it did


class _Worker:
    """One long-lived ``python -m tfreeze.freezer.optimize --serve`` child: importing
    TensorFlow takes seconds, so freezing many models reuses it. A crashed
    worker is replaced on the next request."""

    command = [sys.executable, "-m", __name__, "--serve"]

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._stderr: Any = None
        self._lock = threading.Lock()

    def _start(self) -> subprocess.Popen:
        if self._process is None or self._process.poll() is not None:
            environment = dict(os.environ)
            environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            # Kept open for the worker's life: read when it dies.
            self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
            self._process = subprocess.Popen(
                self.command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                text=True,
                env=environment,
            )
        return self._process

    def request(self, message: dict, timeout: float) -> str | None:
        """Sends one job; returns None on success, else why it failed. One job
        at a time; a job cut short (Ctrl-C) takes the worker down with it, so a
        late reply can never answer the next job."""
        with self._lock:
            try:
                return self._exchange(message, timeout)
            except BaseException:
                self.stop()
                raise

    def _exchange(self, message: dict, timeout: float) -> str | None:
        process = self._start()
        try:
            process.stdin.write(json.dumps(message) + "\n")
            process.stdin.flush()
        except BrokenPipeError:
            pass
        ready, _, _ = select.select([process.stdout], [], [], timeout)
        if not ready:
            self.stop()
            return f"grappler did not finish in {timeout:.0f} s"
        reply = process.stdout.readline()
        if reply:
            return json.loads(reply).get("error")
        process.wait()
        return self._describe_crash(process.returncode)

    def _describe_crash(self, status: int) -> str:
        self._stderr.seek(0)
        lines = [line for line in self._stderr.read().splitlines() if line.strip()]
        last = lines[-1].strip() if lines else "no message"
        self._process = None
        if status < 0:
            return f"grappler crashed (signal {-status}): {last}"
        return f"grappler failed (exit status {status}): {last}"

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._process = None


_worker = _Worker()
atexit.register(_worker.stop)


def optimize_graph(
    graph_def: Any,
    feeds: list[tuple[str, str]],
    fetches: list[str],
    timeout: float = 600.0,
) -> OptimizeResult:
    """``feeds``: (tensor name, dtype name) of each input; ``fetches``: tensor
    or op names grappler must keep (outputs and init ops)."""
    import tensorflow as tf

    with tempfile.TemporaryDirectory(prefix="tfreeze-optimize-") as directory:
        source = os.path.join(directory, "in.pb")
        target = os.path.join(directory, "out.pb")
        with open(source, "wb") as file:
            file.write(graph_def.SerializeToString())
        message = {"source": source, "target": target, "feeds": feeds, "fetches": fetches}
        error = _worker.request(message, timeout)
        if error is not None:
            return OptimizeResult(graph_def, error)
        optimized = tf.compat.v1.GraphDef()
        with open(target, "rb") as file:
            optimized.ParseFromString(file.read())
    return OptimizeResult(optimized, None)


def _meta_graph(graph_def: Any, feeds: list[tuple[str, str]], fetches: list[str]) -> Any:
    import tensorflow as tf

    meta = tf.compat.v1.MetaGraphDef()
    meta.graph_def.CopyFrom(graph_def)
    signature = meta.signature_def["serving_default"]
    for i, (tensor, dtype) in enumerate(feeds):
        signature.inputs[f"input_{i}"].name = tensor
        # Grappler aborts the process on a signature entry without a dtype.
        signature.inputs[f"input_{i}"].dtype = tf.as_dtype(dtype).as_datatype_enum
    # Fetches in the train_op collection are what grappler must preserve.
    meta.collection_def["train_op"].node_list.value.extend(fetches)
    return meta


def _config() -> Any:
    import tensorflow as tf

    config = tf.compat.v1.ConfigProto()
    rewrites = config.graph_options.rewrite_options
    rewrites.optimizers.extend(_PASSES)
    rewrites.min_graph_nodes = -1  # small graphs too
    return config


def _optimize_file(job: dict) -> None:
    import tensorflow as tf
    from tensorflow.python.grappler import tf_optimizer

    graph_def = tf.compat.v1.GraphDef()
    with open(job["source"], "rb") as file:
        graph_def.ParseFromString(file.read())
    meta = _meta_graph(graph_def, job["feeds"], job["fetches"])
    optimized = tf_optimizer.OptimizeGraph(_config(), meta, graph_id=b"tfreeze")
    with open(job["target"], "wb") as file:
        file.write(optimized.SerializeToString())


def main() -> int:
    """Serves jobs, one JSON line each, answering one JSON line each. Python
    errors are answered; a grappler abort kills the process, which the parent
    sees as end of output."""
    for line in sys.stdin:
        try:
            _optimize_file(json.loads(line))
            reply: dict = {}
        except Exception as error:  # noqa: BLE001 - reported to the parent
            reply = {"error": f"grappler failed: {type(error).__name__}: {error}"}
        print(json.dumps(reply), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
