"""Every kind of TensorFlow/Keras source the freezer takes, each opened into
the same thing: a graph without variables plus its named inputs and outputs
(``Opened``). ``kind_of`` tells the kinds apart; ``open_source`` opens one."""

from __future__ import annotations

import os
from typing import Any

from tfreeze.errors import FreezeError
from tfreeze.freezer.sources.base import FreezeOptions, Opened, Port, Stages

__all__ = ["FreezeOptions", "Opened", "Port", "Stages", "kind_of", "open_source", "SOURCE_KINDS"]

SOURCE_KINDS = (
    "a Keras 3 model object",
    "a .keras file",
    "a .h5 file (Keras 3, or Keras 2 / tf_keras)",
    "a SavedModel directory",
    "a TF1 checkpoint (.meta file, checkpoint prefix or directory)",
    "a GraphDef .pb/.pbtxt (frozen, or with checkpoint=)",
    "a tf.function with input_signature, a ConcreteFunction or a tf.Module",
)


def _unsupported(what: str) -> FreezeError:
    return FreezeError(f"cannot freeze {what}; tfreeze takes: " + "; ".join(SOURCE_KINDS))


def kind_of(source: Any, options: FreezeOptions) -> str:
    """keras | keras-file | keras2-h5 | saved-model | checkpoint | graph-def | function."""
    if not isinstance(source, (str, os.PathLike)):
        return _object_kind(source)
    path = os.fspath(source)
    from tfreeze.freezer.sources.tf1_checkpoint import is_checkpoint

    if os.path.isdir(path):
        if os.path.exists(os.path.join(path, "saved_model.pb")) or os.path.exists(
            os.path.join(path, "saved_model.pbtxt")
        ):
            return "saved-model"
        if is_checkpoint(path):
            return "checkpoint"
        raise _unsupported(f"directory {path!r} (no saved_model.pb and no 'checkpoint' file)")
    if not os.path.exists(path):
        if is_checkpoint(path) and not path.endswith(".meta"):
            return "checkpoint"  # a checkpoint prefix: model.ckpt beside model.ckpt.index
        raise FileNotFoundError(f"source {path!r} does not exist")
    if path.endswith(".meta"):
        return "checkpoint"
    if os.path.basename(path) in ("saved_model.pb", "saved_model.pbtxt"):
        raise FreezeError(
            f"{path!r} is a SavedModel's graph file; pass its directory "
            f"({os.path.dirname(path) or '.'!r}) as the source"
        )
    if path.endswith(".weights.h5"):
        raise FreezeError(
            f"{path!r} holds weights only, not a model; load them into the model "
            "(model.load_weights) and freeze the model, or freeze its .keras file"
        )
    if path.endswith(".keras"):
        return "keras-file"
    if path.endswith((".h5", ".hdf5")):
        return _h5_kind(path, options)
    if path.endswith((".pb", ".pbtxt", ".txt", ".prototxt", ".graphdef")):
        return "graph-def"
    raise _unsupported(f"{path!r} (unknown file type)")


def _h5_kind(path: str, options: FreezeOptions) -> str:
    if options.legacy_keras is not None:
        return "keras2-h5" if options.legacy_keras else "keras-file"
    from tfreeze.freezer.sources.keras_source import h5_keras_version

    version = h5_keras_version(path) or ""
    return "keras-file" if version.startswith("3.") else "keras2-h5"


def _object_kind(source: Any) -> str:
    import keras

    if isinstance(source, keras.Model):
        return "keras"
    from tfreeze.freezer.sources.function_source import concrete_function_of

    if concrete_function_of(source) is not None:
        return "function"
    raise _unsupported(f"a {type(source).__name__}")


def open_source(source: Any, kind: str, options: FreezeOptions, stages: Stages) -> Opened:
    """Opens every kind but keras2-h5 (frozen in a child process by the caller)."""
    if kind == "keras":
        from tfreeze.freezer.sources.keras_source import open_keras_model

        return open_keras_model(source, options, stages)
    if kind == "function":
        from tfreeze.freezer.sources.function_source import concrete_function_of, open_function

        return open_function(concrete_function_of(source), options, stages)
    path = os.fspath(source)
    if kind == "keras-file":
        from tfreeze.freezer.sources.keras_source import open_keras_file

        return open_keras_file(path, options, stages)
    if kind == "saved-model":
        from tfreeze.freezer.sources.saved_model_source import open_saved_model

        return open_saved_model(path, options, stages)
    if kind == "checkpoint":
        from tfreeze.freezer.sources.tf1_checkpoint import open_checkpoint

        return open_checkpoint(path, options, stages)
    if kind == "graph-def":
        from tfreeze.freezer.sources.tf1_graph_def import open_graph_def

        return open_graph_def(path, options, stages)
    raise ValueError(f"unknown source kind {kind!r}")
