"""Keras 2 (tf_keras) .h5 files, as old code saved them. Run as a script in a
process with TF_USE_LEGACY_KERAS=1 (tf.keras is then tf_keras):

    python legacy_models.py OUT_DIR KIND...

writes OUT_DIR/KIND.h5 and OUT_DIR/KIND.npz (inputs in_*, outputs out_*)."""

from __future__ import annotations

import os
import sys

import numpy as np

assert os.environ.get("TF_USE_LEGACY_KERAS") == "1", "run with TF_USE_LEGACY_KERAS=1"
import tensorflow as tf  # noqa: E402

k = tf.keras


def mlp():
    inputs = k.Input((12,), name="features")
    x = k.layers.Dense(16, activation="relu")(inputs)
    return k.Model(inputs, k.layers.Dense(3, activation="softmax", name="scores")(x))


def cnn():
    """BatchNormalization and Dropout depend on the learning phase in Keras 2."""
    inputs = k.Input((8, 8, 3), name="image")
    x = k.layers.Conv2D(4, 3, use_bias=False)(inputs)
    x = k.layers.BatchNormalization()(x)
    x = k.layers.Dropout(0.5)(k.layers.ReLU()(x))
    x = k.layers.GlobalAveragePooling2D()(x)
    model = k.Model(inputs, k.layers.Dense(5, name="logits")(x))
    bn = model.layers[2]
    bn.moving_mean.assign(np.linspace(-0.2, 0.2, 4))
    bn.moving_variance.assign(np.linspace(0.5, 2.0, 4))
    return model


def two_in_two_out():
    tokens = k.Input((6,), name="tokens")
    extra = k.Input((4,), name="extra")
    hidden = k.layers.Dense(8, activation="relu")(k.layers.Concatenate()([tokens, extra]))
    zeta = k.layers.Dense(2, name="zeta")(hidden)
    alpha = k.layers.Dense(1, activation="sigmoid", name="alpha")(hidden)
    return k.Model([tokens, extra], [zeta, alpha])


def lstm():
    inputs = k.Input((7, 5), name="sequence")
    x = k.layers.LSTM(6)(inputs)
    return k.Model(inputs, k.layers.Dense(2, name="state")(x))


def main() -> None:
    out_dir, *kinds = sys.argv[1:]
    for kind in kinds:
        save(out_dir, kind)


def save(out_dir: str, kind: str) -> None:
    tf.random.set_seed(0)
    model = globals()[kind]()
    model.save(os.path.join(out_dir, f"{kind}.h5"))
    rng = np.random.default_rng(0)
    feeds = [rng.standard_normal((3, *t.shape[1:])).astype(np.float32) for t in model.inputs]
    outputs = model(feeds if len(feeds) > 1 else feeds[0], training=False)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    arrays = {f"in_{name}": value for name, value in zip(model.input_names, feeds, strict=True)}
    arrays.update(
        {f"out_{name}": np.asarray(v) for name, v in zip(model.output_names, outputs, strict=True)}
    )
    np.savez(os.path.join(out_dir, f"{kind}.npz"), **arrays)


if __name__ == "__main__":
    main()
