"""Guessing the outputs of a TF1 graph saved in the middle of training.

Such a graph holds far more than the model: the loss and the labels it reads,
gradients, optimizer updates, the global step, savers, summaries, moving
average updates and control-flow plumbing. The guess looks at the graph as
inference sees it, with all of that taken away, and takes the nodes that end
it; among those it prefers tensors that keep an input's batch dimension. Every
candidate passed over is reported with the reason, so the user can check the
choice at a glance.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Guess", "guess"]

_VARIABLES = {"VariableV2", "Variable", "VarHandleOp", "AutoReloadVariable"}
_PLACEHOLDERS = {"Placeholder", "PlaceholderWithDefault"}
# Ops that are never a model's output: state, saving, initializing, tables.
_BOOKKEEPING = _VARIABLES | {
    "NoOp", "Const", "Assign", "AssignAdd", "AssignSub", "AssignVariableOp",
    "AssignAddVariableOp", "AssignSubVariableOp", "Assert", "IsVariableInitialized",
    "VarIsInitializedOp", "SaveV2", "Save", "SaveSlices", "RestoreV2", "Restore",
    "RestoreSlice", "MergeV2Checkpoints", "ShardedFilename", "StringJoin", "HashTableV2",
    "MutableHashTableV2", "MutableHashTableOfTensorsV2", "MutableDenseHashTableV2",
    "LookupTableImportV2", "InitializeTableV2", "InitializeTableFromTextFileV2",
    "ScalarSummary", "HistogramSummary", "ImageSummary", "AudioSummary", "MergeSummary",
    "TensorSummary", "TensorSummaryV2", "Print", "PrintV2",
}  # fmt: skip
_TRAINING_SCOPES = ("save/", "init", "report_uninitialized", "tfreeze/", "tfreeze_restore/")
# Loss ops: nothing they compute is a prediction.
_LOSS_OPS = {
    "SparseSoftmaxCrossEntropyWithLogits", "SoftmaxCrossEntropyWithLogits", "L2Loss", "CTCLoss",
    "CTCLossV2",
}  # fmt: skip
_SHAPE_QUERIES = {"Shape", "ShapeN", "Size", "Rank"}
_CONTROL_FLOW = {"Switch", "RefSwitch", "Merge", "Enter", "RefEnter", "Exit", "NextIteration",
                 "LoopCond", "While", "StatelessWhile", "If", "StatelessIf", "Case",
                 "StatelessCase"}  # fmt: skip


def _base(name: str) -> str:
    return name.lstrip("^").split(":")[0]


def _is_training_op(node: Any) -> bool:
    """Gradients, optimizer updates, savers, initializers, summaries, metrics."""
    op, name = node.op, node.name
    top = name.split("/", 1)[0]
    return (
        op in _BOOKKEEPING
        or op.endswith("Summary")
        or op.startswith(("Apply", "ResourceApply", "SparseApply", "ResourceSparseApply"))
        or top == "gradients"
        or top.startswith("gradients_")
        or name.startswith(_TRAINING_SCOPES)
    )


@dataclass
class Guess:
    """The outputs chosen and every other candidate with why it was passed over."""

    chosen: list[str]
    passed_over: dict[str, str] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)  # placeholders only the loss reads

    def note(self) -> str:
        text = (
            f"no output names given; guessed {', '.join(self.chosen)} (the final nodes of the "
            "graph once training machinery is left out, keeping an input's batch dimension)"
        )
        if self.passed_over:
            shown = list(self.passed_over.items())[:8]
            more = len(self.passed_over) - len(shown)
            text += "; passed over: " + "; ".join(f"{n} ({why})" for n, why in shown)
            text += f"; and {more} more" if more > 0 else ""
        if self.labels:
            text += f"; not inputs (only the loss reads them): {', '.join(self.labels)}"
        return text + ". Pass --output-names to choose others."


class _Graph:
    def __init__(self, graph_def: Any) -> None:
        self.nodes = {node.name: node for node in graph_def.node}
        self.order = [node.name for node in graph_def.node]
        self.consumers: dict[str, set[str]] = {name: set() for name in self.nodes}
        self.producers: dict[str, list[str]] = {}
        for node in graph_def.node:
            data = [_base(s) for s in node.input if not s.startswith("^")]
            self.producers[node.name] = [p for p in data if p in self.nodes]
            for source in self.producers[node.name]:
                self.consumers[source].add(node.name)

    def forward(self, start: Iterable[str], within: set[str] | None = None) -> set[str]:
        reached = set(start)
        frontier = list(reached)
        while frontier:
            for consumer in self.consumers[frontier.pop()]:
                if consumer not in reached and (within is None or consumer in within):
                    reached.add(consumer)
                    frontier.append(consumer)
        return reached

    def backward(self, start: str) -> set[str]:
        reached = {start}
        frontier = [start]
        while frontier:
            for producer in self.producers[frontier.pop()]:
                if producer not in reached:
                    reached.add(producer)
                    frontier.append(producer)
        return reached


def _shapes(graph_def: Any, graph: Any | None) -> dict[str, list[int | None] | None]:
    """Static shape of each node's first output (None: unknown rank)."""
    import tensorflow as tf

    if graph is None:
        graph = tf.Graph()
        with graph.as_default():
            tf.import_graph_def(graph_def, name="")
    shapes: dict[str, list[int | None] | None] = {}
    for op in graph.get_operations():
        if op.outputs:
            shape = op.outputs[0].shape
            shapes[op.name] = None if shape.rank is None else shape.as_list()
    return shapes


