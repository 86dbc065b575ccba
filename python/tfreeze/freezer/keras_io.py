"""The inputs and outputs of a Keras 3 model, named as its user knows them and
in the model's own order (not tf.nest's alphabetical order for dicts)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tfreeze.errors import FreezeError

__all__ = ["KerasIO", "load_keras_model"]


def load_keras_model(source: Any) -> Any:
    """A keras.Model from a model object or a ``.keras`` file path."""
    import keras

    if isinstance(source, keras.Model):
        return source
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.exists(path):
            raise FileNotFoundError(f"source model {path!r} does not exist")
        if path.endswith((".keras", ".h5", ".hdf5")):
            return keras.models.load_model(path, compile=False)
        raise FreezeError(f"{path!r} is not a Keras model file (.keras, .h5)")
    raise FreezeError(f"a {type(source).__name__} is not a Keras model")


def _layer_name(keras_tensor: Any, fallback: str) -> str:
    history = getattr(keras_tensor, "_keras_history", None)
    operation = getattr(history, "operation", None)
    return getattr(operation, "name", None) or fallback


def _dedupe(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        unique.append(name if count == 0 else f"{name}_{count}")
    return unique


@dataclass
class KerasIO:
    """How to call a model with flat, ordered inputs and get flat, ordered outputs."""

    model: Any
    input_names: list[str]
    input_tensors: list[Any]  # KerasTensors: shape and dtype of each input
    input_keys: list[str] | None  # dict keys when the model takes a dict
    output_names: list[str]
    output_keys: list[str] | None  # dict keys when the model returns a dict

    @classmethod
    def of(cls, model: Any) -> KerasIO:
        try:
            flat_inputs = list(model.inputs)
        except (AttributeError, ValueError) as error:
            raise FreezeError(
                f"model {model.name!r} has no symbolic inputs ({error}); build it with "
                "keras.Input(...) (Functional or Sequential) before freezing"
            ) from None
        input_struct = getattr(model, "_inputs_struct", None)
        if isinstance(input_struct, dict):
            input_keys = list(input_struct)
            input_tensors = [input_struct[key] for key in input_keys]
            input_names = list(input_keys)
        else:
            input_keys = None
            input_tensors = flat_inputs
            input_names = [_layer_name(t, f"input_{i}") for i, t in enumerate(flat_inputs)]
        output_struct = getattr(model, "_outputs_struct", None)
        if isinstance(output_struct, dict):
            output_keys = list(output_struct)
            output_names = list(output_keys)
        else:
            output_keys = None
            output_names = [_layer_name(t, f"output_{i}") for i, t in enumerate(model.outputs)]
        return cls(
            model,
            _dedupe(input_names),
            input_tensors,
            input_keys,
            _dedupe(output_names),
            output_keys,
        )

    def call(self, flat_inputs: Sequence[Any]) -> list[Any]:
        """Runs the model in inference mode; inputs and outputs in model order."""
        import keras

        if self.input_keys is not None:
            packed = dict(zip(self.input_keys, flat_inputs, strict=True))
        elif len(flat_inputs) == 1:
            packed = flat_inputs[0]
        else:
            packed = list(flat_inputs)
        outputs = self.model(packed, training=False)
        if self.output_keys is not None:
            return [outputs[key] for key in self.output_keys]
        return list(keras.tree.flatten(outputs))
