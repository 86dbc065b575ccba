"""Bad input to the freezer gets a clear error naming the problem (and the
valid choices), never a traceback or a partial file; plus the fixes a review
of the sources asked for."""

from __future__ import annotations

import os
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
import tf1_models
from sources_fixtures import check_frozen, keras_expected

import models
import tfreeze
from tfreeze import cli
from tfreeze.freezer import optimize
from tfreeze.measure.parity import check_parity


@pytest.fixture(scope="module")
def tf1(tmp_path_factory):
    return tf1_models.build("two_in_two_out", tmp_path_factory.mktemp("tf1"))


def _cli_error(capsys, *argv: str) -> str:
    assert cli.main(["freeze", *argv]) == 2
    return capsys.readouterr().err


def test_bad_sources_are_named(tmp_path, capsys):
    missing = _cli_error(capsys, str(tmp_path / "model.ckpt.meta"), "-o", str(tmp_path / "m.pb"))
    assert "does not exist" in missing
    (tmp_path / "sm").mkdir()
    (tmp_path / "sm" / "saved_model.pb").write_bytes(b"")
    graph_file = _cli_error(capsys, str(tmp_path / "sm" / "saved_model.pb"), "-o", "m.pb")
    assert "pass its directory" in graph_file
    (tmp_path / "empty").mkdir()
    empty = _cli_error(capsys, str(tmp_path / "empty"), "-o", str(tmp_path / "m.pb"))
    assert "no saved_model.pb and no 'checkpoint' file" in empty
    assert not (tmp_path / "m.pb").exists()


def test_tensorflow_failures_become_freeze_errors(tf1, tmp_path, capsys):
    out = str(tmp_path / "m.pb")
    tags = _cli_error(capsys, str(tf1.directory / "saved_model"), "-o", out, "--tags", "gpu")
    assert "could not open saved-model source" in tags and "gpu" in tags
    nope = _cli_error(capsys, tf1.meta, "-o", out, "--initializer-nodes", "nope")
    assert "initializer node 'nope' is not in the graph" in nope
    wrong = _cli_error(capsys, tf1.meta, "-o", out, "--output-names", "softmaxx")
    assert "softmaxx" in wrong
    for shard in tf1.directory.glob("model.ckpt.data-*"):
        shard.rename(str(shard) + ".moved")
    try:
        lost = _cli_error(capsys, tf1.meta, "-o", out)
        assert "could not open checkpoint source" in lost
    finally:
        for shard in tf1.directory.glob("model.ckpt.data-*.moved"):
            shard.rename(str(shard)[: -len(".moved")])
    assert not os.path.exists(out)


def test_renamed_dict_outputs_of_a_function(tmp_path):
    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32, name="x")])
    def stats(x):
        return {"total": tf.reduce_sum(x, 1), "mean": tf.reduce_mean(x, 1)}

    pb = tmp_path / "m.pb"
    report = tfreeze.freeze(stats, pb, output_names=["sum", "avg"])
    assert [e.name for e in report.outputs] == ["sum", "avg"]  # the function's key order
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    check_frozen(pb, {"x": x}, {"sum": x.sum(1), "avg": x.mean(1)})


def test_a_silent_grappler_worker_times_out_and_is_replaced(monkeypatch):
    silent = optimize._Worker()
    silent.command = [sys.executable, "-c", "import time; time.sleep(60)"]
    monkeypatch.setattr(optimize, "_worker", silent)
    graph = tf.compat.v1.GraphDef()
    result = optimize.optimize_graph(graph, [], [], timeout=1.0)
    assert result.error == "grappler did not finish in 1 s" and result.graph_def is graph
    silent.command = optimize._Worker.command
    with tf.Graph().as_default() as g:
        tf.identity(tf.compat.v1.placeholder(tf.float32, (None,), name="x") * 1.0, name="y")
    again = optimize.optimize_graph(g.as_graph_def(), [("x:0", "float32")], ["y:0"])
    assert again.error is None


def test_tables_get_names_of_their_own_and_survive_refreezing(tmp_path):
    keras.utils.set_random_seed(0)
    text = models.text()
    report = tfreeze.freeze(text, tmp_path / "a.pb")
    tfreeze.freeze(text, tmp_path / "a.pbtxt")
    again = tfreeze.freeze(str(tmp_path / "a.pbtxt"), tmp_path / "again.pb")
    assert again.init == report.init
    frozen = tfreeze.Model(tmp_path / "again.pb")
    feeds = frozen.random_feeds(batch_size=3, seed=4)
    check_frozen(tmp_path / "again.pb", feeds, keras_expected(text, frozen, feeds))

    def shared_names(path) -> set[bytes]:
        graph = tf.compat.v1.GraphDef()
        graph.ParseFromString(path.read_bytes())
        return {n.attr["shared_name"].s for n in graph.node if n.op == "HashTableV2"}

    other = models.lookups()
    tfreeze.freeze(other, tmp_path / "b.pb")
    assert shared_names(tmp_path / "a.pb").isdisjoint(shared_names(tmp_path / "b.pb"))


