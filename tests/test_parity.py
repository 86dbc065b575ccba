"""C++ outputs equal Python TensorFlow's run of the same .pb bit for bit, and
match the Keras model within 1e-5 relative / 1e-6 absolute."""

from __future__ import annotations

import numpy as np
import pytest

import tfreeze
from models import BUILDERS
from tfreeze.compare import compare_arrays
from tfreeze.freezer.keras_io import KerasIO
from tfreeze.parity import check_parity
from tfreeze.runtime.python_session import PythonSession

RTOL, ATOL = 1e-5, 1e-6


@pytest.mark.parametrize("kind", sorted(BUILDERS))
@pytest.mark.parametrize("batch_size", [1, 5])
def test_cpp_matches_python_pb_bit_exactly_and_keras_within_tolerance(frozen, kind, batch_size):
    item = frozen(kind)
    model = tfreeze.Model(item.path, intra_op_threads=1, inter_op_threads=1)
    feeds = model.random_feeds(batch_size=batch_size, seed=batch_size)

    cpp = model.run(feeds)
    with PythonSession(item.path, intra_op_threads=1, inter_op_threads=1) as session:
        python = session.run(feeds)
    keras_out = KerasIO.of(item.model).call([feeds[name] for name in model.input_names])

    for name, expected in zip(model.output_names, keras_out, strict=True):
        assert cpp[name].shape[0] == batch_size
        np.testing.assert_array_equal(cpp[name], python[name], strict=True)
        np.testing.assert_allclose(cpp[name], np.asarray(expected), rtol=RTOL, atol=ATOL)


def test_cnn_dropout_is_inference_mode(frozen):
    """Dropout(0.5) in training mode would make two runs differ."""
    model = tfreeze.Model(frozen("cnn").path)
    feeds = model.random_feeds(batch_size=4)
    np.testing.assert_array_equal(model.run(feeds)["logits"], model.run(feeds)["logits"])


def test_cnn_batchnorm_uses_moving_statistics(frozen):
    """Batch statistics would make one sample's output depend on its batch."""
    model = tfreeze.Model(frozen("cnn").path)
    feeds = model.random_feeds(batch_size=4)
    alone = model.run({"image": feeds["image"][:1]})["logits"]
    together = model.run(feeds)["logits"][:1]
    np.testing.assert_allclose(alone, together, rtol=1e-5, atol=1e-6)


def test_freeze_report_verified_the_graph(frozen):
    report = frozen("lstm").report
    assert set(report.verification) == {"state"}
    assert all(d.within_tolerance for d in report.verification["state"])
    assert len(report.verification["state"]) == 2  # two batch sizes


def test_check_parity_passes_on_the_right_model(frozen):
    item = frozen("two_in_two_out")
    report = check_parity(item.model, item.path, batch_size=3)
    assert report.passed
    assert [o.name for o in report.outputs] == ["zeta", "alpha"]
    assert all(o.cpp_vs_python.bit_exact for o in report.outputs)


def test_check_parity_fails_on_a_different_model(frozen):
    import keras

    item = frozen("mlp")
    keras.utils.set_random_seed(123)
    other = type(item.model).from_config(item.model.get_config())  # fresh weights
    report = check_parity(other, item.path)
    assert not report.passed
    assert report.outputs[0].cpp_vs_source.max_abs > 1e-3


def test_compare_arrays_reports_shape_mismatch_and_nan():
    diff = compare_arrays(np.zeros((2, 3)), np.zeros((3, 2)), rtol=RTOL, atol=ATOL)
    assert not diff.shape_ok and not diff.within_tolerance
    nan = compare_arrays(np.array([np.nan, 1.0]), np.array([0.0, 1.0]), rtol=RTOL, atol=ATOL)
    assert not nan.within_tolerance
    close = compare_arrays(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-7]), rtol=RTOL, atol=ATOL)
    assert close.within_tolerance and not close.bit_exact
    assert close.max_abs == pytest.approx(1e-7)


def test_string_outputs_are_bit_exact_when_their_bytes_agree(tmp_path):
    """Object arrays hold pointers: parity compares the strings themselves."""
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="words")])
    def shout(words):
        return {"upper": tf.strings.upper(words)}

    path = tmp_path / "shout.pb"
    tfreeze.freeze(shout, str(path))
    report = check_parity(shout, path)
    assert report.passed, report.as_dict()
    (output,) = report.outputs
    assert output.cpp_vs_python.bit_exact and output.cpp_vs_source.within_tolerance
    differs = compare_arrays(
        np.array([b"A", b"B"], dtype=object), np.array([b"A", b"C"], dtype=object), rtol=0, atol=0
    )
    assert not differs.bit_exact and not differs.within_tolerance


def test_both_sides_run_with_the_same_stated_session_config(frozen):
    import tensorflow as tf

    report = check_parity(None, frozen("mlp").path, threads=1)
    config = report.session_config
    proto = tf.compat.v1.ConfigProto.FromString(bytes.fromhex(config["config_proto_hex"]))
    assert proto.intra_op_parallelism_threads == 1 == proto.inter_op_parallelism_threads
    # The MLP is small: the default "auto" runs it single-threaded, and so does Python's side.
    assert proto.experimental.executor_type == "SINGLE_THREADED_EXECUTOR"
    assert config["executor"] == "single_threaded" and report.notes == []
    assert report.as_dict()["session_config"] == config


def test_a_difference_only_this_process_shows_is_rechecked_in_a_fresh_one(frozen, monkeypatch):
    # Stands in for state an earlier model left in the process (one such case
    # was seen and not reproduced: docs/parity.md).
    from tfreeze.measure import parity

    real = parity.python_run

    def nudged(*args, **kwargs):
        return {name: np.nextafter(value, np.inf) for name, value in real(*args, **kwargs).items()}

    monkeypatch.setattr(parity, "python_run", nudged)
    report = check_parity(frozen("mlp").model, frozen("mlp").path)
    assert report.passed
    assert all(o.cpp_vs_python.bit_exact for o in report.outputs)
    assert "agree bit for bit in a fresh one" in report.notes[0]
