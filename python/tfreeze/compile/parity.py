"""Parity of a compiled model with its frozen file: the file's stored test
vectors (inputs and the source model's outputs) run through the generated
checker, ``bin/NAME-check``, at each compiled batch size.

XLA fuses and reorders floating-point work, so bit-exactness is not expected:
floats pass within ``rtol``/``atol`` (numpy.allclose); integers and bools must
be equal.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from tfreeze.errors import CompileError
from tfreeze.signature import Signature, verify_node

__all__ = ["QUIET_ENV", "TOLERANCE", "check_parity", "stored_cases"]

# libtensorflow_framework.so.2 (linked for absl) logs a oneDNN notice when it
# loads unless oneDNN is off; compiled code never uses oneDNN.
QUIET_ENV = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0"}

# float32: XLA's fused kernels and reassociated sums differ from TensorFlow's
# in the last bits; these bounds hold for small models (docs/compile.md).
TOLERANCE = {"rtol": 1e-4, "atol": 1e-5}


def stored_cases(graph_def: Any, signature: Signature) -> list[tuple[list, list]]:
    """(inputs, expected outputs) of each stored case, as numpy arrays."""
    import tensorflow as tf

    if not signature.verify:
        return []
    constants = {node.name: node for node in graph_def.node}

    def value(name: str) -> np.ndarray:
        return tf.make_ndarray(constants[name].attr["value"].tensor)

    return [
        (
            [value(verify_node(c, "input", i)) for i in range(len(signature.inputs))],
            [value(verify_node(c, "output", j)) for j in range(len(signature.outputs))],
        )
        for c in range(int(signature.verify["cases"]))
    ]


def check_parity(
    checker: Path, batches: list[int], cases: list[tuple[list, list]], dtypes: list[str]
) -> dict:
    """Runs every stored row through the checker in chunks of each batch size
    (the last chunk padded with its last row); the largest differences and
    whether they are within ``TOLERANCE``."""
    worst = {"max_abs": 0.0, "max_rel": 0.0}
    failures = []
    rows = 0
    for batch in batches:
        for inputs, expected in cases:
            for start in range(0, len(inputs[0]), batch):
                chunk = [x[start : start + batch] for x in inputs]
                got = _run_chunk(checker, batch, chunk, dtypes)
                want = [y[start : start + batch] for y in expected]
                failures += _compare(got, want, worst, batch, start)
                rows += len(want[0])
    return {**TOLERANCE, **worst, "rows": rows, "passed": not failures, "failures": failures}


def _run_chunk(
    checker: Path, batch: int, chunk: list[np.ndarray], dtypes: list[str]
) -> list[np.ndarray]:
    padded = [np.concatenate([x, np.repeat(x[-1:], batch - len(x), axis=0)]) for x in chunk]
    with tempfile.TemporaryDirectory(prefix="tfreeze-parity-") as scratch:
        in_paths = [Path(scratch, f"in{i}.bin") for i in range(len(padded))]
        for path, array in zip(in_paths, padded, strict=True):
            path.write_bytes(np.ascontiguousarray(array).tobytes())
        out_paths = [Path(scratch, f"out{j}.bin") for j in range(len(dtypes))]
        result = subprocess.run(
            [str(checker), str(batch), *map(str, in_paths), *map(str, out_paths)],
            capture_output=True,
            text=True,
            env=QUIET_ENV,
        )
        if result.returncode != 0:
            raise CompileError(f"parity check failed to run: {result.stderr.strip()}")
        return [
            np.frombuffer(path.read_bytes(), dtype=dtype).reshape(batch, -1)[: len(chunk[0])]
            for path, dtype in zip(out_paths, dtypes, strict=True)
        ]


def _compare(got: list, want: list, worst: dict, batch: int, start: int) -> list[str]:
    failures = []
    for j, (actual, expected) in enumerate(zip(got, want, strict=True)):
        expected = np.asarray(expected).reshape(len(expected), -1)
        if expected.dtype.kind == "f":
            difference = np.abs(actual.astype(np.float64) - expected)
            worst["max_abs"] = max(worst["max_abs"], float(difference.max(initial=0)))
            relative = difference / np.maximum(np.abs(expected), np.finfo(np.float32).tiny)
            worst["max_rel"] = max(worst["max_rel"], float(relative.max(initial=0)))
            ok = np.allclose(actual, expected, **TOLERANCE)
        else:
            ok = np.array_equal(actual, expected)
        if not ok:
            failures.append(f"output {j}, batch {batch}, rows from {start}")
    return failures
