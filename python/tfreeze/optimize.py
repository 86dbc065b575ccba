"""Grappler on a frozen graph, in a child process.

Grappler aborts the whole process on some inputs (a MetaGraphDef without
dtypes, for one), so ``optimize_graph`` runs it in ``python -m
tfreeze.optimize``: a crash there is a message here, and the freezer keeps the
unoptimized graph.

Passes: constant folding, arithmetic simplification, dependency and loop
optimization, shape optimization and pruning of dead nodes. Together these
fold Keras 3's inference BatchNorm into the preceding weights. Layout and
remapping (fused-op) passes are left to the runtime: TensorFlow runs them
when a session is created, for the device the model actually runs on, and
baking one device's choice into the file would hurt the others.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import Any

__all__ = ["OptimizeResult", "optimize_graph"]

_PASSES = ("constfold", "arithmetic", "dependency", "loop", "shape", "pruning", "function")


@dataclass
class OptimizeResult:
    graph_def: Any  # the optimized graph, or the input when optimization failed
    error: str | None  # why grappler failed, when it did


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
        request = json.dumps({"feeds": feeds, "fetches": fetches})
        environment = dict(os.environ)
        environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        try:
            process = subprocess.run(
                [sys.executable, "-m", "tfreeze.optimize", source, target],
                input=request,
                capture_output=True,
                text=True,
                env=environment,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return OptimizeResult(graph_def, f"grappler did not finish in {timeout:.0f} s")
        if process.returncode != 0 or not os.path.exists(target):
            return OptimizeResult(graph_def, _describe_failure(process))
        optimized = tf.compat.v1.GraphDef()
        with open(target, "rb") as file:
            optimized.ParseFromString(file.read())
    return OptimizeResult(optimized, None)


def _describe_failure(process: subprocess.CompletedProcess) -> str:
    lines = [line for line in process.stderr.strip().splitlines() if line.strip()]
    last = lines[-1].strip() if lines else "no message"
    if process.returncode < 0:
        return f"grappler crashed (signal {-process.returncode}): {last}"
    return f"grappler failed (exit status {process.returncode}): {last}"


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


def main() -> int:
    import tensorflow as tf
    from tensorflow.python.grappler import tf_optimizer

    source, target = sys.argv[1:3]
    request = json.loads(sys.stdin.read())
    graph_def = tf.compat.v1.GraphDef()
    with open(source, "rb") as file:
        graph_def.ParseFromString(file.read())
    meta = _meta_graph(graph_def, request["feeds"], request["fetches"])
    optimized = tf_optimizer.OptimizeGraph(_config(), meta, graph_id=b"tfreeze")
    with open(target, "wb") as file:
        file.write(optimized.SerializeToString())
    return 0


if __name__ == "__main__":
    sys.exit(main())