def _is_flag(node: Any, shape: list[int | None] | None) -> bool:
    """A scalar or bool placeholder: a switch (is_training, keep_prob), not data."""
    import tensorflow as tf

    return shape == [] or tf.as_dtype(node.attr["dtype"].type) == tf.bool


def guess(graph_def: Any, graph: Any | None = None) -> Guess:
    """Outputs for a graph that has no signature; see the module docstring."""
    g = _Graph(graph_def)
    shapes = _shapes(graph_def, graph)
    placeholders = [n for n in g.order if g.nodes[n].op in _PLACEHOLDERS]
    data = [p for p in placeholders if not _is_flag(g.nodes[p], shapes.get(p))] or placeholders
    training = {n for n in g.order if _is_training_op(g.nodes[n])}
    fed = g.forward(data) - training
    # Losses: what only training reads (the gradients' root), loss ops, and
    # everything computed from them.
    gradients = {n for n in training if n.split("/", 1)[0].startswith("gradients")}
    roots = {
        n
        for n in fed
        if g.consumers[n]
        and g.consumers[n] <= training
        and (g.consumers[n] & gradients or not all(_is_summary(g.nodes[c]) for c in g.consumers[n]))
    }
    roots |= {n for n in fed if _in_loss_scope(n)}
    # A scalar reduction nothing reads (reduce_mean of a per-example loss):
    # tf.gradients does not read the loss it starts from.
    # Only in a graph that trains: elsewhere a scalar may well be the output.
    roots |= {
        n
        for n in fed
        if gradients
        and not g.consumers[n]
        and g.nodes[n].op in ("Mean", "Sum")
        and shapes.get(n) == []
    }
    roots |= {n for n in fed if g.nodes[n].op in _LOSS_OPS}
    loss = g.forward(roots, within=fed)
    _absorb_per_example_losses(g, loss, training)
    passed: dict[str, str] = {}
    view = fed - loss
    _peel_label_losses(g, view, data, loss)
    labels = [p for p in data if not (g.forward([p]) & view - {p})]
    view -= set(labels)
    finals = [
        n for n in g.order if n in view and not (g.consumers[n] & view) and n not in placeholders
    ]
    kept = []
    for name in finals:
        why = _not_an_output(g, name, shapes, data, labels)
        if why:
            passed[name] = why
        else:
            kept.append(name)
    batch_keeping = [n for n in kept if _keeps_batch(shapes.get(n), shapes, data)]
    if kept and not batch_keeping and gradients:
        batch_keeping = _batch_ancestors(g, kept, shapes, data, loss, passed)
    for name in kept:
        if batch_keeping and name not in batch_keeping:
            passed[name] = f"does not keep an input's batch dimension (shape {shapes.get(name)})"
    for name in sorted(loss & set(n for n in g.order if not (g.consumers[n] - training))):
        if name in roots:
            passed.setdefault(name, "a loss: what training minimizes")
    chosen = batch_keeping or kept
    if not chosen:  # a model whose output is a scalar reduction: nothing else ends the graph
        chosen = [n for n in g.order if n in roots and not g.consumers[n]]
        for name in chosen:
            passed.pop(name, None)
    return Guess(chosen, passed, labels)


