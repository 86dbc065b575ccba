"""The freezer's source matrix: every source kind x (MLP, CNN with BatchNorm,
multi-input/multi-output, LSTM/RNN, string-input text model) where the source
allows it, frozen through the Python API and the command line with no node
names given, then run from C++ (see sources_fixtures.check_frozen)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tf1_models
from sources_fixtures import (
    build_legacy,
    check_frozen,
    freeze_by,
    keras_expected,
    keras_sources,
    legacy_case,
)

import models
import tfreeze

HOW = ("api", "cli")
KERAS_MODELS = ("mlp", "cnn", "two_in_two_out", "lstm", "text")
# Keras 3 cannot write TextVectorization's vocabulary into an .h5 file.
KERAS_SOURCES = {
    "object": KERAS_MODELS,
    "keras": KERAS_MODELS,
    "h5": ("mlp", "cnn", "two_in_two_out", "lstm"),
    "saved-model": KERAS_MODELS,
    "function": KERAS_MODELS,
}
# Model objects and functions exist only in Python: no command line for them.
KERAS_CASES = [
    (source, kind, how)
    for source, kinds in KERAS_SOURCES.items()
    for kind in kinds
    for how in HOW
    if how == "api" or source not in ("object", "function")
]
# A .h5 (Keras 2) has no string-input text model: tf_keras cannot store the vocabulary either.
LEGACY_MODELS = ("mlp", "cnn", "two_in_two_out", "lstm")
TF1_SOURCES = (
    "meta",
    "prefix",
    "directory",
    "pbtxt+checkpoint",
    "pb+checkpoint",
    "frozen",
    "saved-model",
)


@pytest.fixture(scope="module")
def keras_model(tmp_path_factory):
    cache = {}

    def get(kind: str):
        if kind not in cache:
            keras.utils.set_random_seed(0)
            cache[kind] = getattr(models, kind)()
        return cache[kind]

    return get


@pytest.mark.parametrize(("source", "kind", "how"), KERAS_CASES)
def test_keras_sources(source, kind, how, keras_model, tmp_path):
    model = keras_model(kind)
    pb = tmp_path / "model.pb"
    freeze_by(how, keras_sources(model, source, tmp_path), pb)
    frozen = tfreeze.Model(pb)
    feeds = frozen.random_feeds(batch_size=3, seed=1)
    check_frozen(pb, feeds, keras_expected(model, frozen, feeds))
    assert frozen.verify()["passed"]


@pytest.fixture(scope="module")
def legacy_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("legacy")
    build_legacy(folder, list(LEGACY_MODELS))
    return folder


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("kind", LEGACY_MODELS)
def test_keras2_h5_frozen_in_a_child(kind, how, legacy_folder, tmp_path):
    source, feeds, expected = legacy_case(legacy_folder, kind)
    pb = tmp_path / "model.pb"
    freeze_by(how, source, pb)
    model = check_frozen(pb, feeds, expected)
    assert [e.name for e in model.inputs] == list(feeds)
    assert model.verify()["passed"]
    # The child's tf_keras never reached this process: Keras 3 is still keras.
    assert keras.__version__.startswith("3.")


@pytest.fixture(scope="module")
def tf1_model(tmp_path_factory):
    cache = {}

    def get(kind: str) -> tf1_models.TF1Model:
        if kind not in cache:
            cache[kind] = tf1_models.build(kind, tmp_path_factory.mktemp(f"tf1_{kind}"))
        return cache[kind]

    return get


def tf1_source(model: tf1_models.TF1Model, source: str) -> tuple[str, dict]:
    folder = model.directory
    return {
        "meta": (model.meta, {}),
        "prefix": (model.checkpoint, {}),
        "directory": (str(folder), {}),
        "pbtxt+checkpoint": (str(folder / "graph.pbtxt"), {"checkpoint": model.checkpoint}),
        "pb+checkpoint": (str(folder / "graph.pb"), {"checkpoint": model.checkpoint}),
        "frozen": (str(folder / "frozen.pb"), {}),
        "saved-model": (str(folder / "saved_model"), {}),
    }[source]


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("source", TF1_SOURCES)
@pytest.mark.parametrize("kind", list(tf1_models.BUILDERS))
def test_tf1_sources(kind, source, how, tf1_model, tmp_path):
    model = tf1_model(kind)
    path, options = tf1_source(model, source)
    pb = tmp_path / "model.pb"
    freeze_by(how, path, pb, **options)
    frozen = check_frozen(pb, model.feeds, model.expected)
    assert sorted(e.name for e in frozen.inputs if not e.optional) == sorted(model.feeds)


def test_guessed_output_names_are_said(tf1_model, tmp_path, capsys):
    model = tf1_model("two_in_two_out")
    report = tfreeze.freeze(model.meta, tmp_path / "m.pb")
    assert any("guessed zeta, alpha" in note for note in report.notes)
    freeze_by("cli", model.meta, tmp_path / "cli.pb")
    out = capsys.readouterr().out
    assert "guessed zeta, alpha" in out and "--output-names" in out


def test_output_names_choose_and_rename_tf1_outputs(tf1_model, tmp_path):
    model = tf1_model("two_in_two_out")
    pb = tmp_path / "m.pb"
    report = tfreeze.freeze(model.meta, pb, output_names=["probability=alpha:0"])
    assert [e.name for e in report.outputs] == ["probability"]
    assert not report.notes  # nothing guessed
    cpp = tfreeze.Model(pb).run(model.feeds)
    np.testing.assert_array_equal(cpp["probability"], model.expected["alpha"])


def test_loop_plumbing_is_not_guessed_as_an_output(tf1_model, tmp_path):
    report = tfreeze.freeze(tf1_model("rnn").meta, tmp_path / "m.pb")
    assert [e.name for e in report.outputs] == ["state"]


def test_placeholder_with_default_stays_an_optional_feed(tf1_model, tmp_path):
    model = tf1_model("cnn")
    pb = tmp_path / "m.pb"
    tfreeze.freeze(str(model.directory / "frozen.pb"), pb)
    cpp = tfreeze.Model(pb)
    assert {e.name: e.optional for e in cpp.inputs} == {"image": False, "keep_prob": True}
    unfed = cpp.run(model.feeds)["logits"]
    fed = cpp.run({**model.feeds, "keep_prob": np.float32(1.0)})["logits"]
    np.testing.assert_array_equal(unfed, fed)


def test_tables_are_filled_by_init_ops_from_cpp(tf1_model, tmp_path):
    model = tf1_model("text")
    report = tfreeze.freeze(model.meta, tmp_path / "m.pb")
    assert report.init == ["key_value_init/LookupTableImportV2"]
    assert [e.dtype for e in report.inputs] == ["string"]
    # The explicit freeze_graph.py-style parameter gives the same file.
    again = tfreeze.freeze(model.meta, tmp_path / "explicit.pb", initializer_nodes=report.init)
    assert again.init == report.init
    assert (tmp_path / "m.pb").read_bytes() == (tmp_path / "explicit.pb").read_bytes()


@pytest.mark.parametrize("kind", ["text", "lookups"])
def test_keras_lookup_tables_need_no_resource_inputs(kind, keras_model, tmp_path):
    model = keras_model(kind)
    pb = tmp_path / "m.pb"
    report = tfreeze.freeze(model, pb)
    assert report.init and all(name.startswith("tfreeze/init/") for name in report.init)
    assert all(e.dtype != "resource" for e in report.inputs)
    frozen = tfreeze.Model(pb)
    assert [e.name for e in frozen.inputs] == [e.name for e in report.inputs]
    feeds = frozen.random_feeds(batch_size=4, seed=3)
    check_frozen(pb, feeds, keras_expected(model, frozen, feeds))


def test_denylisted_variables_stay_variables_initialized_at_load(tf1_model, tmp_path):
    model = tf1_model("mlp")
    pb = tmp_path / "m.pb"
    report = tfreeze.freeze(model.meta, pb, variable_denylist=["temperature"])
    assert report.init == ["temperature/Assign"]
    check_frozen(pb, model.feeds, model.expected)
    allow = [name for name in ("hidden/kernel", "hidden/bias", "out/kernel", "out/bias")]
    report = tfreeze.freeze(model.meta, tmp_path / "a.pb", variable_allowlist=allow)
    assert report.init == ["temperature/Assign"]


def test_clear_devices_drops_foreign_placements(tf1_model, tmp_path):
    import tensorflow as tf

    model = tf1_model("mlp")
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString((model.directory / "graph.pb").read_bytes())
    for node in graph_def.node:
        node.device = "/job:trainer/replica:0/task:7/device:GPU:3"
    placed = tmp_path / "placed.pb"
    placed.write_bytes(graph_def.SerializeToString())
    pb = tmp_path / "m.pb"
    tfreeze.freeze(str(placed), pb, checkpoint=model.checkpoint)
    frozen = tf.compat.v1.GraphDef()
    frozen.ParseFromString(pb.read_bytes())
    assert all(node.device == "" for node in frozen.node)
    check_frozen(pb, model.feeds, model.expected)
    with pytest.raises(Exception, match="trainer|device"):
        tfreeze.freeze(
            str(placed), tmp_path / "kept.pb", checkpoint=model.checkpoint, clear_devices=False
        )


def test_graph_def_with_variables_needs_a_checkpoint(tf1_model, tmp_path):
    model = tf1_model("mlp")
    with pytest.raises(tfreeze.FreezeError, match="--checkpoint"):
        tfreeze.freeze(str(model.directory / "graph.pbtxt"), tmp_path / "m.pb")
    assert not (tmp_path / "m.pb").exists()


def test_text_output_is_the_same_graph(tf1_model, tmp_path):
    import tensorflow as tf
    from google.protobuf import text_format

    model = tf1_model("cnn")
    tfreeze.freeze(model.meta, tmp_path / "m.pb")
    tfreeze.freeze(model.meta, tmp_path / "m.pbtxt")
    binary = tf.compat.v1.GraphDef()
    binary.ParseFromString((tmp_path / "m.pb").read_bytes())
    text = text_format.Parse((tmp_path / "m.pbtxt").read_text(), tf.compat.v1.GraphDef())
    assert text == binary
    with pytest.raises(tfreeze.LoadError, match="text GraphDef.*tfreeze freeze"):
        tfreeze.Model(tmp_path / "m.pbtxt")
    # A .pbtxt is for reading and diffing; freezing it again gives a runnable .pb.
    tfreeze.freeze(str(tmp_path / "m.pbtxt"), tmp_path / "again.pb")
    check_frozen(tmp_path / "again.pb", model.feeds, model.expected)


def test_saved_model_signature_choice_and_tf1_fallback(keras_model, tmp_path, monkeypatch):
    from tfreeze.freezer.sources import saved_model_source

    model = keras_model("two_in_two_out")
    export = keras_sources(model, "saved-model", tmp_path)
    with pytest.raises(tfreeze.FreezeError, match="no signature 'nope'.*serving_default"):
        tfreeze.freeze(export, tmp_path / "x.pb", signature_name="nope")

    def reject(path, options):
        raise ValueError("this SavedModel was written by an older TensorFlow")

    monkeypatch.setattr(saved_model_source, "_load_tf2", reject)
    pb = tmp_path / "m.pb"
    report = tfreeze.freeze(export, pb)
    assert report.source_kind == "saved-model-tf1"
    assert any("older TensorFlow" in note and "TF1 loader" in note for note in report.notes)
    # The SavedModel's save/restore functions, which no node calls, are not carried along.
    assert not any("outside the model" in warning for warning in report.warnings)
    frozen = tfreeze.Model(pb)
    feeds = frozen.random_feeds(batch_size=2)
    check_frozen(pb, feeds, keras_expected(model, frozen, feeds))


def test_names_work_in_plain_tensorflow(tf1_model, keras_model, tmp_path):
    import tensorflow as tf

    model = keras_model("two_in_two_out")
    pb = tmp_path / "m.pb"
    tfreeze.freeze(model, pb)
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(pb.read_bytes())
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name="")
    feeds = tfreeze.Model(pb).random_feeds(batch_size=2)
    with tf.compat.v1.Session(graph=graph) as session:
        zeta = session.run("zeta:0", {f"{name}:0": value for name, value in feeds.items()})
    np.testing.assert_array_equal(zeta, tfreeze.Model(pb).run(feeds)["zeta"])


def test_resigning_prunes_what_the_chosen_outputs_do_not_need(tf1_model, tmp_path):
    import tensorflow as tf

    model = tf1_model("two_in_two_out")
    pb = tmp_path / "m.pb"
    report = tfreeze.freeze(str(model.directory / "frozen.pb"), pb, output_names=["zeta"])
    assert [e.name for e in report.outputs] == ["zeta"]
    graph = tf.compat.v1.GraphDef()
    graph.ParseFromString(pb.read_bytes())
    names = {node.name for node in graph.node}
    assert "alpha" not in names and not any(n.startswith("alpha_head/") for n in names)
    cpp = tfreeze.Model(pb).run(model.feeds)
    np.testing.assert_array_equal(cpp["zeta"], model.expected["zeta"])
