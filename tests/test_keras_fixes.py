"""Keras layers whose own graph trace is wrong: the freezer traces them right."""

from __future__ import annotations

import keras
import numpy as np

import tfreeze


def test_time_distributed_over_an_open_time_axis_keeps_every_step(tmp_path):
    # Keras 3.15 traces TimeDistributed with an open time axis as batch-size
    # steps: (1, 1, 3) for a (1, 4, ...) input. Eager calls are right.
    keras.utils.set_random_seed(0)
    frames = keras.Input((None, 6, 6, 1), name="frames")
    x = keras.layers.TimeDistributed(keras.layers.Conv2D(2, 3, activation="relu"))(frames)
    x = keras.layers.TimeDistributed(keras.layers.Flatten())(x)
    scores = keras.layers.TimeDistributed(keras.layers.Dense(3), name="scores")(x)
    model = keras.Model(frames, scores)

    report = tfreeze.freeze(model, tmp_path / "td.pb")

    assert any("TimeDistributed" in note for note in report.notes), report.notes
    clips = np.random.default_rng(0).standard_normal((2, 5, 6, 6, 1)).astype(np.float32)
    got = tfreeze.Model(tmp_path / "td.pb").run({"frames": clips})["scores"]
    assert got.shape == (2, 5, 3)
    np.testing.assert_allclose(got, model(clips, training=False), rtol=1e-5, atol=1e-6)


def test_the_patch_is_gone_after_the_trace(tmp_path):
    original = keras.layers.TimeDistributed.call
    frames = keras.Input((None, 4), name="frames")
    model = keras.Model(frames, keras.layers.TimeDistributed(keras.layers.Dense(2))(frames))
    tfreeze.freeze(model, tmp_path / "td.pb", optimize=False)
    assert keras.layers.TimeDistributed.call is original
