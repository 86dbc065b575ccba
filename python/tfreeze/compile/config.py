"""From a frozen graph's signature to what tfcompile takes: static shapes per
batch size, a tf2xla ``Config`` text proto, and a check, before any compiling,
for what XLA cannot compile (strings, lookup tables)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tfreeze.compile.safe_text import cpp_string, for_message
from tfreeze.errors import CompileError
from tfreeze.signature import IOEntry, Signature, is_valid_node_name

__all__ = [
    "NUMERIC_DTYPES",
    "StaticIO",
    "parse_input_shapes",
    "refuse_uncompilable",
    "static_io",
    "tf2xla_config",
    "uncompilable_nodes",
]

# Signature dtype -> the C++ element type the generated API uses for it.
NUMERIC_DTYPES = {
    "float32": "float",
    "float64": "double",
    "int8": "int8_t",
    "int16": "int16_t",
    "int32": "int32_t",
    "int64": "int64_t",
    "uint8": "uint8_t",
    "uint16": "uint16_t",
    "uint32": "uint32_t",
    "uint64": "uint64_t",
    "bool": "bool",
}

# Ops that hold state outside the tensors (tables) or work on strings: XLA has
# no kernels for them. Checked before compiling, so the error lists every one.
_TABLE_OPS = frozenset(
    {
        "HashTable",
        "HashTableV2",
        "MutableHashTable",
        "MutableHashTableV2",
        "MutableDenseHashTable",
        "MutableDenseHashTableV2",
        "LookupTableFind",
        "LookupTableFindV2",
        "LookupTableImport",
        "LookupTableImportV2",
        "LookupTableSizeV2",
        "InitializeTable",
        "InitializeTableV2",
        "InitializeTableFromTextFile",
        "InitializeTableFromTextFileV2",
    }
)
_DT_STRING = 7  # tensorflow.core.framework.types_pb2.DT_STRING


@dataclass(frozen=True)
class StaticIO:
    """One input or output with every dimension fixed."""

    name: str
    node: str
    output_index: int
    dtype: str
    shape: tuple[int, ...]

    @property
    def count(self) -> int:
        total = 1
        for size in self.shape:
            total *= size
        return total


def parse_input_shapes(specs: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """``["image=1,28,28,1"]`` -> {"image": (1, 28, 28, 1)}."""
    shapes = {}
    for spec in specs:
        name, _, dims = spec.partition("=")
        try:
            shapes[name] = tuple(int(d) for d in dims.split(",")) if dims else ()
        except ValueError:
            raise CompileError(f"--input-shape {spec!r} is not NAME=D1,D2,...") from None
        if not name or any(d < 1 for d in shapes[name]):
            raise CompileError(f"--input-shape {spec!r} is not NAME=D1,D2,... (positive sizes)")
    return shapes


def static_io(
    signature: Signature, batch: int, shapes: dict[str, tuple[int, ...]]
) -> tuple[list[StaticIO], list[StaticIO]]:
    """Inputs and outputs with the batch dimension (an open first dimension)
    set to ``batch`` and other open dimensions from ``shapes``."""
    unknown = set(shapes) - {entry.name for entry in signature.inputs}
    if unknown:
        valid = ", ".join(for_message(entry.name) for entry in signature.inputs)
        named = ", ".join(map(for_message, sorted(unknown)))
        raise CompileError(f"--input-shape names {named}; inputs are: {valid}")
    inputs = [
        _static("input", entry, _input_shape(entry, batch, shapes)) for entry in signature.inputs
    ]
    outputs = [_static("output", entry, _output_shape(entry, batch)) for entry in signature.outputs]
    return inputs, outputs


def _output_shape(entry: IOEntry, batch: int) -> tuple[int, ...]:
    # The generated API sizes its buffers from the signature; an output whose
    # other sizes follow the inputs' (a sequence model's time axis) has none.
    shape = _batched(entry.shape, batch)
    if -1 in shape:
        raise CompileError(
            f"output {entry.name!r} has shape {_shape_text(entry.shape)}: sizes besides the "
            "batch that the signature leaves open cannot be compiled yet (only the batch and "
            "inputs' sizes can be set); such models run with tfreeze run / tfreeze.Model"
        )
    return shape


def _input_shape(entry: IOEntry, batch: int, shapes: dict[str, tuple[int, ...]]) -> tuple:
    if entry.name in shapes:
        given = shapes[entry.name]
        fits = len(given) == len(entry.shape) and all(
            want in (-1, got) for want, got in zip(entry.shape, given, strict=True)
        )
        if not fits:
            raise CompileError(
                f"--input-shape {for_message(entry.name)}={','.join(map(str, given))} does "
                f"not fit input {entry.name!r} of shape {_shape_text(entry.shape)}"
            )
        return given
    shape = _batched(entry.shape, batch)
    if -1 in shape:
        raise CompileError(
            f"input {entry.name!r} has shape {_shape_text(entry.shape)}: XLA needs every "
            f"dimension; give them with --input-shape {for_message(entry.name)}=D1,D2,... "
            "(the first one, the batch, comes from --batch)"
        )
    return shape


def _batched(shape: tuple[int, ...], batch: int) -> tuple[int, ...]:
    return (batch, *shape[1:]) if shape and shape[0] == -1 else tuple(shape)


def _static(kind: str, entry: IOEntry, shape: tuple[int, ...]) -> StaticIO:
    """Checked field by field: each goes into generated C++ or the tf2xla
    config, and a signature is JSON that anyone can write."""
    name = entry.name
    if not isinstance(name, str):
        raise CompileError(f"the signature's {kind} name {name!r} is not a string")
    bad = next((c for c in name if c == "\0" or 0xD800 <= ord(c) <= 0xDFFF), None)
    if bad is not None:
        # A NUL would end the C++ string; a lone surrogate has no UTF-8.
        raise CompileError(
            f"{kind} name {name!r} holds {bad!r}, which C++ strings cannot carry; "
            "freeze the model again with other names"
        )
    node, _, index = entry.tensor.partition(":") if isinstance(entry.tensor, str) else ("", "", "")
    if not is_valid_node_name(node) or not re.fullmatch("[0-9]*", index):
        raise CompileError(f"{kind} {name!r}: {entry.tensor!r} is not a graph tensor (NODE:INDEX)")
    if not isinstance(entry.dtype, str):
        raise CompileError(f"{kind} {name!r}: dtype {entry.dtype!r} is not a type name")
    if not all(type(size) is int and size >= 0 for size in shape):
        raise CompileError(f"{kind} {name!r}: shape {list(entry.shape)!r} is not a list of sizes")
    return StaticIO(name, node, int(index or 0), entry.dtype, shape)


def _shape_text(shape: Iterable[int]) -> str:
    return "[" + ",".join("?" if d == -1 else str(d) for d in shape) + "]"


def tf2xla_config(inputs: list[StaticIO], outputs: list[StaticIO]) -> str:
    """The tf2xla ``Config`` text proto: feeds with full shapes, fetches by name."""
    # Feeds and fetches get positional names: tfcompile wants C++ identifiers
    # there, and the wrapper it is hidden behind knows the signature's names.
    lines = []
    for index, io in enumerate(inputs):
        dims = " ".join(f"dim {{ size: {d} }}" for d in io.shape)
        lines.append(
            f"feed {{ id {{ node_name: {cpp_string(io.node)} output_index: {io.output_index} }} "
            f'shape {{ {dims} }} name: "in{index}" }}'
        )
    for index, io in enumerate(outputs):
        lines.append(
            f"fetch {{ id {{ node_name: {cpp_string(io.node)} output_index: {io.output_index} }} "
            f'name: "out{index}" }}'
        )
    return "\n".join(lines) + "\n"


def uncompilable_nodes(graph_def: Any, inputs: list[StaticIO], outputs: list[StaticIO]) -> list:
    """(node, op) of each node the outputs depend on that XLA has no kernel
    for: table ops and ops with string-typed attributes."""
    nodes = {node.name: node for node in graph_def.node}
    fed = {io.node for io in inputs}
    seen: set[str] = set()
    pending = [io.node for io in outputs]
    found = []
    while pending:
        name = pending.pop()
        if name in seen or name in fed or name not in nodes:
            continue
        seen.add(name)
        node = nodes[name]
        if node.op in _TABLE_OPS or _has_string_type(node):
            found.append((name, node.op))
        pending.extend(source.lstrip("^").split(":")[0] for source in node.input)
    return sorted(found)


def _has_string_type(node: Any) -> bool:
    for value in node.attr.values():
        if value.type == _DT_STRING or _DT_STRING in value.list.type:
            return True
    return False


def refuse_uncompilable(
    graph_def: Any, inputs: list[StaticIO], outputs: list[StaticIO], shown: int = 8
) -> None:
    """One error listing the string inputs and outputs and the nodes (with
    their ops) XLA has no kernels for, the first ``shown`` of each."""
    strings = [
        f"{kind} {io.name!r} ({io.dtype})"
        for kind, entries in (("input", inputs), ("output", outputs))
        for io in entries
        if io.dtype not in NUMERIC_DTYPES
    ]
    nodes = [f"{node} ({op})" for node, op in uncompilable_nodes(graph_def, inputs, outputs)]
    if not strings and not nodes:
        return
    parts = [_first(strings, shown)] if strings else []
    if nodes:
        parts.append("nodes " + _first(nodes, shown))
    raise CompileError(
        f"XLA cannot compile {'; '.join(parts)}: compiled models take numbers and no lookup "
        "tables; run this model with tfreeze's TensorFlow runtime instead"
    )


def _first(items: list[str], shown: int) -> str:
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more
