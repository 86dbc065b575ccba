"""A frozen .pb as a versioned SavedModel directory that TF Serving loads
unchanged: ``DIR/<version>/saved_model.pb`` with a ``serving_default``
signature named as the file's signature names its inputs and outputs, and the
file's ``init`` operations (hash-table fills) as the SavedModel's main op, run
once by every loader before the first request."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from tfreeze.graphview.stats import is_tfreeze_node, read_graph_def
from tfreeze.runtime.safety import check_file
from tfreeze.signature import IOEntry, Signature

__all__ = ["export_saved_model"]


def export_saved_model(
    model: str | os.PathLike[str],
    directory: str | os.PathLike[str],
    *,
    version: int = 1,
    force: bool = False,
    allow_unsafe_ops: bool | list[str] = False,
) -> Path:
    """Writes ``directory/version`` and returns its path. Refuses an existing
    version unless ``force``; builds beside it and renames, so a failure leaves
    no partial version directory."""
    if version < 1:
        raise ValueError(f"version must be a positive integer, got {version}")
    target = Path(directory) / str(version)
    if target.exists() and not force:
        raise FileExistsError(
            f"{str(target)!r} already exists; give another --version or --force to replace it"
        )
    # TensorFlow imports the graph below and TF Serving runs it: refuse what tfreeze.Model does.
    check_file(model, allow_unsafe_ops)
    graph_def = read_graph_def(model)
    try:
        signature = Signature.from_graph_def(graph_def)
    except LookupError as error:
        raise ValueError(f"{os.fspath(model)!r}: {error}") from None
    os.makedirs(directory, exist_ok=True)
    staging = tempfile.mkdtemp(dir=directory, prefix=".tfreeze-")
    try:
        _build(graph_def, signature, os.path.join(staging, "model"))
        old = os.path.join(staging, "old")
        if target.exists():  # --force: swap the old version out only once the new one is whole
            os.replace(target, old)
        try:
            os.replace(os.path.join(staging, "model"), target)
        except OSError:
            if os.path.exists(old):
                os.replace(old, target)
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _build(graph_def: Any, signature: Signature, path: str) -> None:
    import tensorflow as tf

    model_graph = tf.compat.v1.GraphDef()
    model_graph.versions.CopyFrom(graph_def.versions)
    model_graph.library.CopyFrom(graph_def.library)
    model_graph.node.extend(n for n in graph_def.node if not is_tfreeze_node(n.name))
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(model_graph, name="")
        main_op = (
            tf.group(*(graph.get_operation_by_name(name) for name in signature.init))
            if signature.init
            else None
        )
        serving = tf.compat.v1.saved_model.signature_def_utils.build_signature_def(
            inputs={e.name: _tensor_info(graph, e) for e in signature.inputs},
            outputs={e.name: _tensor_info(graph, e) for e in signature.outputs},
            method_name=tf.compat.v1.saved_model.signature_constants.PREDICT_METHOD_NAME,
        )
        with tf.compat.v1.Session(graph=graph) as session:
            builder = tf.compat.v1.saved_model.Builder(path)
            builder.add_meta_graph_and_variables(
                session,
                [tf.compat.v1.saved_model.tag_constants.SERVING],
                signature_def_map={"serving_default": serving},
                main_op=main_op,
                strip_default_attrs=True,
            )
            builder.save()


def _tensor_info(graph: Any, entry: IOEntry) -> Any:
    """The signature's dtype and shape (open dimensions as -1), not whatever
    the graph inferred: the .pb's signature is the contract."""
    import tensorflow as tf
    from tensorflow.core.framework import tensor_shape_pb2
    from tensorflow.core.protobuf import meta_graph_pb2

    tensor = graph.get_tensor_by_name(entry.tensor)  # KeyError if the signature lies
    shape = tensor_shape_pb2.TensorShapeProto(
        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in entry.shape]
    )
    return meta_graph_pb2.TensorInfo(
        name=tensor.name, dtype=tf.as_dtype(entry.dtype).as_datatype_enum, tensor_shape=shape
    )
