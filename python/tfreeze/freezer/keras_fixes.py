"""Keras layers whose graph trace is wrong, traced correctly while freezing.

Eager calls (the reference the frozen graph is verified against) are left as
Keras has them; only the trace inside ``traceable_keras()`` changes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["traceable_keras"]


@contextlib.contextmanager
def traceable_keras(notes: list[str]) -> Iterator[None]:
    """Patches the layers below for the duration of a trace; appends a note to
    ``notes`` for each layer it traced its own way."""
    import keras

    original = keras.layers.TimeDistributed.call

    def call(self: Any, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        if mask is not None or inputs.shape[1] is not None:
            return original(self, inputs, training=training, mask=mask)
        notes.append(
            f"TimeDistributed layer {self.name!r} has an open time axis: traced by folding "
            "time into the batch (Keras 3's own trace maps over the batch size instead)"
        )
        return _time_folded_into_batch(self, inputs, training)

    keras.layers.TimeDistributed.call = call
    try:
        yield
    finally:
        keras.layers.TimeDistributed.call = original


def _time_folded_into_batch(wrapper: Any, inputs: Any, training: Any) -> Any:
    """TimeDistributed(layer)(x) for x [batch, time, ...]: the layer sees each
    time step as one more sample, which is what TimeDistributed means (and how
    Keras 2 computed it). Keras 3.15's graph path sizes its map by
    ``shape(inputs)[0]`` taken before it swaps batch and time, so with an open
    time axis it runs batch-size steps instead of time steps."""
    import tensorflow as tf

    shape = tf.shape(inputs)
    merged = tf.reshape(inputs, tf.concat([[-1], shape[2:]], axis=0))
    kwargs = {"training": training} if wrapper.layer._call_has_training_arg else {}
    outputs = wrapper.layer.call(merged, **kwargs)
    return tf.reshape(outputs, tf.concat([shape[:2], tf.shape(outputs)[1:]], axis=0))
