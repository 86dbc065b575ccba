"""TF1 flag inputs: ``is_training`` feeding ``tf.cond`` and ``keep_prob`` (or a
dropout rate) feeding ``tf.nn.dropout``, often Placeholders of unknown rank
that every ``sess.run`` fed by hand.

A flag is recognised by how the graph uses it: only as a ``tf.cond``
predicate, or only by a dropout. It is a scalar whatever its Placeholder says.
When its inference value is obvious (a training flag: false; a keep
probability: 1.0; a dropout rate: 0.0) and the user said nothing about it, it
is fixed to that value, as if given ``--input-value``: the graph folds the
training branches and the dropout away and the stored test vectors replay
deterministically. ``--input-shape NAME=`` keeps it an input; verification
then feeds it its inference value, never a random one.
"""

from __future__ import annotations

from typing import Any

from tfreeze.freezer.sources import FreezeOptions, Opened

__all__ = ["Flag", "find_flags", "settle_flags"]

_PLACEHOLDERS = ("Placeholder", "PlaceholderWithDefault")
_PASS_THROUGH = ("Identity", "LogicalNot", "Sub", "Cast")


class Flag:
    """A scalar input that switches the graph: its name, its use and the
    value inference wants (None when not obvious)."""

    def __init__(self, name: str, use: str, value: Any) -> None:
        self.name, self.use, self.value = name, use, value


def _consumers(graph_def: Any) -> dict[str, list[tuple[Any, int]]]:
    found: dict[str, list[tuple[Any, int]]] = {}
    for node in graph_def.node:
        for index, source in enumerate(node.input):
            if not source.startswith("^"):
                found.setdefault(source.split(":")[0], []).append((node, index))
    return found


def _only_predicate(name: str, consumers: dict, depth: int = 0) -> bool:
    """Every use of ``name`` decides a branch (Switch's port 1, If's port 0)."""
    uses = consumers.get(name, [])
    if not uses or depth > 3:
        return False
    for node, index in uses:
        if node.op in ("Switch", "RefSwitch") and index == 1:
            continue
        if node.op in ("Switch", "RefSwitch") and node.input[1].split(":")[0] == name:
            continue  # cond's own Switch(pred, pred)
        if node.op in ("If", "StatelessIf") and index == 0:
            continue
        if node.op in ("Identity", "LogicalNot") and _only_predicate(
            node.name, consumers, depth + 1
        ):
            continue
        return False
    return True


def _only_dropout(name: str, consumers: dict, depth: int = 0) -> bool:
    """Every use of ``name`` is (a step away from) a dropout's own op."""
    uses = consumers.get(name, [])
    if not uses or depth > 2:
        return False
    for node, _ in uses:
        if "dropout" in node.name.lower().split("/")[:-1]:
            continue
        if node.op in _PASS_THROUGH and _only_dropout(node.name, consumers, depth + 1):
            continue
        return False
    return True


def find_flags(opened: Opened) -> list[Flag]:
    """The required scalar-or-unknown-rank inputs the graph uses only as flags."""
    consumers = _consumers(opened.graph_def)
    nodes = {node.name: node for node in opened.graph_def.node}
    flags = []
    for port in opened.inputs:
        node = nodes.get(port.node)
        if (
            port.optional
            or node is None
            or node.op != "Placeholder"
            or port.shape not in (None, ())
        ):
            continue
        lowered = port.name.lower()
        if port.dtype == "bool" and _only_predicate(port.node, consumers):
            flags.append(
                Flag(port.name, "a tf.cond predicate", False if "train" in lowered else None)
            )
        elif port.dtype.startswith(("float", "bfloat")) and _only_dropout(port.node, consumers):
            value = 1.0 if "keep" in lowered else 0.0
            flags.append(
                Flag(port.name, "a dropout's " + ("keep probability" if value else "rate"), value)
            )
    return flags


def settle_flags(opened: Opened, options: FreezeOptions) -> dict[str, Any]:
    """Fixes flags the user said nothing about to their inference value and
    makes the rest scalars. Returns the values to fix ({name: value}, merged
    with the user's input_values) and records, in ``opened.flag_values``, the
    value verification feeds each flag that stays an input."""
    given = dict(options.input_values or {})
    shapes = options.input_shapes or {}
    for flag in find_flags(opened):
        if flag.name in given:
            continue
        port = next(p for p in opened.inputs if p.name == flag.name)
        if flag.value is not None and flag.name not in shapes:
            given[flag.name] = flag.value
            opened.notes.append(
                f"input {flag.name!r} is only {flag.use}: fixed to its inference value "
                f"{_shown(flag.value)}. To keep it an input pass --input-shape {flag.name}= "
                f"(input_shapes={{{flag.name!r}: []}}); to fix another value "
                f"--input-value {flag.name}=VALUE"
            )
            continue
        if port.shape is None and flag.name not in shapes:
            port.shape = ()
            _scalar_in_graph(opened, port.node)
            opened.notes.append(
                f"input {flag.name!r} has unknown rank but is only {flag.use}: a scalar"
            )
        if flag.value is not None:
            opened.flag_values[flag.name] = flag.value
    return given


def _shown(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else repr(value)


def _scalar_in_graph(opened: Opened, node_name: str) -> None:
    for node in opened.graph_def.node:
        if node.name == node_name:
            node.attr["shape"].shape.Clear()
