"""Inputs and outputs named as the user knows them, in the graph too, and the
signature that records them.

``apply_names`` takes the user's renames and stated shapes; ``bind_names``
makes each input's Placeholder and each output's node carry its name, so
plain TensorFlow fetches ``NAME:0``; ``signature_of`` describes the result.
"""

from __future__ import annotations

from typing import Any

from tfreeze._version import __version__
from tfreeze.errors import FreezeError
from tfreeze.freezer.fixed_inputs import fix_inputs
from tfreeze.freezer.flags import settle_flags
from tfreeze.freezer.graph_edit import claim_node_name
from tfreeze.freezer.sources import FreezeOptions, Opened
from tfreeze.freezer.sources.base import ports_named
from tfreeze.signature import SIGNATURE_NODE, IOEntry, Signature, is_valid_node_name

__all__ = ["apply_names", "bind_names", "signature_of"]


def _replace(ports: list[Any], given: list[str] | None, kind: str) -> None:
    if given is None:
        return
    if len(given) != len(ports):
        raise FreezeError(
            f"{len(given)} {kind} names given for {len(ports)} {kind}s; the model's "
            f"{kind}s are, in order: {', '.join(p.name for p in ports)}"
        )
    for port, name in zip(ports, given, strict=True):
        port.name = name


def apply_names(opened: Opened, options: FreezeOptions) -> None:
    _replace(opened.inputs, options.input_names, "input")
    if not opened.selected_outputs:  # graph sources used output_names to pick nodes
        _replace(opened.outputs, options.output_names, "output")
    names = [p.name for p in opened.inputs + opened.outputs]
    for name in names:
        if not name or name == SIGNATURE_NODE or name.startswith("tfreeze/"):
            raise FreezeError(f"{name!r} cannot name an input or output")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise FreezeError(f"input and output names must be unique; repeated: {', '.join(repeated)}")
    fix_inputs(opened, settle_flags(opened, options))
    _apply_input_shapes(opened, options.input_shapes or {})


def _apply_input_shapes(opened: Opened, shapes: dict[str, list[int]]) -> None:
    """Gives Placeholders of unknown rank (old TF1 graphs) the shape the user
    states, in the graph too, so every runtime checks feeds against it."""
    ports = ports_named(opened.inputs, shapes, "input_shapes")
    nodes = {node.name: node for node in opened.graph_def.node}
    for name, shape in shapes.items():
        port = ports[name]
        if port.shape is not None and len(port.shape) != len(shape):
            raise FreezeError(
                f"input {name!r} has rank {len(port.shape)} in the graph; "
                f"input_shapes gives {len(shape)} dimensions"
            )
        port.shape = tuple(-1 if d is None or d < 0 else int(d) for d in shape)
        if nodes[port.node].op not in _PLACEHOLDERS:
            continue
        attr = nodes[port.node].attr["shape"].shape
        attr.Clear()
        for size in port.shape:
            attr.dim.add(size=size)
    for port in opened.inputs:
        if port.shape is None:
            raise FreezeError(
                f"input {port.name!r} has unknown rank; state it with input_shapes="
                f'{{"{port.name}": [-1, ...]}} / --input-shape {port.name}=?,... (? or -1 '
                f"for open dimensions; a scalar such as keep_prob is [] / "
                f"--input-shape {port.name}=) so feeds can be checked"
            )


_PLACEHOLDERS = ("Placeholder", "PlaceholderWithDefault")


def _node_name(name: str) -> str:
    """A graph node name for a user-facing name: invalid characters become '_'."""
    if is_valid_node_name(name):
        return name
    node = "".join(c if c.isalnum() or c in "_.-/" else "_" for c in name)
    return node if is_valid_node_name(node) else "io_" + node


def bind_names(opened: Opened) -> None:
    """Makes each input's Placeholder and each output's node carry the user's
    name, so ``get_tensor_by_name("NAME:0")`` works in plain TensorFlow too."""
    graph_def = opened.graph_def
    taken = {node.name for node in graph_def.node}
    claimed: set[str] = set()
    ports = opened.inputs + opened.outputs

    def move(moves: dict[str, str]) -> None:
        for port in ports:
            node, index = port.tensor.rsplit(":", 1)
            port.tensor = f"{moves.get(node, node)}:{index}"
        opened.init[:] = [moves.get(name, name) for name in opened.init]

    outputs = {id(port) for port in opened.outputs}
    for port in ports:
        wanted = _node_name(port.name)
        node, index = port.tensor.rsplit(":", 1)
        if node == wanted and index == "0":
            claimed.add(node)
            continue
        op = next(n.op for n in graph_def.node if n.name == node)
        renamable = (
            index == "0"
            and node not in claimed
            and (op in _PLACEHOLDERS or (op == "Identity" and id(port) in outputs))
        )
        if renamable:
            move(claim_node_name(graph_def, node, wanted, taken))
        else:
            move(claim_node_name(graph_def, None, wanted, taken))
            _add_identity(graph_def, wanted, port.tensor, port.dtype)
            taken.add(wanted)
            port.tensor = f"{wanted}:0"
        claimed.add(wanted)


def _add_identity(graph_def: Any, name: str, tensor: str, dtype: str) -> None:
    import tensorflow as tf

    node = graph_def.node.add()
    node.name, node.op = name, "Identity"
    node.input.append(tensor[:-2] if tensor.endswith(":0") else tensor)
    node.attr["T"].type = tf.as_dtype(dtype).as_datatype_enum


def signature_of(opened: Opened) -> Signature:
    import tensorflow as tf

    def entry(port: Any) -> IOEntry:
        return IOEntry(port.name, port.tensor, port.dtype, tuple(port.shape or ()), port.optional)

    return Signature(
        tuple(entry(p) for p in opened.inputs),
        tuple(entry(p) for p in opened.outputs),
        {
            "tfreeze": __version__,
            "tensorflow": tf.__version__,
            "source": opened.kind,
            "model": opened.name,
        },
        init=tuple(opened.init),
    )