# Per-example losses a reduction turns into the loss: never how a prediction ends.
_PER_EXAMPLE_LOSS_OPS = {"Square", "SquaredDifference", "Abs", "Log", "Log1p", "Neg"}


def _absorb_per_example_losses(g: _Graph, loss: set[str], training: set[str]) -> None:
    """mean(square(y)): the square, read only by the loss, is part of it."""
    changed = True
    while changed:
        changed = False
        for name in list(loss):
            for producer in g.producers[name]:
                node = g.nodes[producer]
                if (
                    producer not in loss
                    and node.op in _PER_EXAMPLE_LOSS_OPS
                    and g.consumers[producer] <= loss | training
                ):
                    loss.add(producer)
                    changed = True


def _peel_label_losses(g: _Graph, view: set[str], data: list[str], loss: set[str]) -> None:
    """A final node that combines the prediction with a placeholder nothing
    else reads (a label) is part of the loss: it moves from ``view`` to
    ``loss``, and its producers may end the view in turn."""
    changed = True
    while changed:
        changed = False
        for name in [n for n in g.order if n in view]:
            if g.consumers[name] & view or not g.consumers[name] or name in data:
                continue
            ancestors = g.backward(name)
            reading = [p for p in data if p in ancestors]
            labels = [p for p in reading if g.forward([p]) & view <= ancestors]
            if labels and len(labels) < len(reading):
                view.discard(name)
                loss.add(name)
                changed = True


_LOSS_SCOPES = {"loss", "losses", "cost", "xent", "cross_entropy", "mean_squared_error",
                "absolute_difference", "log_loss", "hinge_loss", "huber_loss"}  # fmt: skip


def _in_loss_scope(name: str) -> bool:
    """tf.compat.v1.losses.* and hand-written losses name their scope so."""
    scopes = name.split("/")[:-1]
    return any(s in _LOSS_SCOPES or s.endswith(("_loss", "_losses")) for s in scopes)


def _is_summary(node: Any) -> bool:
    return node.op.endswith("Summary") or node.op in ("Print", "PrintV2")


def _batch_ancestors(
    g: _Graph,
    finals: list[str],
    shapes: dict[str, Any],
    data: list[str],
    loss: set[str],
    passed: dict[str, str],
) -> list[str]:
    """For finals that reduce the batch away (a loss written without a
    scope, reduce_sum(y)): the nearest ancestor that keeps it."""
    chosen: list[str] = []
    for final in finals:
        frontier, seen = [final], {final}
        while frontier:
            name = frontier.pop(0)
            if (
                name != final
                and g.nodes[name].op not in _PLACEHOLDERS
                and name not in loss
                and _keeps_batch(shapes.get(name), shapes, data)
            ):
                passed[final] = f"reduces {name} over the batch: a loss, not a prediction"
                if name not in chosen:
                    chosen.append(name)
                break
            for producer in g.producers[name]:
                if producer not in seen:
                    seen.add(producer)
                    frontier.append(producer)
    return chosen


def _not_an_output(
    g: _Graph, name: str, shapes: dict[str, Any], data: list[str], labels: list[str]
) -> str:
    node = g.nodes[name]
    first = g.producers[name][0] if g.producers[name] else ""
    if node.op in _SHAPE_QUERIES:
        return "a shape query"
    if node.op in _CONTROL_FLOW or (
        node.op == "Identity" and first and g.nodes[first].op in _CONTROL_FLOW | _PLACEHOLDERS
    ):
        return "control-flow plumbing"
    ancestors = g.backward(name)
    if not any(p in ancestors for p in data if p not in labels):
        return "reads no model input"
    return ""


def _keeps_batch(shape: Any, shapes: dict[str, Any], data: list[str]) -> bool:
    if not shape:
        return False
    batches = {tuple(shapes[p][:1]) for p in data if shapes.get(p)}
    return shape[0] is None or (shape[0],) in batches
