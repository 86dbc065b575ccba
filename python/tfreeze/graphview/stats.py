"""What a frozen graph is made of: its op types and its parameters."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from typing import Any

from tfreeze.signature import SIGNATURE_NODE

__all__ = ["GraphStats", "graph_stats", "is_tfreeze_node", "read_graph_def"]

# Where the stored test vectors sit (signature.verify_node).
_VECTORS_SCOPE = "tfreeze/verify/"


def is_tfreeze_node(name: str) -> bool:
    """The signature and test-vector constants: metadata, not part of the model
    (the table fills under ``tfreeze/init/`` are part of it)."""
    return name == SIGNATURE_NODE or name.startswith(_VECTORS_SCOPE)


def read_graph_def(path: str | os.PathLike[str]) -> Any:
    """A .pb file as a GraphDef proto; ValueError naming the file if it is not one."""
    from google.protobuf.message import DecodeError
    from tensorflow.core.framework import graph_pb2

    from tfreeze.errors import ModelFileNotFoundError

    path = os.fspath(path)
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError:  # the C++ loader's wording, for every command that reads a .pb
        raise ModelFileNotFoundError(
            f'model file "{path}" does not exist or cannot be read'
        ) from None
    graph_def = graph_pb2.GraphDef()
    try:
        graph_def.ParseFromString(data)
    except DecodeError:
        raise ValueError(f"{path!r} is not a GraphDef (.pb) file") from None
    if not graph_def.node:
        raise ValueError(f"{path!r} holds no graph nodes; give a frozen .pb")
    return graph_def


@dataclass(frozen=True)
class GraphStats:
    ops: dict[str, int]  # op type -> nodes, most frequent first
    parameters: int  # elements of the weight constants
    parameter_bytes: int  # their size in memory

    def as_dict(self) -> dict[str, Any]:
        return {
            "ops": self.ops,
            "parameters": self.parameters,
            "parameter_bytes": self.parameter_bytes,
        }


def graph_stats(graph_def: Any) -> GraphStats:
    """Op histogram of the graph's own nodes and the size of its weights: the
    floating-point (and 8-bit quantized) Const tensors. Integer, bool and
    string constants hold shapes, axes, indices and vocabularies, not learned
    values, and tfreeze's signature and test vectors are metadata: none count,
    so the figure matches Keras' ``count_params()`` for a frozen Keras model.
    Function bodies (kept While/If) are not counted."""
    ops: Counter[str] = Counter()
    elements = size = 0
    for node in graph_def.node:
        if is_tfreeze_node(node.name):
            continue
        ops[node.op] += 1
        if node.op == "Const" and node.attr["value"].tensor.dtype in _weight_dtypes():
            count, nbytes = _tensor_size(node.attr["value"].tensor)
            elements += count
            size += nbytes
    return GraphStats(dict(sorted(ops.items(), key=lambda kv: (-kv[1], kv[0]))), elements, size)


def _weight_dtypes() -> set[int]:
    import tensorflow as tf

    kinds = (tf.float16, tf.bfloat16, tf.float32, tf.float64, tf.int8, tf.uint8)
    kinds += (tf.qint8, tf.quint8, tf.qint32)
    return {kind.as_datatype_enum for kind in kinds}


def _tensor_size(tensor: Any) -> tuple[int, int]:
    import tensorflow as tf

    count = 1
    for dim in tensor.tensor_shape.dim:
        count *= dim.size
    return count, count * tf.dtypes.as_dtype(tensor.dtype).size
