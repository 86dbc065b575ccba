"""Files crafted by hand to get past tfreeze's checks (issue 25), built the way
an attacker builds them: protobuf bytes, not TensorFlow's own writers. Each is
the base graph x -> y = 2x + 1 plus one hostile part. tests/test_crafted_files.py
tries them; tests/fuzz/make_corpus.py makes them fuzz seeds."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import tensorflow as tf
from tensorflow.core.framework import tensor_pb2

from tfreeze.freezer.graph_edit import add_signature_node
from tfreeze.signature import IOEntry, Signature

BIG = 2**40  # two of these overflow an int64 element count
SIGNATURE = Signature(
    (IOEntry("x", "x:0", "float32", (-1,)),), (IOEntry("y", "y:0", "float32", (-1,)),), {}
)


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number: int, payload: bytes) -> bytes:
    """A length-delimited field: tag, length, bytes."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def attr_entry(key: str, value: Any) -> bytes:
    """One NodeDef.attr map entry (field 5) holding an AttrValue."""
    return field(5, field(1, key.encode()) + field(2, value.SerializeToString()))


def _graph(hostile, signature: Signature = SIGNATURE) -> Any:
    """x -> y = 2x + 1; `hostile(x)` returns a tensor y also depends on."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None], name="x")
        extra = hostile(x)
        with tf.control_dependencies([extra] if extra is not None else []):
            tf.identity(2.0 * x + 1.0, name="y")
    graph_def = graph.as_graph_def()
    add_signature_node(graph_def, signature)
    return graph_def


def serialize_with_extra(graph_def: Any, extra: dict[str, bytes]) -> bytes:
    """The GraphDef's bytes, each node named in `extra` followed on the wire by
    those bytes: fields protobuf reads after the node's own (the last wins)."""
    rest = tf.compat.v1.GraphDef()
    rest.CopyFrom(graph_def)
    del rest.node[:]
    out = b""
    for node in graph_def.node:
        out += field(1, node.SerializeToString() + extra.get(node.name, b""))
    return out + rest.SerializeToString()


def call_in_graph(function: Any, x: Any) -> Any:
    """`function` added to the graph's library and called on x, as a node "call"."""
    concrete = function.get_concrete_function()
    concrete.add_to_graph()
    return tf.raw_ops.PartitionedCall(
        args=[x], Tout=[tf.float32], f=concrete.function_def.signature.name, name="call"
    )[0]


def print_to_file_twice(target: Path) -> bytes:
    """PrintV2 with output_stream "stderr", then "file://TARGET"."""

    def hostile(x):
        return tf.print("leaked", x, output_stream=sys.stderr, name="printer")

    graph_def = _graph(hostile)
    stream = tf.compat.v1.AttrValue(s=f"file://{target}".encode())
    return serialize_with_extra(graph_def, {"printer": attr_entry("output_stream", stream)})


def fill_through_identity() -> bytes:
    def hostile(x):
        dims = tf.identity(tf.constant([BIG, BIG], tf.int64), name="dims")
        return tf.fill(dims, 1.0, name="filled")

    return _graph(hostile).SerializeToString()


def fill_through_arithmetic() -> bytes:
    """Constants TensorFlow folds through an op tfreeze's scan does not follow."""

    def hostile(x):
        dims = tf.add(tf.constant([BIG - 1, BIG - 1], tf.int64), tf.constant([1, 1], tf.int64))
        return tf.fill(dims, 1.0, name="filled")

    return _graph(hostile).SerializeToString()


def fill_with_value_twice() -> bytes:
    """A Fill whose dims Const holds "value" twice: [2, 2], then [BIG, BIG]."""

    def hostile(x):
        return tf.fill(tf.constant([2, 2], tf.int64, name="dims"), 1.0, name="filled")

    graph_def = _graph(hostile)
    big = tf.compat.v1.AttrValue(tensor=tf.make_tensor_proto([BIG, BIG], tf.int64))
    return serialize_with_extra(graph_def, {"dims": attr_entry("value", big)})


def const_with_two_oneof_members() -> bytes:
    """A Const whose one dtype AttrValue holds a type, then a string: two
    members of AttrValue's oneof."""

    def hostile(x):
        return tf.constant([1.0, 2.0], name="c")

    graph_def = _graph(hostile)
    const = next(node for node in graph_def.node if node.name == "c")
    del const.attr["dtype"]
    both = (
        tf.compat.v1.AttrValue(type=tf.float32.as_datatype_enum).SerializeToString()
        + tf.compat.v1.AttrValue(s=b"float").SerializeToString()
    )
    entry = field(5, field(1, b"dtype") + field(2, both))
    return serialize_with_extra(graph_def, {"c": entry})


def const_with_dtype_twice() -> bytes:
    """A float Const giving dtype twice: float (matching its value), then
    int32, read through a Cast from int32 (issue 26, item 2)."""

    def hostile(x):
        value = tf.constant([1.0, 2.0], name="c")
        return tf.raw_ops.Cast(x=tf.cast(value, tf.int32), DstT=tf.float32, name="cast")

    graph_def = _graph(hostile)
    int32 = tf.compat.v1.AttrValue(type=tf.int32.as_datatype_enum)
    return serialize_with_extra(graph_def, {"c": attr_entry("dtype", int32)})


