"""Small, careful edits of a GraphDef proto: renaming nodes, adding the
signature node, serializing within the 2 GiB limit. TensorFlow is imported
by the caller."""

from __future__ import annotations

from typing import Any

from tfreeze.errors import FreezeError
from tfreeze.freezer.sources.functions import GRAPH_DEF_LIMIT
from tfreeze.signature import SIGNATURE_NODE, Signature

__all__ = [
    "add_const_node",
    "add_signature_node",
    "claim_node_name",
    "prune_unused_functions",
    "rename_nodes",
    "serialize",
    "unique_name",
]


def unique_name(wanted: str, taken: set[str]) -> str:
    if wanted not in taken:
        return wanted
    suffix = 1
    while f"{wanted}_{suffix}" in taken:
        suffix += 1
    return f"{wanted}_{suffix}"


def _rename_one(graph_def: Any, old: str, new: str) -> None:
    """Renames node ``old`` to ``new`` and every reference to it."""
    for node in graph_def.node:
        if node.name == old:
            node.name = new
        for i, source in enumerate(node.input):
            control = source.startswith("^")
            base, colon, port = source.lstrip("^").partition(":")
            if base == old:
                node.input[i] = ("^" if control else "") + new + colon + port
        if "_class" in node.attr:  # colocation constraints name nodes too
            groups = node.attr["_class"].list.s
            for i, group in enumerate(groups):
                if group == f"loc:@{old}".encode():
                    groups[i] = f"loc:@{new}".encode()


def rename_nodes(graph_def: Any, renames: list[tuple[str, str]]) -> None:
    """Applies (old, new) renames in order. A node already called ``new`` is
    moved out of the way first (to ``new_1``...), so nothing is ever merged."""
    taken = {node.name for node in graph_def.node}
    current = {old: old for old, _ in renames}  # where each renamed node is now
    for old, new in renames:
        old_now = current[old]
        if old_now == new:
            continue
        if new in taken:
            moved = unique_name(new, taken)
            _rename_one(graph_def, new, moved)
            taken.add(moved)
            for key, value in current.items():
                if value == new:
                    current[key] = moved
            old_now = current[old]
        _rename_one(graph_def, old_now, new)
        taken.discard(old_now)
        taken.add(new)
        current[old] = new


def claim_node_name(
    graph_def: Any, node: str | None, wanted: str, taken: set[str]
) -> dict[str, str]:
    """Renames ``node`` to ``wanted`` (or, with ``node`` None, only frees the
    name), first moving any other node called ``wanted`` out of the way.
    Returns every move made, old name -> new name; ``taken`` is kept current."""
    moves: dict[str, str] = {}
    if node == wanted:
        return moves
    if wanted in taken:
        moved = unique_name(wanted, taken)
        _rename_one(graph_def, wanted, moved)
        taken.add(moved)
        taken.discard(wanted)
        moves[wanted] = moved
    if node is not None:
        _rename_one(graph_def, node, wanted)
        taken.discard(node)
        taken.add(wanted)
        moves[node] = wanted
    return moves


def add_const_node(graph_def: Any, name: str, value: Any) -> None:
    """Adds an unconnected Const node: TensorFlow never runs it, readers can."""
    import tensorflow as tf

    if any(node.name == name for node in graph_def.node):
        raise ValueError(f"the graph already has a {name!r} node")
    proto = tf.make_tensor_proto(value)
    node = graph_def.node.add()
    node.name = name
    node.op = "Const"
    node.attr["dtype"].type = proto.dtype
    node.attr["value"].tensor.CopyFrom(proto)


def add_signature_node(graph_def: Any, signature: Signature) -> None:
    """Adds (or replaces) the string Const that carries the signature."""
    kept = [node for node in graph_def.node if node.name != SIGNATURE_NODE]
    if len(kept) != len(graph_def.node):
        del graph_def.node[:]
        graph_def.node.extend(kept)
    add_const_node(graph_def, SIGNATURE_NODE, signature.to_bytes())


def serialize(graph_def: Any, *, text: bool = False) -> bytes:
    size = graph_def.ByteSize()
    if size > GRAPH_DEF_LIMIT:
        raise FreezeError(
            f"the frozen graph is {size / 2**30:.2f} GiB; a GraphDef cannot exceed 2 GiB "
            "(a protobuf limit). Keep the model as a SavedModel or make it smaller."
        )
    if text:
        from google.protobuf import text_format

        return text_format.MessageToString(graph_def).encode()
    return graph_def.SerializeToString(deterministic=True)


def prune_unused_functions(graph_def: Any) -> list[str]:
    """Drops library functions that no node reaches (by op type or a function
    attribute, transitively): a TF1-loaded SavedModel brings its save/restore
    functions along, dead weight that reads and writes checkpoint files.
    Returns the names dropped."""
    functions = {f.signature.name: f for f in graph_def.library.function}
    reached: set[str] = set()
    pending = [node for node in graph_def.node]
    while pending:
        node = pending.pop()
        for name in _called_functions(node, functions):
            if name not in reached:
                reached.add(name)
                pending.extend(functions[name].node_def)
    dropped = sorted(set(functions) - reached)
    if dropped:
        kept = [functions[name] for name in functions if name in reached]
        del graph_def.library.function[:]
        graph_def.library.function.extend(kept)
        gradients = [g for g in graph_def.library.gradient if g.function_name in reached]
        del graph_def.library.gradient[:]
        graph_def.library.gradient.extend(gradients)
    return dropped


def _called_functions(node: Any, functions: dict[str, Any]) -> list[str]:
    called = [node.op] if node.op in functions else []
    for value in node.attr.values():
        if value.HasField("func"):
            called.append(value.func.name)
        called += [f.name for f in value.list.func]
    return [name for name in called if name in functions]
