"""GraphDef helpers shared by the sources that start from a TF1-style graph:
reading .pb/.pbtxt, finding inputs, guessing outputs, pruning, and running the
original graph as the reference."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from tfreeze.errors import FreezeError
from tfreeze.freezer.sources.base import Port

__all__ = [
    "find_inputs",
    "guess_outputs",
    "table_initializers",
    "prune",
    "read_graph_def",
    "session_reference",
    "variable_nodes",
]

VARIABLE_OPS = {"VariableV2", "Variable", "VarHandleOp", "AutoReloadVariable"}
_PLACEHOLDERS = {"Placeholder", "PlaceholderWithDefault"}


def read_graph_def(path: str) -> Any:
    """A GraphDef from a binary ``.pb`` or a text ``.pbtxt`` (tried in that
    order unless the extension says text)."""
    import tensorflow as tf
    from google.protobuf import text_format

    with open(path, "rb") as file:
        data = file.read()
    graph_def = tf.compat.v1.GraphDef()
    text_first = path.endswith((".pbtxt", ".txt", ".prototxt"))
    attempts = ("text", "binary") if text_first else ("binary", "text")
    errors = []
    for kind in attempts:
        try:
            if kind == "binary":
                graph_def.ParseFromString(data)
            else:
                text_format.Merge(data.decode("utf-8"), graph_def)
            if graph_def.node:
                return graph_def
        except Exception as error:  # noqa: BLE001 - both parsers are tried
            errors.append(f"{kind}: {str(error).splitlines()[0][:200]}")
        graph_def.Clear()
    raise FreezeError(
        f"{path!r} is neither a binary nor a text GraphDef ({'; '.join(errors) or 'no nodes'})"
    )


def _base(name: str) -> str:
    return name.lstrip("^").split(":")[0]


def guess_outputs(graph_def: Any) -> list[str]:
    """The outputs a graph without a signature most likely has (see output_guess)."""
    from tfreeze.freezer.sources.output_guess import guess

    return guess(graph_def).chosen


TABLE_INIT_OPS = {"LookupTableImportV2", "InitializeTableV2", "InitializeTableFromTextFileV2"}


def table_initializers(graph_def: Any) -> list[str]:
    """Ops that fill lookup tables: a frozen graph must run them once at start-up."""
    return [node.name for node in graph_def.node if node.op in TABLE_INIT_OPS]


def prune(graph_def: Any, keep: list[str]) -> Any:
    """The subgraph that ``keep`` (node names) needs; everything else dropped."""
    import tensorflow as tf

    names = {node.name for node in graph_def.node}
    missing = [name for name in keep if _base(name) not in names]
    if missing:
        raise FreezeError(
            f"the graph has no node {', '.join(repr(m) for m in missing)}; final nodes "
            f"that could be outputs: {', '.join(guess_outputs(graph_def)) or 'none'}"
        )
    return tf.compat.v1.graph_util.extract_sub_graph(graph_def, [_base(n) for n in keep])


def variable_nodes(graph_def: Any) -> list[str]:
    return [node.name for node in graph_def.node if node.op in VARIABLE_OPS]


def _shape_of(node: Any) -> tuple[int, ...] | None:
    if "shape" not in node.attr:  # old graphs: a Placeholder of unknown rank
        return None
    shape = node.attr["shape"].shape
    return None if shape.unknown_rank else tuple(int(d.size) for d in shape.dim)


def find_inputs(graph_def: Any) -> list[Port]:
    """Placeholders (required) and PlaceholderWithDefaults (optional) in graph order."""
    import tensorflow as tf

    ports = []
    for node in graph_def.node:
        if node.op not in _PLACEHOLDERS:
            continue
        dtype = tf.dtypes.as_dtype(node.attr["dtype"].type)
        if dtype == tf.resource:
            continue
        ports.append(
            Port(
                name=node.name,
                tensor=f"{node.name}:0",
                dtype=dtype.name,
                shape=_shape_of(node),
                optional=node.op == "PlaceholderWithDefault",
            )
        )
    return ports


def session_reference(session: Any, inputs: list[Port], outputs: list[Port]) -> Any:
    """Runs the source graph itself: the reference for verification."""
    graph = session.graph
    feeds = [graph.get_tensor_by_name(p.tensor) for p in inputs]
    fetches = [graph.get_tensor_by_name(p.tensor) for p in outputs]

    def reference(values: list[np.ndarray]) -> list[np.ndarray]:
        fed = {
            t: v
            for t, v, p in zip(feeds, values, inputs, strict=True)
            if v is not None or not p.optional
        }
        return [np.asarray(v) for v in session.run(fetches, fed)]

    return reference


def exists(path: str) -> str:
    if not os.path.exists(path):
        raise FileNotFoundError(f"source {path!r} does not exist")
    return path
