"""Choosing a TF1 graph's inputs: cutting the graph at given tensors.

As optimize_for_inference's ``--input_names`` and transform_graph's
``--inputs``: each chosen tensor is replaced by a Placeholder of its dtype and
shape, and what only fed it is pruned. A ``PlaceholderWithDefault`` whose
default comes from a tf.data pipeline (an iterator's ``IteratorGetNext``) is
cut on its own: the pipeline, which reads files at run time, is dropped and
the input becomes required.
"""

from __future__ import annotations

from typing import Any

from tfreeze.errors import FreezeError
from tfreeze.freezer.sources.base import Port, signature_dims, tensor_name

__all__ = ["cut_inputs", "pipeline_fed_defaults"]

_PIPELINE_OPS = ("Iterator", "IteratorV2", "OneShotIterator", "AnonymousIterator",
                 "AnonymousIteratorV2", "AnonymousIteratorV3", "IteratorGetNext",
                 "MakeIterator")  # fmt: skip


def _base(name: str) -> str:
    return name.lstrip("^").split(":")[0]


def pipeline_fed_defaults(graph_def: Any) -> list[str]:
    """PlaceholderWithDefaults whose default flows from a dataset or iterator."""
    nodes = {node.name: node for node in graph_def.node}
    found = []
    for node in graph_def.node:
        if node.op != "PlaceholderWithDefault" or not node.input:
            continue
        seen, frontier = set(), [_base(node.input[0])]
        while frontier:
            name = frontier.pop()
            if name in seen or name not in nodes:
                continue
            seen.add(name)
            op = nodes[name].op
            if op in _PIPELINE_OPS or op.endswith("Dataset") or op.endswith("DatasetV2"):
                found.append(node.name)
                break
            frontier.extend(_base(s) for s in nodes[name].input)
    return found


def cut_inputs(
    graph_def: Any, graph: Any, tensors: list[str]
) -> tuple[Any, list[Port], dict[str, str]]:
    """A copy of ``graph_def`` where each of ``tensors`` (``node`` or
    ``node:K`` of ``graph``, the tf.Graph it came from) is a Placeholder.
    Returns it, the input ports in the order given, and {port name: the
    tensor it replaces} (the source session is fed there)."""
    cut = type(graph_def)()
    cut.CopyFrom(graph_def)
    nodes = {node.name: node for node in cut.node}
    ports = []
    sources: dict[str, str] = {}
    for given in tensors:
        name = tensor_name(given)
        try:
            tensor = graph.get_tensor_by_name(name)
        except (KeyError, ValueError):
            raise FreezeError(
                f"inputs names {given!r}, not a tensor of the graph; Placeholders here: "
                + ", ".join(n.name for n in cut.node if n.op.startswith("Placeholder"))
            ) from None
        node_name, index = name.rsplit(":", 1)
        if node_name not in nodes:
            raise FreezeError(f"input {given!r} does not feed the outputs")
        port_name = node_name if index == "0" else f"{node_name}_{index}"
        node = nodes[node_name]
        if node.op.startswith("Placeholder") and index == "0":
            placeholder = node_name  # a PlaceholderWithDefault loses its default
        else:
            placeholder = f"{port_name}/input"
            while placeholder in nodes:
                placeholder += "_"
            _rewire(cut, name, placeholder)
            node = cut.node.add()
            nodes[placeholder] = node
        node.Clear()
        node.name, node.op = placeholder, "Placeholder"
        node.attr["dtype"].type = tensor.dtype.as_datatype_enum
        node.attr["shape"].shape.CopyFrom(tensor.shape.as_proto())
        dims = signature_dims(tensor.shape)
        ports.append(Port(port_name, f"{placeholder}:0", tensor.dtype.name, dims))
        sources[port_name] = name
    return cut, ports, sources


def _rewire(graph_def: Any, tensor: str, placeholder: str) -> None:
    node_name, index = tensor.rsplit(":", 1)
    for node in graph_def.node:
        for i, source in enumerate(node.input):
            if source.startswith("^"):
                continue
            base, _, port = source.partition(":")
            if base == node_name and (port or "0") == index:
                node.input[i] = placeholder
