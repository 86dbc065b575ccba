"""`tfreeze demo`: the whole path on a model trained in seconds.

Trains a small CNN (with BatchNormalization and Dropout) on scikit-learn's
bundled digits, freezes it, runs it from C++, and prints parity (C++ vs
Python TensorFlow vs Keras) and latency (C++ loop vs session.run vs Keras call).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from rich.console import Console

from tfreeze import reports

__all__ = ["build_digits_cnn", "load_digits_split", "run_demo"]

_BATCH_SIZES = (1, 32)


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


def _train(console: Console, epochs: int) -> tuple[Any, tuple, float]:
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
    with console.status(f"training a small CNN on {len(x_train)} digits for {epochs} epochs"):
        model.fit(x_train, y_train, epochs=epochs, batch_size=32, verbose=0)
    _, keras_accuracy = model.evaluate(x_test, y_test, verbose=0)
    return model, data, float(keras_accuracy)


def _latency_rows(
    model: Any, pb_path: str, images: np.ndarray, batch: int, threads: int
) -> list[tuple[str, dict[str, Any]]]:
    from tfreeze.latency import cpp_latency, keras_latency, python_session_latency

    feeds = {"image": images[:batch]}
    return [
        ("tfreeze C++ (Model.run loop)", cpp_latency(pb_path, feeds, threads=threads)),
        ("Python session.run, same .pb", python_session_latency(pb_path, feeds, threads=threads)),
        ("Keras model(x, training=False)", keras_latency(model, [feeds["image"]])),
    ]


def run_demo(console: Console, *, workdir: str, epochs: int, threads: int) -> int:
    import tensorflow as tf

    # Same thread settings for every runner; must precede TensorFlow's first op.
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)

    from tfreeze.freezer import freeze
    from tfreeze.model import Model
    from tfreeze.parity import check_parity

    model, (_, _, x_test, y_test), keras_accuracy = _train(console, epochs)
    os.makedirs(workdir, exist_ok=True)
    keras_path = os.path.join(workdir, "digits.keras")
    pb_path = os.path.join(workdir, "digits.pb")
    model.save(keras_path)
    with console.status("freezing"):
        report = freeze(model, pb_path)
    reports.print_freeze_report(console, report)

    cpp = Model(pb_path, intra_op_threads=threads, inter_op_threads=threads)
    predicted = cpp.run({"image": x_test})["probs"].argmax(axis=1)
    cpp_accuracy = float(np.mean(predicted == y_test))
    console.print(
        f"test accuracy on {len(x_test)} digits: C++ {cpp_accuracy:.4f}, Keras {keras_accuracy:.4f}"
    )

    verified = cpp.verify()
    console.print(
        f"test vectors stored in the .pb, replayed in C++: "
        f"{'PASS' if verified['passed'] else 'FAIL'} ({verified['cases']} cases, max abs "
        f"{max(c['max_abs'] for c in verified['checks']):.2g})"
    )
    parity = check_parity(model, pb_path, inputs={"image": x_test[:64]}, threads=threads)
    console.print(reports.parity_table(parity))
    with console.status("measuring latency"):
        tables = [
            reports.latency_table(
                f"latency, batch {batch}, {threads} thread(s), median of 200 runs",
                _latency_rows(model, pb_path, x_test, batch, threads),
            )
            for batch in _BATCH_SIZES
        ]
    for table in tables:
        console.print(table)
    console.print(
        f"files: {pb_path} (frozen), {keras_path} (source). Try: "
        f"tfreeze inspect {pb_path}; tfreeze bench {pb_path} --batch 32"
    )
    return 0 if parity.passed and verified["passed"] else 1
