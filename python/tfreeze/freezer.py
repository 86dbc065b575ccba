"""Keras 3 model -> one self-describing frozen .pb.

Stages: load the source, trace it with training=False, convert variables to
constants, give inputs and outputs the names the user knows, embed the
signature, check the frozen graph against the model, write atomically.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tfreeze.compare import ArrayDiff, compare_arrays
from tfreeze.errors import FreezeError
from tfreeze.feeds import random_feeds_for
from tfreeze.files import write_atomically
from tfreeze.graph_edit import add_const_node, add_signature_node, rename_nodes, unique_name
from tfreeze.keras_io import KerasIO, load_keras_model
from tfreeze.signature import (
    SIGNATURE_NODE,
    IOEntry,
    Signature,
    is_valid_node_name,
    verify_node,
)

__all__ = ["FreezeReport", "freeze"]

# A GraphDef is one protobuf message, and protobuf caps messages at 2 GiB.
_PROTOBUF_LIMIT = 2**31 - 1
_VERIFY_BATCH_SIZES = (1, 3)
# Test vectors stored in the file: enough to replay, small beside the weights.
_TEST_VECTOR_BUDGET = 1 << 20


@dataclass
class FreezeReport:
    """What freeze() wrote and how the frozen graph compared with the model."""

    output_path: str
    inputs: list[IOEntry]
    outputs: list[IOEntry]
    node_count: int
    byte_size: int
    seconds: float
    # output name -> difference of the frozen graph from the model, per batch size
    verification: dict[str, list[ArrayDiff]] = field(default_factory=dict)

    @property
    def max_abs_diff(self) -> float:
        return max((d.max_abs for diffs in self.verification.values() for d in diffs), default=0.0)


def freeze(
    source: Any,
    output_path: str | os.PathLike[str],
    *,
    input_names: list[str] | None = None,
    output_names: list[str] | None = None,
    keep_control_flow: bool = False,
    verify: bool = True,
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> FreezeReport:
    """Freezes a Keras 3 model (object or ``.keras`` path) into ``output_path``.

    Inputs and outputs keep the model's names and order (dict keys included);
    ``input_names`` / ``output_names`` replace them, one per input / output in
    model order. The batch dimension stays open. With ``verify`` the frozen
    graph is run by Python TensorFlow on random inputs at two batch sizes and
    compared with the model (FreezeError beyond ``rtol``/``atol``). Nothing is
    written unless every stage succeeds.
    """
    started = time.perf_counter()
    io = KerasIO.of(load_keras_model(source))
    names_in = _replace_names(io.input_names, input_names, "input")
    names_out = _replace_names(io.output_names, output_names, "output")
    _check_unique(names_in + names_out)

    graph_def, frozen = _trace_and_convert(io, names_in, keep_control_flow)
    signature = _name_and_sign(graph_def, frozen, names_in, names_out, io)
    data = _serialize(graph_def)
    verification: dict[str, list[ArrayDiff]] = {}
    if verify:
        verification, cases = _verify(data, signature, io, rtol, atol)
        signature = _store_test_vectors(graph_def, signature, cases, rtol, atol)
        data = _serialize(graph_def)
    write_atomically(output_path, data)
    return FreezeReport(
        output_path=os.fspath(output_path),
        inputs=list(signature.inputs),
        outputs=list(signature.outputs),
        node_count=len(graph_def.node),
        byte_size=len(data),
        seconds=time.perf_counter() - started,
        verification=verification,
    )


def _replace_names(defaults: list[str], given: list[str] | None, kind: str) -> list[str]:
    if given is None:
        return defaults
    given = list(given)
    if len(given) != len(defaults):
        raise FreezeError(
            f"{len(given)} {kind} names given for {len(defaults)} {kind}s; the model's "
            f"{kind}s are, in order: {', '.join(defaults)}"
        )
    return given


def _check_unique(names: list[str]) -> None:
    for name in names:
        if not name or name == SIGNATURE_NODE:
            raise FreezeError(f"{name!r} cannot name an input or output")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise FreezeError(f"input and output names must be unique; repeated: {', '.join(repeated)}")


def _node_names(names: list[str], taken: set[str]) -> list[str]:
    """Graph node names for user-facing names: invalid characters become '_'."""
    nodes = []
    for name in names:
        node = (
            name
            if is_valid_node_name(name)
            else "".join(c if c.isalnum() or c in "_.-/" else "_" for c in name)
        )
        if not is_valid_node_name(node):
            node = "io_" + node
        node = unique_name(node, taken)
        taken.add(node)
        nodes.append(node)
    return nodes


def _trace_and_convert(io: KerasIO, names_in: list[str], keep_control_flow: bool) -> tuple:
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2_as_graph,
    )

    placeholders = _node_names(names_in, set())
    specs = [
        tf.TensorSpec(tuple(t.shape), tf.as_dtype(t.dtype), name=node)
        for t, node in zip(io.input_tensors, placeholders, strict=True)
    ]

    def inference(*flat_inputs: Any) -> list[Any]:
        return io.call(flat_inputs)

    try:
        concrete = tf.function(inference).get_concrete_function(*specs)
        frozen, graph_def = convert_variables_to_constants_v2_as_graph(
            concrete, lower_control_flow=not keep_control_flow
        )
    except Exception as error:
        raise FreezeError(f"could not trace and freeze model {io.model.name!r}: {error}") from error
    return graph_def, frozen


def _entry(name: str, tensor: Any, node: str) -> IOEntry:
    shape = tuple(-1 if d is None else int(d) for d in tensor.shape.as_list())
    return IOEntry(name=name, tensor=f"{node}:0", dtype=tensor.dtype.name, shape=shape)


def _name_and_sign(
    graph_def: Any, frozen: Any, names_in: list[str], names_out: list[str], io: KerasIO
) -> Signature:
    import tensorflow as tf

    inputs = [_entry(name, t, t.op.name) for name, t in zip(names_in, frozen.inputs, strict=True)]
    taken = {e.tensor.split(":")[0] for e in inputs}
    wanted = _node_names(names_out, taken)
    # convert_variables_to_constants_v2 ends every output in an Identity node
    # called Identity, Identity_1, ...; give each the output's own name.
    rename_nodes(
        graph_def, [(t.op.name, node) for t, node in zip(frozen.outputs, wanted, strict=True)]
    )
    outputs = [
        _entry(name, t, node)
        for name, t, node in zip(names_out, frozen.outputs, wanted, strict=True)
    ]
    signature = Signature(
        tuple(inputs),
        tuple(outputs),
        {
            "tfreeze": _version(),
            "tensorflow": tf.__version__,
            "source": "keras",
            "model": io.model.name,
        },
    )
    add_signature_node(graph_def, signature)
    return signature


def _version() -> str:
    from tfreeze import __version__

    return __version__


def _serialize(graph_def: Any) -> bytes:
    size = graph_def.ByteSize()
    if size > _PROTOBUF_LIMIT:
        raise FreezeError(
            f"the frozen graph is {size / 2**30:.2f} GiB; a GraphDef cannot exceed 2 GiB "
            "(a protobuf limit). Reduce the model or keep it as a SavedModel."
        )
    return graph_def.SerializeToString(deterministic=True)


# A test case: inputs and the source model's outputs, in signature order.
_Case = tuple[list[np.ndarray], list[np.ndarray]]


def _verify(
    data: bytes, signature: Signature, io: KerasIO, rtol: float, atol: float
) -> tuple[dict[str, list[ArrayDiff]], list[_Case]]:
    """Runs the frozen graph in Python TensorFlow and the model on the same
    random inputs; tracing can silently produce a graph that differs."""
    from tfreeze.pysession import PythonSession

    session = PythonSession.from_bytes(data, intra_op_threads=1, inter_op_threads=1)
    report: dict[str, list[ArrayDiff]] = {e.name: [] for e in signature.outputs}
    cases: list[_Case] = []
    rng = np.random.default_rng(0)
    for batch_size in _VERIFY_BATCH_SIZES:
        feeds = random_feeds_for(signature.inputs, batch_size=batch_size, rng=rng)
        frozen_out = session.run(feeds)
        model_out = [np.asarray(t) for t in io.call([feeds[e.name] for e in signature.inputs])]
        cases.append(([feeds[e.name] for e in signature.inputs], model_out))
        for entry, expected in zip(signature.outputs, model_out, strict=True):
            diff = compare_arrays(frozen_out[entry.name], expected, rtol=rtol, atol=atol)
            report[entry.name].append(diff)
            if not diff.within_tolerance:
                raise FreezeError(
                    f"the frozen graph differs from the model on output {entry.name!r} at "
                    f"batch size {batch_size}: shape {diff.actual_shape} vs "
                    f"{diff.expected_shape}, max abs {diff.max_abs:.3g}, max rel "
                    f"{diff.max_rel:.3g} (tolerance rtol={rtol}, atol={atol})"
                )
    session.close()
    return report, cases


def _store_test_vectors(
    graph_def: Any, signature: Signature, cases: list[_Case], rtol: float, atol: float
) -> Signature:
    """Stores as many verification cases as fit the budget as Const nodes, so
    Model.verify() can replay them wherever the file goes."""
    from tfreeze.model import numpy_dtype

    stored = 0
    used = 0
    for inputs, outputs in cases:
        size = sum(np.asarray(a).nbytes for a in inputs + outputs)
        if used + size > _TEST_VECTOR_BUDGET:
            break
        for i, value in enumerate(inputs):
            add_const_node(graph_def, verify_node(stored, "input", i), value)
        for j, (entry, value) in enumerate(zip(signature.outputs, outputs, strict=True)):
            expected = np.asarray(value).astype(numpy_dtype(entry.dtype), copy=False)
            add_const_node(graph_def, verify_node(stored, "output", j), expected)
        stored += 1
        used += size
    if stored == 0:
        return signature
    signed = dataclasses.replace(signature, verify={"cases": stored, "rtol": rtol, "atol": atol})
    add_signature_node(graph_def, signed)
    return signed