def test_renaming_keeps_colocation_constraints():
    from tfreeze.freezer.graph_edit import claim_node_name

    graph = tf.compat.v1.GraphDef()
    x = graph.node.add(name="x", op="Placeholder")
    y = graph.node.add(name="y", op="Identity", input=["x"])
    y.attr["_class"].list.s.append(b"loc:@x")
    claim_node_name(graph, "x", "image", {"x", "y"})
    assert list(y.input) == ["image"] and list(y.attr["_class"].list.s) == [b"loc:@image"]
    assert x.name == "image"


def test_parity_uses_the_options_the_file_was_frozen_with(tf1, tmp_path):
    pb = tmp_path / "m.pb"
    tfreeze.freeze(tf1.meta, pb, output_names=["alpha", "zeta"])
    report = check_parity(tf1.meta, pb, source_options={"output_names": ["alpha", "zeta"]})
    assert report.passed
    graph_pb = tmp_path / "g.pb"
    tfreeze.freeze(str(tf1.directory / "graph.pbtxt"), graph_pb, checkpoint=tf1.checkpoint)
    assert (
        cli.main(
            [
                "parity",
                str(tf1.directory / "graph.pbtxt"),
                str(graph_pb),
                "--checkpoint",
                tf1.checkpoint,
            ]
        )
        == 0
    )


class _TableInControlFlow(tf.Module):
    """Lookups whose table handle reaches them only through tf.cond / map_fn."""

    def __init__(self):
        self.table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(["a", "b", "c"], [1, 2, 3], tf.string, tf.int64), -1
        )

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="words")])
    def __call__(self, words):
        looked_up = tf.cond(
            tf.size(words) > 0,
            lambda: self.table.lookup(words),
            lambda: tf.zeros_like(words, tf.int64),
        )
        mapped = tf.map_fn(lambda w: self.table.lookup(w) * 10, words, fn_output_signature=tf.int64)
        return {"ids": looked_up, "scaled": mapped}


@pytest.mark.parametrize("keep", [False, True])
def test_tables_used_inside_control_flow_are_frozen(keep, tmp_path):
    pb = tmp_path / "m.pb"
    report = tfreeze.freeze(_TableInControlFlow(), pb, keep_control_flow=keep)
    assert len(report.init) == 1  # one table, captured once, used in both places
    words = np.array(["b", "z", "a", "c"], dtype=object)
    check_frozen(pb, {"words": words}, {"ids": [2, -1, 1, 3], "scaled": [20, -10, 10, 30]})


def test_misspelled_names_list_the_real_ones(tf1, tmp_path):
    with pytest.raises(tfreeze.FreezeError, match="no node 'zetta'.*could be outputs: zeta, alpha"):
        tfreeze.freeze(tf1.meta, tmp_path / "m.pb", output_names=["zetta"])
    with pytest.raises(tfreeze.FreezeError, match="deny list names hiden/bias.*hidden/bias"):
        tfreeze.freeze(tf1.meta, tmp_path / "m.pb", variable_denylist=["hiden/bias"])
    # --checkpoint may name a directory for a .meta source too.
    report = tfreeze.freeze(tf1.meta, tmp_path / "m.pb", checkpoint=str(tf1.directory))
    assert [e.name for e in report.outputs] == ["zeta", "alpha"]


def test_a_kept_variable_that_breaks_verification_names_the_option(tmp_path):
    # A checkpoint whose "scale" was trained away from its initializer: kept as
    # a variable, it restarts from the initializer at load and the answers differ.
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, (None, 2), name="x")
        scale = tf.compat.v1.get_variable("scale", (), initializer=tf.zeros_initializer())
        tf.identity(x * scale, name="y")
        trained = tf.compat.v1.assign(scale, 3.0)
        saver = tf.compat.v1.train.Saver()
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            session.run(trained)
            prefix = saver.save(session, str(tmp_path / "model.ckpt"))
    with pytest.raises(tfreeze.FreezeError, match="--variable-denylist scale kept variables"):
        tfreeze.freeze(prefix + ".meta", tmp_path / "m.pb", variable_denylist=["scale"])
    assert not (tmp_path / "m.pb").exists()
    tfreeze.freeze(prefix + ".meta", tmp_path / "m.pb", variable_denylist=["scale"], verify=False)


def test_inputs_of_unknown_rank_take_a_stated_shape(tmp_path, capsys):
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, name="x")  # no shape: old TF1 code
        tf.identity(x * 3.0 + 1.0, name="y")
    source = tmp_path / "old.pb"
    source.write_bytes(graph.as_graph_def().SerializeToString())
    with pytest.raises(tfreeze.FreezeError, match="'x' has unknown rank.*--input-shape x="):
        tfreeze.freeze(str(source), tmp_path / "m.pb")
    assert (
        cli.main(["freeze", str(source), "-o", str(tmp_path / "m.pb"), "--input-shape", "x=?,4"])
        == 0
    )
    model = tfreeze.Model(tmp_path / "m.pb")
    assert model.inputs[0].shape == (None, 4)
    value = np.arange(8, dtype=np.float32).reshape(2, 4)
    check_frozen(tmp_path / "m.pb", {"x": value}, {"y": value * 3.0 + 1.0})
    with pytest.raises(tfreeze.ShapeError):
        model.run({"x": np.zeros((2, 5), np.float32)})
    with pytest.raises(tfreeze.FreezeError, match="input_shapes names z; the inputs are: x"):
        tfreeze.freeze(str(source), tmp_path / "n.pb", input_shapes={"z": [1]})


