"""Any TensorFlow/Keras source -> one self-describing, self-verifying .pb.

Stages: open the source (load, trace, convert variables to constants; see
``tfreeze.sources``), give inputs and outputs the names the user knows,
optimize with grappler in a child process, verify the frozen graph against
the source, store test vectors and the signature, write atomically.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tfreeze.compare import ArrayDiff, compare_arrays
from tfreeze.errors import FreezeError
from tfreeze.feeds import random_feeds_for
from tfreeze.files import write_atomically
from tfreeze.graph_edit import add_const_node, add_signature_node, claim_node_name
from tfreeze.signature import SIGNATURE_NODE, IOEntry, Signature, is_valid_node_name, verify_node
from tfreeze.sources import FreezeOptions, Opened, Stages, kind_of, open_source
from tfreeze.sources.functions import GRAPH_DEF_LIMIT

__all__ = ["FreezeOptions", "FreezeReport", "freeze", "freeze_opened"]

# (batch size, size of other open dimensions) of each verification run: more
# than one of each, since tracing can bake a size into the graph.
_VERIFY_SIZES = ((1, 4), (3, 6))
# Test vectors stored in the file: enough to replay, small beside the weights.
_TEST_VECTOR_BUDGET = 1 << 20


@dataclass
class FreezeReport:
    """What freeze() wrote and how the frozen graph compared with the source."""

    output_path: str
    inputs: list[IOEntry]
    outputs: list[IOEntry]
    node_count: int
    byte_size: int
    seconds: float
    # output name -> difference of the frozen graph from the source, per verification run
    verification: dict[str, list[ArrayDiff]] = field(default_factory=dict)
    source_kind: str = ""
    stages: dict[str, float] = field(default_factory=dict)  # stage -> seconds
    # {"nodes_before", "nodes_after", "bytes_before", "bytes_after"} when optimized
    optimization: dict[str, int] | None = None
    init: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # choices made for the user (guessed names)
    warnings: list[str] = field(default_factory=list)

    @property
    def max_abs_diff(self) -> float:
        return max((d.max_abs for diffs in self.verification.values() for d in diffs), default=0.0)

    def to_json(self) -> dict[str, Any]:
        document = dataclasses.asdict(self)
        document["inputs"] = [e.to_json() for e in self.inputs]
        document["outputs"] = [e.to_json() for e in self.outputs]
        document["verification"] = {
            name: [d.as_dict() for d in diffs] for name, diffs in self.verification.items()
        }
        return document

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> FreezeReport:
        fields = dict(document)
        fields["inputs"] = [IOEntry.from_json(e) for e in document["inputs"]]
        fields["outputs"] = [IOEntry.from_json(e) for e in document["outputs"]]
        fields["verification"] = {
            name: [ArrayDiff.from_dict(d) for d in diffs]
            for name, diffs in document["verification"].items()
        }
        return cls(**fields)


def freeze(
    source: Any,
    output_path: str | os.PathLike[str],
    *,
    progress: Callable[[str], None] | None = None,
    **options: Any,
) -> FreezeReport:
    """Freezes ``source`` into ``output_path`` (``.pbtxt``: text, else binary).

    ``source``: a Keras 3 model, a ``.keras`` / ``.h5`` file, a SavedModel
    directory, a TF1 checkpoint (``.meta``, prefix or directory), a GraphDef
    ``.pb``/``.pbtxt`` (with ``checkpoint=`` when it has variables), a
    tf.function with an input_signature, a ConcreteFunction or a tf.Module.
    ``options`` are the fields of :class:`FreezeOptions`: ``input_names`` /
    ``output_names`` (rename, or for TF1 graphs choose the output nodes, as
    ``name`` or ``alias=node:0``), ``keep_control_flow``, ``optimize``,
    ``verify``, ``rtol``/``atol``, ``signature_name``, ``tags``,
    ``saved_model_loader``, ``checkpoint``, ``clear_devices``,
    ``variable_allowlist``/``variable_denylist``, ``initializer_nodes``,
    ``legacy_keras``. ``progress`` is called with each stage's name as it
    starts. Nothing is written unless every stage succeeds.
    """
    try:
        settings = FreezeOptions(**options)
    except TypeError as error:
        valid = ", ".join(f.name for f in dataclasses.fields(FreezeOptions))
        raise TypeError(f"{error}; freeze() options are: {valid}") from None
    stages = Stages(progress)
    kind = kind_of(source, settings)
    if kind == "keras2-h5":
        from tfreeze.sources.legacy_keras import freeze_in_child

        report = FreezeReport.from_json(
            freeze_in_child(os.fspath(source), os.fspath(output_path), settings, stages)
        )
        report.stages = {**stages.seconds, **report.stages}
        return report
    started = time.perf_counter()
    opened = _open(source, kind, settings, stages)
    try:
        return freeze_opened(opened, output_path, settings, stages, started)
    finally:
        opened.close()


def _open(source: Any, kind: str, options: FreezeOptions, stages: Stages) -> Opened:
    """Opens the source; TensorFlow's own failures (a missing checkpoint shard,
    unknown tags, a graph that will not import) become FreezeError."""
    try:
        return open_source(source, kind, options, stages)
    except (FreezeError, OSError, TypeError):
        raise
    except Exception as error:
        first_line = (str(error).strip().splitlines() or [""])[0][:300]
        raise FreezeError(
            f"could not open {kind} source {_describe(source)}: {type(error).__name__}: "
            f"{first_line}"
        ) from error


def _describe(source: Any) -> str:
    return (
        repr(os.fspath(source)) if isinstance(source, (str, os.PathLike)) else type(source).__name__
    )


def freeze_opened(
    opened: Opened,
    output_path: str | os.PathLike[str],
    options: FreezeOptions,
    stages: Stages,
    started: float | None = None,
) -> FreezeReport:
    """The stages after opening: names, optimize, verify, sign, write."""
    started = time.perf_counter() if started is None else started
    _apply_names(opened, options)
    with stages("sign"):
        _bind_names(opened)
    graph_def, optimization, warnings = _optimize(opened, options, stages)
    _settle_unknown_ranks(graph_def, opened)
    signature = _signature(opened)
    verification: dict[str, list[ArrayDiff]] = {}
    if options.verify:
        with stages("verify"):
            graph_def, verification, cases, warning = _verify_or_fall_back(
                graph_def, opened, signature, options
            )
        if warning:
            warnings.append(warning)
            optimization = None
        signature = _store_test_vectors(graph_def, signature, cases, options)
    with stages("write"):
        add_signature_node(graph_def, signature)
        data = _serialize(graph_def, text=os.fspath(output_path).endswith(".pbtxt"))
        write_atomically(output_path, data)
    return FreezeReport(
        output_path=os.fspath(output_path),
        inputs=list(signature.inputs),
        outputs=list(signature.outputs),
        node_count=len(graph_def.node),
        byte_size=len(data),
        seconds=time.perf_counter() - started,
        verification=verification,
        source_kind=opened.kind,
        stages=dict(stages.seconds),
        optimization=optimization,
        init=list(opened.init),
        notes=list(opened.notes),
        warnings=warnings,
    )


# ---------------------------------------------------------------------- names


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


def _apply_names(opened: Opened, options: FreezeOptions) -> None:
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
    _apply_input_shapes(opened, options.input_shapes or {})


def _apply_input_shapes(opened: Opened, shapes: dict[str, list[int]]) -> None:
    """Gives Placeholders of unknown rank (old TF1 graphs) the shape the user
    states, in the graph too, so every runtime checks feeds against it."""
    ports = {p.name: p for p in opened.inputs}
    unknown = sorted(set(shapes) - set(ports))
    if unknown:
        raise FreezeError(
            f"input_shapes names {', '.join(unknown)}; the inputs are: {', '.join(ports)}"
        )
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
                "for open dimensions) so feeds can be checked"
            )


_PLACEHOLDERS = ("Placeholder", "PlaceholderWithDefault")


def _node_name(name: str) -> str:
    """A graph node name for a user-facing name: invalid characters become '_'."""
    if is_valid_node_name(name):
        return name
    node = "".join(c if c.isalnum() or c in "_.-/" else "_" for c in name)
    return node if is_valid_node_name(node) else "io_" + node


def _bind_names(opened: Opened) -> None:
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


def _signature(opened: Opened) -> Signature:
    import tensorflow as tf

    from tfreeze import __version__

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


def _signed_session(graph_def: Any, signature: Signature) -> Any:
    """Python TensorFlow's session over a signed copy of ``graph_def`` (one
    thread each way, as the verification reference)."""
    from tfreeze.pysession import PythonSession

    signed = type(graph_def)()
    signed.CopyFrom(graph_def)
    add_signature_node(signed, signature)
    return PythonSession.from_bytes(_serialize(signed), intra_op_threads=1, inter_op_threads=1)


def _settle_unknown_ranks(graph_def: Any, opened: Opened) -> None:
    """Outputs whose rank TensorFlow cannot infer statically get the rank one
    run shows, every size open: the signature must state a rank."""
    unknown = [p for p in opened.outputs if p.shape is None]
    if not unknown:
        return

    with _signed_session(graph_def, _signature(opened)) as session:
        outputs = session.run(random_feeds_for(_signature(opened).inputs, batch_size=2))
    for port in unknown:
        port.shape = (-1,) * np.ndim(outputs[port.name])
        opened.notes.append(
            f"output {port.name!r} has no static shape; recorded rank {len(port.shape)} "
            "with every size open"
        )


# ------------------------------------------------------------------- optimize


def _optimize(
    opened: Opened, options: FreezeOptions, stages: Stages
) -> tuple[Any, dict[str, int] | None, list[str]]:
    if not options.optimize:
        return opened.graph_def, None, []
    from tfreeze.optimize import optimize_graph

    with stages("optimize"):
        result = optimize_graph(
            opened.graph_def,
            [(p.tensor, p.dtype) for p in opened.inputs],
            [p.tensor for p in opened.outputs] + list(opened.init),
        )
    if result.error:
        return opened.graph_def, None, [f"not optimized: {result.error}"]
    return (
        result.graph_def,
        {
            "nodes_before": len(opened.graph_def.node),
            "nodes_after": len(result.graph_def.node),
            "bytes_before": opened.graph_def.ByteSize(),
            "bytes_after": result.graph_def.ByteSize(),
        },
        [],
    )


# --------------------------------------------------------------------- verify

# A test case: inputs and the source's outputs, in signature order.
_Case = tuple[list[np.ndarray], list[np.ndarray]]


def _verify_or_fall_back(
    graph_def: Any, opened: Opened, signature: Signature, options: FreezeOptions
) -> tuple[Any, dict[str, list[ArrayDiff]], list[_Case], str | None]:
    """Verifies the (optimized) graph; if only optimizing broke it, keeps the
    unoptimized graph with a warning."""
    try:
        report, cases = _verify(graph_def, opened, signature, options)
        return graph_def, report, cases, None
    except FreezeError as error:
        if graph_def is opened.graph_def:
            raise
        report, cases = _verify(opened.graph_def, opened, signature, options)
        warning = f"the optimized graph failed verification, kept the unoptimized one: {error}"
        return opened.graph_def, report, cases, warning


def _verify(
    graph_def: Any, opened: Opened, signature: Signature, options: FreezeOptions
) -> tuple[dict[str, list[ArrayDiff]], list[_Case]]:
    """Runs the frozen graph in Python TensorFlow and the source on the same
    random inputs; tracing can silently produce a graph that differs."""

    report: dict[str, list[ArrayDiff]] = {e.name: [] for e in signature.outputs}
    cases: list[_Case] = []
    rng = np.random.default_rng(0)
    with _signed_session(graph_def, signature) as session:
        for batch_size, open_dim in _VERIFY_SIZES:
            feeds = random_feeds_for(
                signature.inputs, batch_size=batch_size, open_dim=open_dim, rng=rng
            )
            frozen_out = session.run(feeds)
            source_out = opened.reference([feeds.get(e.name) for e in signature.inputs])
            cases.append(([feeds[e.name] for e in signature.inputs if e.name in feeds], source_out))
            for entry, expected in zip(signature.outputs, source_out, strict=True):
                diff = compare_arrays(
                    frozen_out[entry.name], expected, rtol=options.rtol, atol=options.atol
                )
                report[entry.name].append(diff)
                if not diff.within_tolerance:
                    raise FreezeError(
                        f"the frozen graph differs from the source on output {entry.name!r} "
                        f"at batch size {batch_size}: shape {diff.actual_shape} vs "
                        f"{diff.expected_shape}, max abs {diff.max_abs:.3g}, max rel "
                        f"{diff.max_rel:.3g} (tolerance rtol={options.rtol}, atol={options.atol})"
                    )
    return report, cases


def _store_test_vectors(
    graph_def: Any, signature: Signature, cases: list[_Case], options: FreezeOptions
) -> Signature:
    """Stores as many verification cases as fit the budget as Const nodes, so
    Model.verify() can replay them wherever the file goes. Files with optional
    inputs store none: a replay must feed exactly what the source was fed."""
    from tfreeze.model import numpy_dtype

    if any(e.optional for e in signature.inputs):
        return signature
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
    return dataclasses.replace(
        signature, verify={"cases": stored, "rtol": options.rtol, "atol": options.atol}
    )


# ---------------------------------------------------------------------- write


def _serialize(graph_def: Any, *, text: bool = False) -> bytes:
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
