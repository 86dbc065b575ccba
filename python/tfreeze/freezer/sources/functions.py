"""Freezing a TF2 ConcreteFunction: variables become constants, lookup tables
become tables filled by init ops, and the result says which graph tensors
carry the function's inputs and outputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tfreeze.errors import FreezeError
from tfreeze.freezer.sources.base import Port, signature_dims

__all__ = ["FrozenFunction", "check_constant_bytes", "freeze_concrete"]

# A GraphDef is one protobuf message, and protobuf caps messages at 2 GiB.
GRAPH_DEF_LIMIT = 2**31 - 1
_TABLE_CONSUMERS = ("LookupTableFindV2", "LookupTableSizeV2", "LookupTableExportV2")


@dataclass
class FrozenFunction:
    graph_def: Any
    inputs: list[Port]  # in the function's flat input order
    outputs: list[Port]  # in the function's flat output order
    init: list[str]


def check_constant_bytes(named_sizes: list[tuple[str, int]], limit: int | None = None) -> None:
    """Refuses, before any constant is made, a model whose weights cannot fit a
    GraphDef: freezing it would spend many GB of memory and then fail."""
    limit = GRAPH_DEF_LIMIT if limit is None else limit
    total = sum(size for _, size in named_sizes)
    if total <= limit:
        return
    largest = sorted(named_sizes, key=lambda item: -item[1])[:5]
    listed = ", ".join(f"{name} ({size / 2**20:,.0f} MiB)" for name, size in largest)
    raise FreezeError(
        f"the model's weights are {total / 2**30:.2f} GiB, over the 2 GiB a GraphDef can hold "
        f"(a protobuf limit), so it cannot be frozen into one .pb. Largest: {listed}. "
        "Keep it as a SavedModel (tfreeze.Model and the C++ Model load SavedModel directories "
        "too), or make the weights smaller (e.g. float16 weights halve them)."
    )


def _variable_sizes(concrete: Any) -> list[tuple[str, int]]:
    sizes = []
    for variable in getattr(concrete, "variables", ()):
        count = variable.shape.num_elements() or 0
        sizes.append((variable.name, count * variable.dtype.size))
    return sizes


def _port(name: str, tensor: Any) -> Port:
    return Port(name, tensor.name, tensor.dtype.name, signature_dims(tensor.shape))


def freeze_concrete(
    concrete: Any,
    input_names: list[str],
    output_names: list[str],
    *,
    keep_control_flow: bool,
    limit: int | None = None,
) -> FrozenFunction:
    """``input_names`` / ``output_names`` name the function's flat inputs and
    outputs (tf.nest order)."""
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2_as_graph,
    )

    check_constant_bytes(_variable_sizes(concrete), limit)
    try:
        frozen, graph_def = convert_variables_to_constants_v2_as_graph(
            concrete, lower_control_flow=not keep_control_flow
        )
    except Exception as error:
        raise FreezeError(f"could not convert the variables to constants: {error}") from error
    count = len(input_names)
    init = _freeze_tables(graph_def, concrete, [t.op.name for t in frozen.inputs[count:]])
    if len(frozen.outputs) != len(output_names):
        raise FreezeError(
            f"the function returns {len(frozen.outputs)} tensors but {len(output_names)} "
            f"output names were given: {', '.join(output_names)}"
        )
    return FrozenFunction(
        graph_def,
        [_port(n, t) for n, t in zip(input_names, frozen.inputs[:count], strict=True)],
        [_port(n, t) for n, t in zip(output_names, frozen.outputs, strict=True)],
        init,
    )


def _table_dtypes(graph_def: Any, placeholder: str) -> tuple[Any, Any] | None:
    """Key and value dtypes from the ops that use the table handle, directly or
    through the Identity nodes that function inlining puts in between."""
    nodes = list(graph_def.node)
    for function in graph_def.library.function:
        nodes.extend(function.node_def)
    aliases = {placeholder}
    grew = True
    while grew:
        before = len(aliases)
        aliases |= {n.name for n in nodes if n.op == "Identity" and _source(n) in aliases}
        grew = len(aliases) != before
    for node in nodes:
        if node.op in _TABLE_CONSUMERS and node.input and _source(node) in aliases:
            if node.op == "LookupTableExportV2":
                return node.attr["Tkeys"].type, node.attr["Tvalues"].type
            if node.op == "LookupTableFindV2":
                return node.attr["Tin"].type, node.attr["Tout"].type
    return None


def _every_table_dtypes(graph_def: Any) -> list[tuple[Any, Any]]:
    """(key, value) dtypes of every table lookup anywhere, functions included."""
    nodes = list(graph_def.node)
    for function in graph_def.library.function:
        nodes.extend(function.node_def)
    pairs = []
    for node in nodes:
        if node.op == "LookupTableFindV2":
            pair = (node.attr["Tin"].type, node.attr["Tout"].type)
        elif node.op == "LookupTableExportV2":
            pair = (node.attr["Tkeys"].type, node.attr["Tvalues"].type)
        else:
            continue
        if pair not in pairs:
            pairs.append(pair)
    return pairs


def _export(graph_def: Any, placeholder: str, handle: Any) -> tuple | None:
    """((key dtype, value dtype), keys, values) of the live table behind
    ``handle``. The dtypes come from the ops using the handle; when it reaches
    them through control flow (a lookup inside tf.cond or a loop), every
    dtype pair the graph's lookups use is tried: exporting with the wrong
    pair fails, so the first that works is the table's."""
    import tensorflow as tf

    direct = _table_dtypes(graph_def, placeholder)
    for dtypes in [direct] if direct else _every_table_dtypes(graph_def):
        try:
            keys, values = tf.raw_ops.LookupTableExportV2(
                table_handle=handle,
                Tkeys=tf.dtypes.as_dtype(dtypes[0]),
                Tvalues=tf.dtypes.as_dtype(dtypes[1]),
            )
        except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError, TypeError):
            continue
        return dtypes, keys.numpy(), values.numpy()
    return None