def test_a_classic_keep_prob_placeholder_is_stated_a_scalar_from_the_cli(tmp_path):
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 4], name="x")
        keep_prob = tf.compat.v1.placeholder(tf.float32, name="keep_prob")  # no shape, as in TF1
        tf.identity(x * keep_prob, name="y")
    source = tmp_path / "dropout.pb"
    source.write_bytes(graph.as_graph_def().SerializeToString())
    with pytest.raises(tfreeze.FreezeError, match="a scalar such as keep_prob is .*keep_prob=\\)"):
        tfreeze.freeze(str(source), tmp_path / "m.pb", output_names=["y"])
    out = tmp_path / "m.pb"
    command = ["freeze", str(source), "-o", str(out), "--output-names", "y"]
    assert cli.main([*command, "--input-shape", "keep_prob="]) == 0
    model = tfreeze.Model(out)
    assert {s.name: s.shape for s in model.inputs} == {"x": (None, 4), "keep_prob": ()}
    value = np.ones((2, 4), np.float32)
    out_y = model.run({"x": value, "keep_prob": np.float32(0.5)})["y"]
    np.testing.assert_array_equal(out_y, value * 0.5)


def classic_training_graph(path) -> None:
    """TF1 as the old recipes wrote it: keep_prob of unknown rank feeding dropout,
    an is_training flag choosing between two branches with tf.cond (v1)."""
    graph = tf.Graph()
    tf.compat.v1.disable_control_flow_v2()
    try:
        with graph.as_default():
            x = tf.compat.v1.placeholder(tf.float32, [None, 4], name="x")
            keep_prob = tf.compat.v1.placeholder(tf.float32, name="keep_prob")
            training = tf.compat.v1.placeholder(tf.bool, name="is_training")
            w = tf.constant(np.arange(8, dtype=np.float32).reshape(4, 2) / 8, name="w")
            hidden = tf.compat.v1.nn.dropout(tf.matmul(x, w), keep_prob=keep_prob)
            scaled = tf.compat.v1.cond(training, lambda: hidden * 0.5, lambda: hidden + 1.0)
            tf.nn.softmax(scaled, name="prob")
    finally:
        tf.compat.v1.enable_control_flow_v2()
    path.write_bytes(graph.as_graph_def().SerializeToString())


def test_classic_flags_are_fixed_at_freeze_time(tmp_path):
    source = tmp_path / "classic.pb"
    classic_training_graph(source)
    out = tmp_path / "m.pb"
    command = ["freeze", str(source), "-o", str(out), "--output-names", "prob"]
    assert (
        cli.main([*command, "--input-value", "keep_prob=1.0", "--input-value", "is_training=false"])
        == 0
    )
    model = tfreeze.Model(out, executor="auto")
    assert model.input_names == ["x"]
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    logits = x @ (np.arange(8, dtype=np.float32).reshape(4, 2) / 8) + 1.0
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model.run({"x": x})["prob"], expected, rtol=1e-6)
    assert all(model.verify()["passed"] for _ in range(3))  # stored cases replay the same
    # The flag's branch folded away: nothing left that only the default executor runs.
    assert model.executor == "single_threaded"
    with pytest.raises(
        tfreeze.FreezeError, match="input 'is_training' is bool; give true or false"
    ):
        tfreeze.freeze(
            str(source),
            tmp_path / "n.pb",
            output_names=["prob"],
            input_values={"keep_prob": 1.0, "is_training": "maybe"},
        )
    with pytest.raises(tfreeze.FreezeError, match="input_values names drop; the inputs are: x, "):
        tfreeze.freeze(
            str(source), tmp_path / "n.pb", output_names=["prob"], input_values={"drop": 1.0}
        )


def test_tensorflow_failing_in_a_stage_is_one_freeze_error_naming_it(tmp_path):
    """Asking for a loss as an output makes the labels an input; random labels
    are out of range, so TensorFlow fails while verifying."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 4], name="x")
        labels = tf.compat.v1.placeholder(tf.int64, [None], name="labels")
        logits = tf.matmul(x, tf.ones([4, 3]), name="logits")
        tf.nn.softmax(logits, name="softmax")
        tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits),
            name="loss",
        )
    source = tmp_path / "train.pb"
    source.write_bytes(graph.as_graph_def().SerializeToString())
    out = tmp_path / "m.pb"
    with pytest.raises(
        tfreeze.FreezeError,
        match="the verify stage failed: InvalidArgumentError: Received a label value of",
    ):
        tfreeze.freeze(str(source), out, output_names=["softmax", "loss"], optimize=False)
    assert not out.exists()
