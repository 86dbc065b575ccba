"""Failures real packaged models exposed (issue 10, items 4 and 5), each
reproduced by a small model made here: docs/realworld.md."""

from __future__ import annotations

import h5py
import keras
import numpy as np
import pytest

import tfreeze
from tfreeze.cli import main as cli_main
from tfreeze.errors import FreezeError

# Grappler runs in a child process (seconds); the tests that are about
# verification alone skip it.
_FAST = {"optimize": False}


def _pooling_chain(*, valid_conv: bool = True) -> keras.Model:
    """An audio CNN with an open time axis whose pooling needs >= 16 frames.
    `valid_conv` ends it with a "valid" convolution two frames wide, so that
    too few frames fail whatever the CPU: Eigen's pooling passes a zero-wide
    tensor on where oneDNN's refuses it (oneDNN is on by default only on
    some CPUs: the AMD EPYC this was seen on runs Eigen)."""
    keras.utils.set_random_seed(0)
    x = keras.Input((8, None, 1), name="spectrogram")
    y = x
    for _ in range(4):
        y = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(y)
        y = keras.layers.MaxPooling2D((1, 2))(y)
    if valid_conv:
        y = keras.layers.Conv2D(4, (1, 2), padding="valid", activation="relu")(y)
    y = keras.layers.GlobalAveragePooling2D()(y)
    return keras.Model(x, keras.layers.Dense(3)(y))


def test_verification_grows_open_dimensions_until_the_graph_runs(tmp_path):
    # Without the last convolution: with it, the frozen graph runs at 16 frames
    # on Eigen (a zero-wide output) where Keras refuses them.
    report = tfreeze.freeze(_pooling_chain(valid_conv=False), tmp_path / "m.pb")
    assert report.max_abs_diff < 1e-5
    assert tfreeze.Model(tmp_path / "m.pb").verify()["passed"]


def test_verify_shapes_are_used_as_given(tmp_path):
    report = tfreeze.freeze(
        _pooling_chain(), tmp_path / "m.pb", verify_shapes={"spectrogram": [2, 8, 32, 1]}, **_FAST
    )
    assert next(iter(report.verification.values()))[0].actual_shape == (2, 3)


def test_verify_shapes_too_small_is_one_line_naming_the_option(tmp_path):
    with pytest.raises(FreezeError) as caught:
        tfreeze.freeze(
            _pooling_chain(),
            tmp_path / "m.pb",
            verify_shapes={"spectrogram": [1, 8, 4, 1]},
            **_FAST,
        )
    message = str(caught.value)
    assert "\n" not in message and "verify_shapes" in message and "--verify-shape" in message
    assert not (tmp_path / "m.pb").exists()


@pytest.mark.parametrize(
    "shape, problem",
    [
        ({"nope": [1, 8, 32, 1]}, "the inputs are: spectrogram"),
        ({"spectrogram": [1, 9, 32, 1]}, "fixed"),
    ],
)
def test_verify_shapes_that_do_not_fit_the_signature_are_refused(tmp_path, shape, problem):
    with pytest.raises(FreezeError, match=problem):
        tfreeze.freeze(_pooling_chain(), tmp_path / "m.pb", verify_shapes=shape, **_FAST)


