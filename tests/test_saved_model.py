"""SavedModel directories load into the same Model interface, in C++
(TF_LoadSessionFromSavedModel), with the signature read from the MetaGraphDef."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import models
import tfreeze


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    import keras

    keras.utils.set_random_seed(0)
    model = models.two_in_two_out()
    directory = tmp_path_factory.mktemp("saved") / "two_in_two_out"
    model.export(str(directory), verbose=False)
    return model, directory


def test_keras_export_loads_with_signature_keys(exported):
    _, directory = exported
    model = tfreeze.Model(directory)
    assert model.input_names == ["extra", "tokens"]  # key order: a SavedModel keeps no other
    assert model.output_names == ["alpha", "zeta"]
    assert model.inputs[1] == tfreeze.TensorSpec("tokens", np.dtype("float32"), (None, 6))


def test_saved_model_outputs_match_keras_and_tensorflow(exported):
    keras_model, directory = exported
    model = tfreeze.Model(directory, intra_op_threads=1, inter_op_threads=1)
    feeds = model.random_feeds(batch_size=4, seed=2)
    out = model.run(feeds)
    expected = keras_model({"tokens": feeds["tokens"], "extra": feeds["extra"]}, training=False)
    serving = tf.saved_model.load(str(directory)).signatures["serving_default"]
    served = serving(**{k: tf.constant(v) for k, v in feeds.items()})
    for name in ("alpha", "zeta"):
        np.testing.assert_allclose(out[name], np.asarray(expected[name]), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(out[name], served[name].numpy(), rtol=1e-6, atol=1e-7)


def test_feeds_are_validated_like_frozen_files(exported):
    model = tfreeze.Model(exported[1])
    feeds = model.random_feeds(batch_size=2)
    with pytest.raises(tfreeze.ShapeError, match=r'input "tokens": expected float32 \[\?,6\]'):
        model.run({**feeds, "tokens": feeds["tokens"][:, :5]})


class Doubler(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.int64, name="n")])
    def double(self, n):
        return {"twice": n * 2, "label": tf.strings.as_string(n)}


def test_custom_signature_and_dtypes(tmp_path):
    module = Doubler()
    tf.saved_model.save(module, str(tmp_path / "doubler"), signatures={"double": module.double})
    model = tfreeze.Model(tmp_path / "doubler", signature="double")
    out = model.run({"n": np.array([1, -7], np.int64)})
    np.testing.assert_array_equal(out["twice"], np.array([2, -14], np.int64))
    assert out["label"].tolist() == [b"1", b"-7"]
    with pytest.raises(
        tfreeze.LoadError, match='no signature "serving_default"; its signatures are: double'
    ):
        tfreeze.Model(tmp_path / "doubler")


def test_wrong_tags_carry_tensorflows_message(exported):
    with pytest.raises(tfreeze.LoadError, match="could not load SavedModel") as caught:
        tfreeze.Model(exported[1], tags=["train"])
    assert "train" in str(caught.value)


def test_a_directory_that_is_not_a_saved_model(tmp_path):
    with pytest.raises(tfreeze.LoadError, match="not a SavedModel"):
        tfreeze.Model(tmp_path)
