"""Building every source kind for the freezer's test matrix, and the checks
each frozen file must pass: C++ bit-exact with Python's run of the same .pb,
and within 1e-5 of the source's own prediction."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

import tfreeze
from tfreeze import cli
from tfreeze.compare import compare_arrays
from tfreeze.freezer.keras_io import KerasIO
from tfreeze.runtime.python_session import PythonSession

HERE = Path(__file__).parent


def freeze_by(how: str, source: Any, out: Path, **options: Any) -> None:
    """Freezes through the Python API or through the command line's own code."""
    if how == "api":
        tfreeze.freeze(source, out, **options)
        return
    argv = ["freeze", str(source), "-o", str(out)]
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            argv.append(flag if value else "--no-" + flag[2:])
        elif isinstance(value, list):
            argv += [flag, ",".join(value)]
        else:
            argv += [flag, str(value)]
    assert cli.main(argv) == 0, argv


def check_frozen(pb: Path, feeds: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> Any:
    """C++ == Python TensorFlow on the same .pb, bit for bit; both within
    1e-5 (rel) of the source. Returns the C++ model."""
    model = tfreeze.Model(pb, intra_op_threads=1, inter_op_threads=1)
    cpp = model.run(feeds)
    with PythonSession(pb, intra_op_threads=1, inter_op_threads=1) as session:
        python = session.run(feeds)
    assert sorted(cpp) == sorted(expected), f"outputs {list(cpp)} vs source {list(expected)}"
    for name, value in cpp.items():
        assert compare_arrays(value, python[name], rtol=0, atol=0).bit_exact, name
        diff = compare_arrays(value, expected[name], rtol=1e-5, atol=1e-6)
        assert diff.within_tolerance, (name, diff)
    return model


# ---------------------------------------------------------------- Keras 3


def keras_sources(model: Any, kind: str, folder: Path) -> Any:
    """One Keras 3 model as the source ``kind``."""
    if kind == "object":
        return model
    if kind in ("keras", "h5"):
        path = folder / f"{model.name}.{kind}"
        model.save(path)
        return str(path)
    if kind == "saved-model":
        path = folder / f"{model.name}_export"
        model.export(path, verbose=False)
        return str(path)
    if kind == "function":
        io = KerasIO.of(model)
        specs = [
            tf.TensorSpec(t.shape, t.dtype, name=name)
            for t, name in zip(io.input_tensors, io.input_names, strict=True)
        ]
        return tf.function(lambda *xs: io.call(xs), input_signature=specs)
    raise ValueError(kind)


def keras_expected(model: Any, frozen: Any, feeds: dict[str, np.ndarray]) -> dict:
    """The Keras model's prediction, keyed by the frozen file's output names.
    Inputs and outputs match by name where the file kept Keras's names, else
    by position (a SavedModel's single output is ``output_0``)."""
    io = KerasIO.of(model)
    names = [e.name for e in frozen.inputs]
    ordered = [feeds[n] if n in feeds else feeds[names[i]] for i, n in enumerate(io.input_names)]
    values = dict(zip(io.output_names, io.call(ordered), strict=True))
    positional = list(values.values())
    return {
        e.name: np.asarray(values[e.name] if e.name in values else positional[i])
        for i, e in enumerate(frozen.outputs)
    }


# ------------------------------------------------------ Keras 2 (tf_keras)


def build_legacy(folder: Path, kinds: list[str]) -> None:
    environment = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2")
    subprocess.run(
        [sys.executable, str(HERE / "legacy_models.py"), str(folder), *kinds],
        env=environment,
        check=True,
        capture_output=True,
    )


def legacy_case(folder: Path, kind: str) -> tuple[str, dict, dict]:
    data = np.load(folder / f"{kind}.npz")
    feeds = {k[3:]: data[k] for k in data.files if k.startswith("in_")}
    expected = {k[4:]: data[k] for k in data.files if k.startswith("out_")}
    return str(folder / f"{kind}.h5"), feeds, expected
