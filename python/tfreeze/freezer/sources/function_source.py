"""tf.function / tf.Module sources (Python API): a tf.function with an
input_signature, a ConcreteFunction, or a tf.Module whose ``__call__`` (or
``serving_default``) is such a function."""

from __future__ import annotations

from typing import Any

import numpy as np

from tfreeze.errors import FreezeError
from tfreeze.freezer.sources.base import FreezeOptions, Opened, Stages
from tfreeze.freezer.sources.functions import freeze_concrete

__all__ = ["concrete_function_of", "open_function"]


def concrete_function_of(source: Any) -> Any | None:
    """The ConcreteFunction a tf.function/tf.Module source stands for; None when
    ``source`` is none of those."""
    import tensorflow as tf

    if isinstance(source, tf.types.experimental.ConcreteFunction):
        return source
    if isinstance(source, tf.types.experimental.PolymorphicFunction):
        if source.input_signature is None:
            raise FreezeError(
                f"tf.function {source.__name__!r} has no input_signature, so its input shapes "
                "and dtypes are unknown; decorate it with @tf.function(input_signature=[...]) "
                "or pass fn.get_concrete_function(tf.TensorSpec(...))"
            )
        return source.get_concrete_function()
    if isinstance(source, tf.Module) and not isinstance(source, tf.keras.Model):
        for attribute in ("serving_default", "__call__"):
            function = getattr(source, attribute, None)
            if isinstance(function, tf.types.experimental.PolymorphicFunction):
                return concrete_function_of(function)
        raise FreezeError(
            f"tf.Module {type(source).__name__} has no tf.function __call__ or serving_default "
            "with an input_signature to freeze"
        )
    return None


def _input_names(concrete: Any) -> list[str]:
    """TensorSpec names where given, else the Python argument names."""
    import tensorflow as tf

    args, kwargs = concrete.structured_input_signature
    flat = tf.nest.flatten((args, kwargs))
    names = [t.op.name for t in concrete.inputs[: len(flat)]]
    return [spec.name or name for spec, name in zip(flat, names, strict=True)]


def _output_names(concrete: Any) -> tuple[list[str], list[str] | None]:
    """(names in tf.nest order, dict keys in the function's own order or None)."""
    import tensorflow as tf

    structure = concrete.structured_outputs
    if isinstance(structure, dict):
        return sorted(structure), list(structure)
    count = len(tf.nest.flatten(structure))
    return (["output"] if count == 1 else [f"output_{i}" for i in range(count)]), None


def open_function(concrete: Any, options: FreezeOptions, stages: Stages) -> Opened:
    import tensorflow as tf

    input_names = _input_names(concrete)
    flat_names, model_order = _output_names(concrete)
    with stages("convert"):
        frozen = freeze_concrete(
            concrete, input_names, flat_names, keep_control_flow=options.keep_control_flow
        )
    outputs = frozen.outputs
    if model_order is not None:  # dict outputs: the function's key order, not sorted
        by_name = {p.name: p for p in outputs}
        outputs = [by_name[key] for key in model_order]

    keys = [p.name for p in outputs]  # the function's own keys: ports may be renamed later

    def reference(values: list[np.ndarray]) -> list[np.ndarray]:
        result = concrete(*[tf.constant(v) for v in values])
        if isinstance(result, dict):
            return [np.asarray(result[key]) for key in keys]
        return [np.asarray(v) for v in tf.nest.flatten(result)]

    name = getattr(concrete, "name", "function")
    return Opened(
        kind="tf-function",
        name=name.decode() if isinstance(name, bytes) else str(name),
        graph_def=frozen.graph_def,
        inputs=frozen.inputs,
        outputs=outputs,
        reference=reference,
        init=frozen.init,
    )