def _source(node: Any) -> str:
    return node.input[0].split(":")[0] if node.input else ""


def _freeze_tables(graph_def: Any, concrete: Any, extra_inputs: list[str]) -> list[str]:
    """convert_variables_to_constants_v2 leaves each lookup table as a resource
    Placeholder the caller would have to feed. Each becomes a HashTableV2 node
    (same name, so its consumers are unchanged) plus a LookupTableImportV2 init
    op fed by Const keys and values exported from the live table."""

    captured = {internal.op.name: external for external, internal in concrete.graph.captures}
    init = []
    for placeholder in extra_inputs:
        handle = captured.get(placeholder)
        exported = None if handle is None else _export(graph_def, placeholder, handle)
        if exported is None:
            raise FreezeError(
                f"the function reads resource {placeholder!r}, which is neither a variable "
                "nor a lookup table; tfreeze cannot turn it into constants"
            )
        dtypes, keys, values = exported
        init.append(_add_table(graph_def, placeholder, keys, values, dtypes))
    return init


def _digest(keys: Any, values: Any) -> str:
    import hashlib

    import tensorflow as tf

    digest = hashlib.sha256()
    for array in (keys, values):
        digest.update(tf.make_tensor_proto(array).SerializeToString(deterministic=True))
    return digest.hexdigest()[:16]


def _add_table(graph_def: Any, name: str, keys: Any, values: Any, dtypes: tuple) -> str:
    import tensorflow as tf

    table = next(node for node in graph_def.node if node.name == name)
    table.op = "HashTableV2"
    table.ClearField("attr")
    table.attr["key_dtype"].type, table.attr["value_dtype"].type = dtypes
    # Named after the contents: plain TensorFlow shares tables by name across
    # imported graphs, and two models' tables must never meet.
    table.attr["shared_name"].s = f"tfreeze_table_{_digest(keys, values)}".encode()
    table.attr["container"].s = b""
    table.attr["use_node_name_sharing"].b = False
    stem = f"tfreeze/init/{name}"
    for suffix, value, dtype in (("keys", keys, dtypes[0]), ("values", values, dtypes[1])):
        const = graph_def.node.add()
        const.name, const.op = f"{stem}/{suffix}", "Const"
        const.attr["dtype"].type = dtype
        const.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(value, dtype=dtype))
    importer = graph_def.node.add()
    importer.name, importer.op = f"{stem}/import", "LookupTableImportV2"
    importer.input.extend([name, f"{stem}/keys", f"{stem}/values"])
    importer.attr["Tin"].type, importer.attr["Tout"].type = dtypes
    return importer.name