def fill_in_a_function() -> bytes:
    """The Identity bypass inside a library function, which TensorFlow's
    import-time shape inference does not look into."""

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)], autograph=False)
    def body(x):
        dims = tf.identity(tf.constant([BIG, BIG], tf.int64))
        return x + tf.reduce_sum(tf.fill(dims, 1.0))

    def hostile(x):
        return call_in_graph(body, x)

    return _graph(hostile).SerializeToString()


TERMINAL_ESCAPE = "\x1b]0;owned\x07\x1b[2J"  # retitles the terminal, clears the screen


def terminal_escapes_in_names() -> bytes:
    """A signature whose output name drives the terminal and holds rich markup
    (issue 26, item 7)."""
    name = f"y{TERMINAL_ESCAPE}[bold]"
    signature = Signature(SIGNATURE.inputs, (IOEntry(name, "y:0", "float32", (-1,)),), {})
    return _graph(lambda x: None, signature).SerializeToString()


def claimed_tensor(elements: int, dtype: Any = tf.float32, values: Any = (1.0,)) -> Any:
    """A TensorProto of shape [elements] holding only `values`: TensorFlow
    repeats the last to fill the shape (none: zeros), so a few bytes in the
    file claim elements x the dtype's size in memory (issue 26, item 4)."""
    proto = tensor_pb2.TensorProto(dtype=dtype.as_datatype_enum)
    proto.tensor_shape.dim.add(size=elements)
    if dtype == tf.string:
        proto.string_val.extend(values)
    elif dtype.is_integer:
        proto.int_val.extend(values)
    else:
        proto.float_val.extend(values)
    return proto


def broadcast_constant(elements: int, dtype: Any = tf.float32, values: Any = (1.0,)) -> bytes:
    """x -> y = 2x + 1 + min(big), Const "big" of shape [elements] holding one
    value: running y makes TensorFlow build the whole tensor."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None], name="x")
        big = tf.constant(values[0], dtype, name="big")
        flat = tf.reshape(tf.strings.length(big) if dtype == tf.string else big, [-1])
        smallest = tf.cast(tf.reduce_min(flat), tf.float32)
        tf.identity(2.0 * x + 1.0 + smallest, name="y")
    graph_def = graph.as_graph_def()
    add_signature_node(graph_def, SIGNATURE)
    node = next(node for node in graph_def.node if node.name == "big")
    node.attr["value"].tensor.CopyFrom(claimed_tensor(elements, dtype, values))
    return graph_def.SerializeToString()


def broadcast_constant_in_a_function(elements: int) -> bytes:
    """A library function holding a float Const "big" of shape [elements] and
    one float_val, called by the graph."""

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)], autograph=False)
    def body(x):
        return x + tf.reduce_min(tf.reshape(tf.constant(1.0, name="big"), [-1]))

    def hostile(x):
        return call_in_graph(body, x)

    graph_def = _graph(hostile)
    for node in graph_def.library.function[0].node_def:
        if node.name == "big":
            node.attr["value"].tensor.CopyFrom(claimed_tensor(elements))
    return graph_def.SerializeToString()


CRAFTED_GRAPHS = {
    # name: (builder, what the refusal names)
    "fill-through-identity": (fill_through_identity, 'node "filled"'),
    "fill-through-arithmetic": (fill_through_arithmetic, 'node "filled"'),
    "fill-with-value-twice": (fill_with_value_twice, 'node "dims"'),
    "const-with-two-oneof-members": (const_with_two_oneof_members, 'node "c"'),
    "const-with-dtype-twice": (const_with_dtype_twice, 'node "c"'),
    "fill-in-a-function": (fill_in_a_function, "in function"),
    "const-claiming-4-gib": (lambda: broadcast_constant(2**30), 'node "big"'),
    "const-claiming-2-pow-62-elements": (lambda: broadcast_constant(2**62), 'node "big"'),
    "const-claiming-4-gib-in-a-function": (
        lambda: broadcast_constant_in_a_function(2**30),
        "in function",
    ),
}


def saved_model_with_main_op(directory: Path, target: Path, kind: str) -> None:
    """A TF1 SavedModel of y = 2x + 1 (one variable) whose main op writes or
    deletes files: `kind` is "save" (SaveV2 to TARGET), "merge" (deletes
    TARGET's directory), "in-signature" (SaveV2 feeding y) or "none" (a plain
    TF1 SavedModel, whose Saver's restore must still load it)."""
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default(), v1.Session(graph=graph) as session:
        x = v1.placeholder(tf.float32, [None], name="x")
        weight = v1.get_variable("w", initializer=2.0, use_resource=False)
        payload = tf.constant([1.0], name="payload")
        save = tf.raw_ops.SaveV2(
            prefix=str(target),
            tensor_names=["p"],
            shape_and_slices=[""],
            tensors=[payload],
            name="writer",
        )
        dependencies = [save] if kind == "in-signature" else []
        with tf.control_dependencies(dependencies):
            y = tf.identity(weight * x + 1.0, name="y")
        main_op = None
        if kind == "save":
            main_op = save
        elif kind == "merge":
            main_op = tf.raw_ops.MergeV2Checkpoints(
                checkpoint_prefixes=[str(target)],
                destination_prefix=str(target) + "-merged",
                delete_old_dirs=True,
                name="merger",
            )
        session.run(v1.global_variables_initializer())
        builder = v1.saved_model.Builder(str(directory))
        signature = v1.saved_model.predict_signature_def({"x": x}, {"y": y})
        builder.add_meta_graph_and_variables(
            session,
            ["serve"],
            signature_def_map={"serving_default": signature},
            main_op=main_op,
        )
        builder.save()
