"""Legacy Keras 2 (``tf_keras``) .h5 files, frozen in a child process.

``TF_USE_LEGACY_KERAS=1`` changes what ``tf.keras`` means for a whole process
and must be set before TensorFlow is imported, so the file is loaded and
frozen by ``python -m tfreeze.freezer.legacy_child`` with that variable set;
Keras 3 in the caller's process is never touched. The child runs the same
freeze pipeline and prints its report as JSON on the last line of stdout.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from typing import Any

from tfreeze.errors import FreezeError
from tfreeze.freezer.sources.base import (
    FreezeOptions,
    Opened,
    SourceLoadError,
    Stages,
    numpy_inputs,
)
from tfreeze.freezer.sources.functions import freeze_concrete

__all__ = ["freeze_in_child", "legacy_loader_name", "open_legacy_model"]

REPORT_PREFIX = "tfreeze-report: "
STAGE_PREFIX = "tfreeze-stage: "
# A failure, one line: tf_keras could not load the file, or a later stage failed.
LOAD_ERROR_PREFIX = "tfreeze-load-error: "
ERROR_PREFIX = "tfreeze-error: "
# The child's entry point; named, not imported: it imports the pipeline, which imports this.
_CHILD_MODULE = "tfreeze.freezer.legacy_child"


def legacy_keras_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("tf_keras") is not None


def legacy_loader_name() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"tf_keras {version('tf-keras')}"
    except PackageNotFoundError:
        return "tf_keras"


def freeze_in_child(path: str, output_path: str, options: FreezeOptions, stages: Stages) -> dict:
    """Freezes a tf_keras .h5 in a child process; returns the report as a dict."""
    if not legacy_keras_available():
        raise FreezeError(
            f"{path!r} was written by Keras 2 (tf.keras); loading it needs the tf_keras "
            "package: pip install --no-deps 'tf-keras==2.21.*' (or pass legacy_keras=False / "
            "--no-legacy-keras to try Keras 3's own .h5 reader)"
        )
    environment = dict(os.environ, TF_USE_LEGACY_KERAS="1")
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    command = [sys.executable, "-m", _CHILD_MODULE, path, output_path]
    with tempfile.TemporaryFile(mode="w+") as stderr:
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=environment,
        )
        process.stdin.write(json.dumps(dataclasses.asdict(options)))
        process.stdin.close()
        report = load_error = error = None
        for line in process.stdout:
            if line.startswith(STAGE_PREFIX):
                stages.announce(line[len(STAGE_PREFIX) :].strip())
            elif line.startswith(REPORT_PREFIX):
                report = json.loads(line[len(REPORT_PREFIX) :])
            elif line.startswith(LOAD_ERROR_PREFIX):
                load_error = line[len(LOAD_ERROR_PREFIX) :].strip()
            elif line.startswith(ERROR_PREFIX):
                error = line[len(ERROR_PREFIX) :].strip()
        process.wait()
        stderr.seek(0)
        problem = _last_error(stderr.read()) or f"exit status {process.returncode}"
    if load_error is not None:
        raise SourceLoadError(legacy_loader_name(), path, load_error)
    if error is not None:
        raise FreezeError(error)
    if report is None:
        raise FreezeError(f"freezing legacy Keras file {path!r} failed: {problem}")
    return report


def _last_error(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        if "Error" in line or "error" in line:
            return line.strip()
    return lines[-1].strip() if lines else ""


def open_legacy_model(model: Any, options: FreezeOptions, stages: Stages) -> Opened:
    """A tf_keras model (only in a process with TF_USE_LEGACY_KERAS=1)."""
    import tensorflow as tf

    input_names = list(model.input_names)
    output_names = list(model.output_names)
    dict_inputs = isinstance(getattr(model, "_nested_inputs", None), dict)

    def call(values: list[Any]) -> list[Any]:
        packed = dict(zip(input_names, values, strict=True)) if dict_inputs else list(values)
        if not dict_inputs and len(values) == 1:
            packed = values[0]
        result = model(packed, training=False)
        if isinstance(result, dict):
            return [result[name] for name in output_names]
        return tf.nest.flatten(result)

    with stages("trace"):
        specs = [
            tf.TensorSpec(t.shape, t.dtype, name=f"input_{i}") for i, t in enumerate(model.inputs)
        ]
        concrete = tf.function(lambda *flat: call(list(flat))).get_concrete_function(*specs)
    with stages("convert"):
        frozen = freeze_concrete(
            concrete, input_names, output_names, keep_control_flow=options.keep_control_flow
        )
    return Opened(
        kind="keras2-h5",
        name=model.name,
        graph_def=frozen.graph_def,
        inputs=frozen.inputs,
        outputs=frozen.outputs,
        reference=lambda values: numpy_inputs(call(values)),
        init=frozen.init,
    )
