"""A small CNN (with BatchNormalization and Dropout) on scikit-learn's bundled
8x8 digits: the demo's model, trained in seconds with no download."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["build_digits_cnn", "load_digits_split", "train_digits_cnn"]


def load_digits_split(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """8x8 digit images in [0, 1], shuffled and split 80/20."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[..., np.newaxis]
    order = np.random.default_rng(seed).permutation(len(images))
    images, labels = images[order], digits.target[order].astype(np.int64)
    cut = int(0.8 * len(images))
    return images[:cut], labels[:cut], images[cut:], labels[cut:]


def build_digits_cnn() -> Any:
    import keras

    inputs = keras.Input((8, 8, 1), name="image")
    x = keras.layers.Conv2D(16, 3, padding="same", use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="digits_cnn")


def train_digits_cnn(epochs: int) -> tuple[Any, tuple, float]:
    """The trained model, the data split and the model's test accuracy (seeded)."""
    import keras

    keras.utils.set_random_seed(0)
    data = load_digits_split()
    x_train, y_train, x_test, y_test = data
    model = build_digits_cnn()
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, epochs=epochs, batch_size=32, verbose=0)
    _, keras_accuracy = model.evaluate(x_test, y_test, verbose=0)
    return model, data, float(keras_accuracy)
