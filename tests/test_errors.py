"""Every bad input becomes a typed Python exception naming the problem and the
valid choices; nothing crashes."""

from __future__ import annotations

import numpy as np
import pytest

import tfreeze


@pytest.fixture
def two_inputs(frozen):
    return tfreeze.Model(frozen("two_in_two_out").path)


@pytest.fixture
def feeds(two_inputs):
    return two_inputs.random_feeds(batch_size=2)


def test_unknown_input_lists_valid_inputs(two_inputs, feeds):
    with pytest.raises(tfreeze.UnknownNameError) as caught:
        two_inputs.run({**feeds, "token": feeds["tokens"]})
    assert str(caught.value) == 'unknown input "token"; inputs are: tokens, extra'
    assert caught.value.code == "INVALID_ARGUMENT"
    assert isinstance(caught.value, ValueError)


def test_unknown_fetch_lists_valid_outputs(two_inputs, feeds):
    with pytest.raises(tfreeze.UnknownNameError, match="outputs are: zeta, alpha"):
        two_inputs.run(feeds, fetches=["beta"])


def test_wrong_dtype_names_expected_and_got(two_inputs, feeds):
    with pytest.raises(tfreeze.DTypeError) as caught:
        two_inputs.run({**feeds, "extra": feeds["extra"].astype(np.int32)})
    assert str(caught.value) == (
        'input "extra": expected float32 [?,4], got int32 [2,4]; inputs are: tokens, extra'
    )
    assert isinstance(caught.value, TypeError)


def test_wrong_rank_is_a_shape_error(two_inputs, feeds):
    with pytest.raises(tfreeze.ShapeError, match=r"expected float32 \[\?,6\], got float32 \[6\]"):
        two_inputs.run({**feeds, "tokens": feeds["tokens"][0]})


def test_wrong_known_dim_is_a_shape_error(two_inputs, feeds):
    with pytest.raises(tfreeze.ShapeError, match=r"got float32 \[2,5\]"):
        two_inputs.run({**feeds, "tokens": np.zeros((2, 5), np.float32)})


def test_missing_input_says_which(two_inputs, feeds):
    with pytest.raises(tfreeze.InputError, match='missing input "extra"'):
        two_inputs.run({"tokens": feeds["tokens"]})


def test_single_array_for_a_two_input_model_is_refused(two_inputs, feeds):
    with pytest.raises(tfreeze.InputError, match="pass a dict keyed by name: tokens, extra"):
        two_inputs.run(feeds["tokens"])


def test_unconvertible_feed_is_a_dtype_error(two_inputs, feeds):
    with pytest.raises(tfreeze.DTypeError, match="no TensorFlow equivalent"):
        two_inputs.run({**feeds, "tokens": np.zeros((2, 6), np.complex64)})


def test_missing_file(tmp_path):
    with pytest.raises(tfreeze.ModelFileNotFoundError, match="nope.pb") as caught:
        tfreeze.Model(tmp_path / "nope.pb")
    assert isinstance(caught.value, FileNotFoundError)
    assert caught.value.code == "NOT_FOUND"


def test_corrupt_pb(frozen, tmp_path):
    data = frozen("mlp").path.read_bytes()
    (tmp_path / "cut.pb").write_bytes(data[: len(data) // 2])
    with pytest.raises(tfreeze.LoadError, match="not a valid TensorFlow GraphDef"):
        tfreeze.Model(tmp_path / "cut.pb")


@pytest.mark.parametrize(
    "content", [b"hello, I am a text file\n", b"\x89PNG\r\n\x1a\n" + bytes(64)]
)
def test_non_model_file(tmp_path, content):
    (tmp_path / "file.pb").write_bytes(content)
    with pytest.raises(tfreeze.LoadError):
        tfreeze.Model(tmp_path / "file.pb")


def test_graph_without_signature_says_how_to_make_one(tmp_path):
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 2], name="x")
        tf.identity(x * 2.0, name="y")
    (tmp_path / "plain.pb").write_bytes(graph.as_graph_def().SerializeToString())
    with pytest.raises(tfreeze.LoadError, match="without a tfreeze signature.*tfreeze freeze"):
        tfreeze.Model(tmp_path / "plain.pb")


def test_directory_is_not_a_model(tmp_path):
    with pytest.raises(tfreeze.LoadError, match="is a directory"):
        tfreeze.Model(tmp_path)


def test_bad_thread_counts_are_value_errors(frozen):
    with pytest.raises(ValueError, match="intra_op_threads must be a positive integer"):
        tfreeze.Model(frozen("mlp").path, intra_op_threads=0)
