"""A frozen graph as Graphviz dot source: one box per collapsed name scope
(with its op count), the signature's inputs and outputs marked by their
names, shapes and dtypes on the edges where the file knows them, ops that
reach outside the model in red. tfreeze's signature and test vectors are
hidden. Rendering to SVG/PNG runs Graphviz's ``dot`` program."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from tfreeze._native import _core
from tfreeze.files import check_writable, write_atomically
from tfreeze.graphview.stats import graph_stats, is_tfreeze_node
from tfreeze.signature import Signature

__all__ = ["ALL", "FORMATS", "check_output", "compare_ops", "dot_source", "render", "write_drawing"]

FORMATS = (".svg", ".png", ".dot")
ALL = "*"  # expand every scope


@dataclass
class _Box:
    label: str
    ops: Counter[str] = field(default_factory=Counter)
    unsafe: int = 0
    single: bool = False  # one node, drawn with its op


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _box_of(name: str, expand: Collection[str]) -> str:
    """The box a node is drawn in: its top-level scope, unless that is expanded."""
    scope = name.split("/", 1)[0]
    if "/" not in name or ALL in expand or scope in expand:
        return name
    return scope + "/"


def _signature(graph_def: Any) -> Signature | None:
    try:
        return Signature.from_graph_def(graph_def)
    except LookupError:  # a graph not frozen by tfreeze still draws, unmarked
        return None


def _tensor_labels(graph_def: Any, signature: Signature | None) -> dict[str, str]:
    """Tensor name -> "dtype [shape]" from ``_output_shapes``/dtype attrs and the signature."""
    import tensorflow as tf

    labels: dict[str, str] = {}
    for node in graph_def.node:
        dtypes = _output_dtypes(node)
        for index, shape in enumerate(node.attr["_output_shapes"].list.shape):
            if not shape.unknown_rank:
                dims = ", ".join("?" if d.size < 0 else str(d.size) for d in shape.dim)
                dtype = tf.dtypes.as_dtype(dtypes[index]).name if index < len(dtypes) else ""
                labels[f"{node.name}:{index}"] = f"{dtype} [{dims}]".strip()
    for entry in signature.inputs + signature.outputs if signature else ():
        dims = ", ".join("?" if d < 0 else str(d) for d in entry.shape)
        labels[entry.tensor] = f"{entry.dtype} [{dims}]"
    return labels


def _output_dtypes(node: Any) -> list[int]:
    """Output dtypes from the op's registered definition; [] when an output
    is a list (its length lives in attributes) or the op is unknown."""
    from tensorflow.python.framework import op_def_registry

    op_def = op_def_registry.get(node.op)
    if op_def is None:
        return []
    dtypes = []
    for arg in op_def.output_arg:
        if arg.number_attr or arg.type_list_attr:
            return []
        dtypes.append(arg.type or node.attr[arg.type_attr].type)
    return [dtype for dtype in dtypes if dtype] if all(dtypes) else []


def _parse_input(text: str) -> tuple[str, str, bool]:
    """``^a`` / ``a:1`` / ``a`` -> (node, tensor, is_control)."""
    control = text.startswith("^")
    name = text.lstrip("^")
    node = name.split(":", 1)[0]
    return node, name if ":" in name else f"{name}:0", control


def dot_source(
    graph_def: Any, *, expand: Collection[str] = (), prefix: str = "", title: str = ""
) -> str:
    """The body of a dot ``digraph`` (a ``subgraph cluster`` when ``prefix`` is
    given, so two graphs can sit side by side)."""
    signature = _signature(graph_def)
    labels = _tensor_labels(graph_def, signature)
    unsafe = {f["node"] for f in _core.find_unsafe_ops(graph_def.SerializeToString())}
    inputs = {e.tensor.split(":")[0]: e for e in signature.inputs} if signature else {}
    boxes: dict[str, _Box] = {}
    owner: dict[str, str] = {}
    for node in graph_def.node:
        if is_tfreeze_node(node.name):
            continue
        key = node.name if node.name in inputs else _box_of(node.name, expand)
        owner[node.name] = key
        box = boxes.setdefault(key, _Box(key.rstrip("/")))
        box.ops[node.op] += 1
        box.unsafe += node.name in unsafe
    lines = (
        [f"subgraph {_quote('cluster_' + prefix)} {{", f"label={_quote(title)};"] if prefix else []
    )
    for key, box in boxes.items():
        lines.append(f"{_quote(prefix + key)} [{_box_style(key, box, inputs.get(key))}];")
    lines += _edges(graph_def, owner, labels, prefix)
    for entry in signature.outputs if signature else ():
        node = entry.tensor.split(":")[0]
        if node in owner:
            out = _quote(f"{prefix}output:{entry.name}")
            lines.append(
                f"{out} [label={_quote('output: ' + entry.name)}, shape=house, "
                'style=filled, fillcolor="#cfe2ff"];'
            )
            lines.append(
                f"{_quote(prefix + owner[node])} -> {out} "
                f"[label={_quote(labels.get(entry.tensor, ''))}];"
            )
    if prefix:
        lines.append("}")
    return "\n".join(lines)


def _box_style(key: str, box: _Box, entry: Any) -> str:
    if entry is not None:
        return (
            f"label={_quote('input: ' + entry.name)}, shape=invhouse, style=filled, "
            'fillcolor="#d1e7dd"'
        )
    count = sum(box.ops.values())
    if count == 1 and not key.endswith("/"):
        (op,) = box.ops
        # An opened scope's nodes by their names inside it: the last part
        # alone repeats (every variable read is ".../ReadVariableOp").
        label, shape = f"{box.label.split('/', 1)[-1]}\n{op}", "ellipse"
    else:
        top = ", ".join(f"{op} {n}" for op, n in box.ops.most_common(3))
        label, shape = f"{box.label}/\n{count} ops: {top}", "box"
    style = 'style=filled, fillcolor="#f8d7da", color=red, penwidth=2' if box.unsafe else ""
    if box.unsafe:
        label += f"\n{box.unsafe} unsafe"
    return f"label={_quote(label)}, shape={shape}" + (f", {style}" if style else "")


def _edges(graph_def: Any, owner: dict[str, str], labels: dict[str, str], prefix: str) -> list:
    seen: dict[tuple[str, str], tuple[str, bool]] = {}
    for node in graph_def.node:
        if node.name not in owner:
            continue
        for text in node.input:
            source, tensor, control = _parse_input(text)
            if source not in owner or owner[source] == owner[node.name]:
                continue
            edge = (owner[source], owner[node.name])
            if edge not in seen or seen[edge][1]:  # a data edge wins over a control edge
                seen[edge] = ("" if control else labels.get(tensor, ""), control)
    return [
        f"{_quote(prefix + a)} -> {_quote(prefix + b)} [label={_quote(label)}"
        + (", style=dashed" if control else "")
        + "];"
        for (a, b), (label, control) in seen.items()
    ]


def compare_ops(before: Any, after: Any) -> list[tuple[str, int, int]]:
    """(op, count in the first graph, count in the second) for every op whose count differs."""
    a, b = graph_stats(before).ops, graph_stats(after).ops
    return [
        (op, a.get(op, 0), b.get(op, 0))
        for op in sorted(set(a) | set(b))
        if a.get(op, 0) != b.get(op, 0)
    ]


def render(graphs: list[tuple[str, Any]], expand: Collection[str]) -> str:
    """A whole dot document: one graph, or several side by side (titled clusters)."""
    header = ["digraph tfreeze {", "rankdir=TB;", 'node [fontname="Helvetica", fontsize=10];']
    header.append('edge [fontname="Helvetica", fontsize=9];')
    if len(graphs) == 1:
        body = [dot_source(graphs[0][1], expand=expand)]
    else:
        body = [
            dot_source(graph, expand=expand, prefix=f"g{i}:", title=title)
            for i, (title, graph) in enumerate(graphs)
        ]
    return "\n".join([*header, *body, "}"]) + "\n"


def check_output(path: str | os.PathLike[str]) -> str | None:
    """Fails, before any work, on a suffix it cannot draw or a missing ``dot``;
    returns the ``dot`` program (None for .dot output)."""
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"cannot draw to {path!r}: unknown type {suffix or '(none)'!r}; "
            f"give a name ending in {', '.join(FORMATS)}"
        )
    check_writable(path)
    if suffix == ".dot":
        return None
    program = shutil.which("dot")
    if program is None:
        raise ValueError(
            f"drawing {suffix} needs Graphviz's dot program, which is not on PATH: install it "
            "(apt-get install graphviz, brew install graphviz), or write -o graph.dot"
        )
    return program


def write_drawing(source: str, path: str | os.PathLike[str]) -> None:
    """Writes dot source, or runs ``dot`` for .svg/.png."""
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1].lower()
    program = check_output(path)
    if program is None:
        write_atomically(path, source.encode())
        return
    result = subprocess.run(
        [program, f"-T{suffix[1:]}"], input=source.encode(), capture_output=True, check=False
    )
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        raise ValueError(f"Graphviz's dot failed: {message[0] if message else result.returncode}")
    write_atomically(path, result.stdout)
