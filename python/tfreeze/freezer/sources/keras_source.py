"""Keras 3 sources: a model object, a ``.keras`` file, a Keras 3 ``.h5`` file."""

from __future__ import annotations

from typing import Any

from tfreeze.errors import FreezeError
from tfreeze.freezer.keras_fixes import traceable_keras
from tfreeze.freezer.keras_io import KerasIO, load_keras_model
from tfreeze.freezer.sources.base import (
    FreezeOptions,
    Opened,
    SourceLoadError,
    Stages,
    first_line,
    numpy_inputs,
)
from tfreeze.freezer.sources.functions import freeze_concrete

__all__ = ["h5_keras_version", "open_keras_file", "open_keras_model"]


def h5_keras_version(path: str) -> str | None:
    """The ``keras_version`` an .h5 file was written by (None when unrecorded)."""
    import h5py

    with h5py.File(path, "r") as file:
        version = file.attrs.get("keras_version")
    if isinstance(version, bytes):
        version = version.decode()
    return version


def open_keras_file(path: str, options: FreezeOptions, stages: Stages) -> Opened:
    import keras

    with stages("load"):
        try:
            model = load_keras_model(path)
        except Exception as error:
            raise SourceLoadError(
                f"Keras {keras.__version__}", path, f"{type(error).__name__}: {first_line(error)}"
            ) from error
    return open_keras_model(model, options, stages, kind="keras-file")


def open_keras_model(
    model: Any, options: FreezeOptions, stages: Stages, *, kind: str = "keras"
) -> Opened:
    import tensorflow as tf

    io = KerasIO.of(model)
    with stages("trace"):
        specs = [
            tf.TensorSpec(tuple(t.shape), tf.as_dtype(t.dtype), name=f"input_{i}")
            for i, t in enumerate(io.input_tensors)
        ]

        def inference(*flat_inputs: Any) -> list[Any]:
            return io.call(flat_inputs)

        notes: list[str] = []
        try:
            with traceable_keras(notes):
                concrete = tf.function(inference).get_concrete_function(*specs)
        except Exception as error:
            raise FreezeError(f"could not trace model {model.name!r}: {error}") from error
    with stages("convert"):
        frozen = freeze_concrete(
            concrete, io.input_names, io.output_names, keep_control_flow=options.keep_control_flow
        )
    return Opened(
        kind=kind,
        name=model.name,
        graph_def=frozen.graph_def,
        inputs=frozen.inputs,
        outputs=frozen.outputs,
        reference=lambda values: numpy_inputs(io.call(values)),
        init=frozen.init,
        notes=list(dict.fromkeys(notes)),
    )
