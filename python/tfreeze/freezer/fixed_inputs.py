"""Inputs fixed to a value at freeze time, as freeze_graph users fixed
``keep_prob=1.0`` and ``is_training=false``: the Placeholder becomes a Const,
the input leaves the signature, and grappler folds away the branches (dropout,
training-mode BatchNorm) the value rules out."""

from __future__ import annotations

from typing import Any

import numpy as np

from tfreeze.dtypes import numpy_dtype
from tfreeze.errors import FreezeError
from tfreeze.freezer.sources import Opened, Port
from tfreeze.freezer.sources.base import ports_named

__all__ = ["fix_inputs"]

_PLACEHOLDERS = ("Placeholder", "PlaceholderWithDefault")


def fix_inputs(opened: Opened, values: dict[str, Any]) -> None:
    """Replaces each named input's Placeholder by a Const of its value."""
    if not values:
        return
    ports = ports_named(opened.inputs, values, "input_values")
    nodes = {node.name: node for node in opened.graph_def.node}
    fixed = {name: _fixed_value(ports[name], nodes, value) for name, value in values.items()}
    for name, value in fixed.items():
        _make_const(nodes[ports[name].node], value)
    _feed_fixed_values_to_the_source(opened, fixed)
    # A new list: the source's reference may hold the old one, all inputs in it.
    opened.inputs = [port for port in opened.inputs if port.name not in fixed]
    opened.notes.append(
        "fixed at freeze time, no longer inputs: "
        + ", ".join(f"{name}={value.tolist()!r}" for name, value in fixed.items())
    )


def _fixed_value(port: Port, nodes: dict[str, Any], value: Any) -> np.ndarray:
    node = nodes.get(port.node)
    if node is None or node.op not in _PLACEHOLDERS or not port.tensor.endswith(":0"):
        raise FreezeError(f"input {port.name!r} is not a placeholder; only those can be fixed")
    dtype = numpy_dtype(port.dtype)
    if dtype == np.dtype(bool) and isinstance(value, str):
        if value.lower() not in ("true", "false", "1", "0"):
            raise FreezeError(f"input {port.name!r} is bool; give true or false, not {value!r}")
        value = value.lower() in ("true", "1")
    try:
        array = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError):
        raise FreezeError(f"input {port.name!r} is {port.dtype}; {value!r} is not one") from None
    if port.shape is not None and (
        len(port.shape) != array.ndim
        or any(d not in (-1, n) for d, n in zip(port.shape, array.shape, strict=True))
    ):
        raise FreezeError(
            f"input {port.name!r} has shape {list(port.shape)} (-1: open); the value given has "
            f"shape {list(array.shape)}"
        )
    return array


def _make_const(node: Any, value: np.ndarray) -> None:
    import tensorflow as tf

    node.op = "Const"
    del node.input[:]  # a PlaceholderWithDefault's default
    for key in list(node.attr):
        del node.attr[key]
    node.attr["dtype"].type = tf.as_dtype(value.dtype).as_datatype_enum
    node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(value))


def _feed_fixed_values_to_the_source(opened: Opened, fixed: dict[str, np.ndarray]) -> None:
    """Verification still runs the source with every input: the fixed ones take
    their value."""
    original = list(opened.inputs)
    reference = opened.reference

    def with_fixed(values: list[Any]) -> list[np.ndarray]:
        given = iter(values)
        return reference(
            [fixed[port.name] if port.name in fixed else next(given) for port in original]
        )

    opened.reference = with_fixed