def test_cli_verify_shape_flag(tmp_path, capsys):
    source = tmp_path / "m.keras"
    _pooling_chain().save(source)
    out = str(tmp_path / "m.pb")
    too_small = ["--verify-shape", "spectrogram=1,8,4,1", "--no-optimize"]
    assert cli_main(["freeze", str(source), "-o", out, *too_small]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "verify" in error
    assert cli_main(["freeze", str(source), "-o", out, "--verify-shape", "spectrogram=1,x"]) == 2
    assert "NAME=DIM,DIM" in capsys.readouterr().err


def _dilated_cropping_h5(path) -> keras.Model:
    """A dilated Conv1D + Cropping1D model in an .h5 whose keras_version says
    Keras 2 but whose config only Keras 3 reads (tf_keras cannot load it)."""
    keras.utils.set_random_seed(0)
    x = keras.Input((None, 2), name="signal")
    y = keras.layers.Conv1D(4, 3, dilation_rate=2, padding="causal")(x)
    y = keras.layers.Cropping1D((2, 0))(y)
    model = keras.Model(x, keras.layers.Conv1D(1, 1)(y))
    model.save(path)
    with h5py.File(path, "r+") as file:
        file.attrs["keras_version"] = "2.4.0"
    return model


def test_h5_that_tf_keras_cannot_load_falls_back_to_keras_3(tmp_path):
    model = _dilated_cropping_h5(tmp_path / "m.h5")
    report = tfreeze.freeze(tmp_path / "m.h5", tmp_path / "m.pb")
    assert report.source_kind == "keras-file"
    note = report.notes[0]
    assert note.startswith(f"loaded with Keras {keras.__version__}")
    assert "Keras 2.4.0" in note and "tf_keras" in note and "could not load" in note
    x = np.random.default_rng(0).standard_normal((2, 16, 2)).astype(np.float32)
    got = tfreeze.Model(tmp_path / "m.pb").run(x)
    np.testing.assert_allclose(next(iter(got.values())), model.predict(x, verbose=0), atol=1e-5)


def test_h5_with_a_loader_chosen_does_not_fall_back(tmp_path):
    _dilated_cropping_h5(tmp_path / "m.h5")
    with pytest.raises(FreezeError) as caught:
        tfreeze.freeze(tmp_path / "m.h5", tmp_path / "m.pb", legacy_keras=True)
    assert "tf_keras" in str(caught.value) and "\n" not in str(caught.value)


def test_h5_written_by_keras_2_says_tf_keras_loaded_it(frozen_keras2_h5):
    assert frozen_keras2_h5.notes[0].startswith("loaded with tf_keras")


@pytest.fixture
def frozen_keras2_h5(tmp_path):
    import subprocess
    import sys

    script = (
        "import tf_keras as k; m = k.Sequential([k.Input((3,)), k.layers.Dense(2)]); "
        f"m.save({str(tmp_path / 'k2.h5')!r})"
    )
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)
    return tfreeze.freeze(tmp_path / "k2.h5", tmp_path / "k2.pb")


def _tf1_checkpoint(directory) -> None:
    """A TF1 checkpoint as musicnn ships it: empty file names (".index",
    ".meta"), a 'checkpoint' file naming the absolute directory it was written
    in, and an ``_output_shapes`` hint newer shape inference contradicts."""
    import tensorflow as tf

    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, (None, 3), name="x")
        w = v1.get_variable("w", (3, 2), initializer=v1.constant_initializer(0.5))
        tf.nn.sigmoid(tf.matmul(x, w), name="y")
        with v1.Session(graph=graph) as session:
            session.run(v1.global_variables_initializer())
            v1.train.Saver().save(session, str(directory) + "/")
    meta = v1.MetaGraphDef()
    meta.ParseFromString((directory / ".meta").read_bytes())
    matmul = next(n for n in meta.graph_def.node if n.op == "MatMul")
    hint = matmul.attr["_output_shapes"].list
    del hint.shape[:]
    wrong = hint.shape.add()  # [?, 7]: the MatMul gives [?, 2]
    wrong.dim.add(size=-1)
    wrong.dim.add(size=7)
    (directory / ".meta").write_bytes(meta.SerializeToString())
    (directory / "checkpoint").write_text(
        'model_checkpoint_path: "/home/someone/experiments/run_17/"\n'
    )


def test_tf1_checkpoint_moved_with_its_directory_and_stale_shape_hints(tmp_path):
    directory = tmp_path / "model"
    directory.mkdir()
    _tf1_checkpoint(directory)
    report = tfreeze.freeze(directory, tmp_path / "m.pb", output_names=["y"])
    assert report.source_kind == "tf1-checkpoint"
    got = tfreeze.Model(tmp_path / "m.pb").run(np.ones((1, 3), np.float32))["y"]
    np.testing.assert_allclose(got, [[1 / (1 + np.exp(-1.5))] * 2], rtol=1e-6)


def test_input_defaulting_to_a_tf_data_iterator_becomes_required(tmp_path):
    """deepbrain's graph: the image defaults to a tf.data pipeline's next element."""
    import tensorflow as tf

    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        dataset = tf.data.Dataset.from_tensors(np.zeros((1, 4), np.float32))
        element = v1.data.make_one_shot_iterator(dataset).get_next()
        image = v1.placeholder_with_default(element, (None, 4), name="image")
        tf.reduce_sum(image * 2.0, axis=1, name="total")
    source = tmp_path / "graph.pb"
    source.write_bytes(graph.as_graph_def().SerializeToString())
    report = tfreeze.freeze(str(source), tmp_path / "m.pb", output_names=["total"])
    (entry,) = report.inputs
    assert entry.name == "image" and not entry.optional
    assert any("tf.data" in note for note in report.notes)
    assert not report.warnings  # no dataset op left: optimized and verified
    got = tfreeze.Model(tmp_path / "m.pb").run(np.ones((2, 4), np.float32))["total"]
    np.testing.assert_array_equal(got, [8.0, 8.0])
