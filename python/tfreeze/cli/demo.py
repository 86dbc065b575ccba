"""`tfreeze demo`: the whole path on a model trained in seconds.

Trains a small CNN (with BatchNormalization and Dropout) on scikit-learn's
bundled digits, freezes it, runs it from C++, and prints parity (C++ vs
Python TensorFlow vs Keras) and latency (C++ loop vs session.run vs Keras call).
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from tfreeze.cli import render as reports
from tfreeze.cli.common import console, positive, require_modules

if TYPE_CHECKING:
    import numpy as np
    from rich.console import Console

__all__ = ["add_parser", "run_demo"]

_BATCH_SIZES = (1, 32)
_EXAMPLE_IMAGES = 8


def add_parser(commands: Any) -> None:
    p = commands.add_parser(
        "demo",
        help="train, freeze, run from C++, print parity and latency",
        epilog="examples:\n  tfreeze demo\n  tfreeze demo --workdir /tmp/demo --epochs 3",
    )
    p.add_argument("--workdir", default=os.path.join("build", "demo"))
    p.add_argument("--epochs", type=positive, default=12)
    p.add_argument("--threads", type=positive, default=1)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    require_modules({"sklearn": "test"}, purpose="the demo (its digits data ship in scikit-learn)")
    return run_demo(console, workdir=args.workdir, epochs=args.epochs, threads=args.threads)


def _train(console: Console, epochs: int) -> tuple[Any, tuple, float]:
    from tfreeze.examples.digits import train_digits_cnn

    with console.status(f"training a small CNN on scikit-learn's digits for {epochs} epochs"):
        return train_digits_cnn(epochs)


def _latency_rows(
    model: Any, pb_path: str, images: np.ndarray, batch: int, threads: int
) -> list[tuple[str, dict[str, Any]]]:
    from tfreeze.measure.latency import cpp_latency, keras_latency, python_session_latency

    feeds = {"image": images[:batch]}
    return [
        ("tfreeze C++ (Model.run loop)", cpp_latency(pb_path, feeds, threads=threads)),
        ("Python session.run, same .pb", python_session_latency(pb_path, feeds, threads=threads)),
        ("Keras model(x, training=False)", keras_latency(model, [feeds["image"]])),
    ]


def run_demo(console: Console, *, workdir: str, epochs: int, threads: int) -> int:
    import numpy as np
    import tensorflow as tf

    # Same thread settings for every runner; must precede TensorFlow's first op.
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)

    from tfreeze.freezer import freeze
    from tfreeze.measure.parity import check_parity
    from tfreeze.runtime import Model

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
    # A batch for the C++ example (examples/classify_digits) and `tfreeze run`.
    images_path = os.path.join(workdir, "images.npy")
    np.save(images_path, x_test[:_EXAMPLE_IMAGES])
    console.print(
        f"files: {pb_path} (frozen), {keras_path} (source), {images_path} (the first "
        f"{_EXAMPLE_IMAGES} test digits, labels {' '.join(map(str, y_test[:_EXAMPLE_IMAGES]))}). "
        f"Try: tfreeze inspect {pb_path}; tfreeze run {pb_path} --input {images_path}; "
        f"tfreeze bench {pb_path} --batch 32"
    )
    return 0 if parity.passed and verified["passed"] else 1
