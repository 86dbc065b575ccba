"""What every freeze guarantees, whatever the source: determinism, atomic
writes, the 2 GB limit, grappler isolation and its fallback, control flow
in both forms, progress stages."""

from __future__ import annotations

import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
import tf1_models
from sources_fixtures import check_frozen, keras_expected

import models
import tfreeze
from tfreeze.freezer import optimize


@pytest.fixture(scope="module")
def cnn():
    keras.utils.set_random_seed(0)
    return models.cnn()


def test_freezing_twice_gives_identical_bytes(cnn, tmp_path_factory):
    folder = tmp_path_factory.mktemp("twice")
    tf1 = tf1_models.build("text", folder / "tf1")
    for source, name in ((cnn, "cnn"), (tf1.meta, "tf1")):
        tfreeze.freeze(source, folder / f"{name}_1.pb")
        tfreeze.freeze(source, folder / f"{name}_2.pb")
        assert (folder / f"{name}_1.pb").read_bytes() == (folder / f"{name}_2.pb").read_bytes()


def test_a_failed_freeze_leaves_the_old_file_and_no_debris(cnn, tmp_path, monkeypatch):
    from tfreeze.freezer.sources import keras_source

    out = tmp_path / "model.pb"
    out.write_bytes(b"the previous model")
    with pytest.raises(tfreeze.FreezeError, match="2 output names given for 1 output"):
        tfreeze.freeze(cnn, out, output_names=["a", "b"])
    # A traced graph that silently differs from the model: the model's own
    # answers are shifted after tracing, and verification must catch it.
    monkeypatch.setattr(keras_source, "numpy_inputs", lambda values: [v + 1e-3 for v in values])
    with pytest.raises(tfreeze.FreezeError, match="differs from the source on output 'logits'"):
        tfreeze.freeze(cnn, out)
    assert out.read_bytes() == b"the previous model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pb"]


def test_over_2_gib_is_refused_before_any_constant_is_made(tmp_path):
    class Huge(tf.Module):
        def __init__(self):
            # 2.25 GiB of zeros: cheap to make, too big for one GraphDef.
            self.table = tf.Variable(tf.zeros((9 * 2**26,)), name="huge_table")

        @tf.function(input_signature=[tf.TensorSpec((None,), tf.int32, name="ids")])
        def __call__(self, ids):
            return tf.gather(self.table, ids)

    huge = Huge()
    with pytest.raises(tfreeze.FreezeError) as error:
        tfreeze.freeze(huge, tmp_path / "huge.pb")
    message = str(error.value)
    assert "2.25 GiB" in message and "huge_table" in message and "SavedModel" in message
    assert not list(tmp_path.iterdir())


def test_a_tf1_graph_over_2_gib_is_refused_before_restoring(tmp_path):
    graph = tf.Graph()
    with graph.as_default():
        ids = tf.compat.v1.placeholder(tf.int32, (None,), name="ids")
        # Declared, never allocated: the graph file is a few hundred bytes.
        table = tf.compat.v1.Variable(
            tf.compat.v1.zeros_initializer()((600_000_000,)), name="embeddings"
        )
        tf.gather(table, ids, name="vectors")
    (tmp_path / "graph.pbtxt").write_text(str(graph.as_graph_def()))
    with pytest.raises(tfreeze.FreezeError, match="2.24 GiB.*embeddings"):
        tfreeze.freeze(
            str(tmp_path / "graph.pbtxt"), tmp_path / "m.pb", checkpoint=str(tmp_path / "none")
        )
    assert not (tmp_path / "m.pb").exists()


def test_grappler_folds_batchnorm_and_reports_sizes(cnn, tmp_path):
    report = tfreeze.freeze(cnn, tmp_path / "m.pb")
    unoptimized = tfreeze.freeze(cnn, tmp_path / "raw.pb", optimize=False)
    assert report.optimization["nodes_after"] < report.optimization["nodes_before"]
    assert report.optimization["nodes_before"] == unoptimized.node_count - _extra_nodes(unoptimized)
    assert unoptimized.optimization is None
    graph = tf.compat.v1.GraphDef()
    graph.ParseFromString((tmp_path / "m.pb").read_bytes())
    assert not any(node.op == "Rsqrt" for node in graph.node)  # BatchNorm folded away
    frozen = tfreeze.Model(tmp_path / "m.pb")
    feeds = frozen.random_feeds(batch_size=2)
    check_frozen(tmp_path / "m.pb", feeds, keras_expected(cnn, frozen, feeds))


def _extra_nodes(report) -> int:
    """The signature node and the stored test vectors."""
    cases = 2
    return 1 + cases * (len(report.inputs) + len(report.outputs))


def test_a_grappler_crash_is_a_warning_not_a_dead_process(cnn, tmp_path, monkeypatch):
    crashing = optimize._Worker()
    crashing.command = [sys.executable, "-c", "import os, sys; sys.stdin.readline(); os.abort()"]
    monkeypatch.setattr(optimize, "_worker", crashing)
    report = tfreeze.freeze(cnn, tmp_path / "m.pb")
    assert report.optimization is None
    assert report.warnings == [report.warnings[0]]
    assert "not optimized: grappler crashed (signal 6)" in report.warnings[0]
    assert tfreeze.Model(tmp_path / "m.pb").verify()["passed"]


def test_an_optimized_graph_that_fails_verification_is_not_kept(cnn, tmp_path, monkeypatch):
    real = optimize.optimize_graph

    def corrupting(graph_def, feeds, fetches, timeout=600.0):
        result = real(graph_def, feeds, fetches, timeout)
        for node in result.graph_def.node:
            if node.op == "Const" and node.attr["dtype"].type == tf.float32.as_datatype_enum:
                value = tf.make_ndarray(node.attr["value"].tensor) + 1.0
                node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(value))
        return result

    monkeypatch.setattr(optimize, "optimize_graph", corrupting)
    report = tfreeze.freeze(cnn, tmp_path / "m.pb")
    assert report.optimization is None
    assert "optimized graph failed verification, kept the unoptimized one" in report.warnings[0]
    assert report.max_abs_diff < 1e-5
    assert tfreeze.Model(tmp_path / "m.pb").verify()["passed"]


@pytest.mark.parametrize("kind", ["lstm", "gru_cond_loop"])
def test_control_flow_lowered_or_kept(kind, tmp_path):
    keras.utils.set_random_seed(0)
    model = models.lstm() if kind == "lstm" else _gru_cond_loop()
    for keep in (False, True):
        pb = tmp_path / f"{keep}.pb"
        tfreeze.freeze(model, pb, keep_control_flow=keep)
        graph = tf.compat.v1.GraphDef()
        graph.ParseFromString(pb.read_bytes())
        ops = {node.op for node in graph.node}
        functional = bool(ops & {"While", "StatelessWhile", "If", "StatelessIf"})
        assert functional == keep, sorted(ops)
        frozen = tfreeze.Model(pb)
        feeds = frozen.random_feeds(batch_size=3, seed=2)
        check_frozen(pb, feeds, keras_expected(model, frozen, feeds))


class _CondLoop(keras.layers.Layer):
    """keras.ops.cond and fori_loop: an If and a While in the traced graph."""

    def call(self, x):
        x = keras.ops.cond(keras.ops.sum(x) > 0, lambda: x * 2.0, lambda: x - 1.0)
        return keras.ops.fori_loop(0, 3, lambda i, v: v * 0.5 + 1.0, x)


def _gru_cond_loop() -> keras.Model:
    inputs = keras.Input((6, 3), name="sequence")
    x = keras.layers.Bidirectional(keras.layers.GRU(4))(inputs)
    x = _CondLoop()(x)
    return keras.Model(inputs, keras.layers.Dense(2, name="out")(x), name="gru_cond_loop")


def test_progress_names_every_stage_in_order(cnn, tmp_path):
    seen = []
    report = tfreeze.freeze(cnn, tmp_path / "m.pb", progress=seen.append)
    assert seen == ["trace", "convert", "sign", "optimize", "verify", "write"]
    assert list(report.stages) == seen
    h5 = tmp_path / "cnn.h5"
    cnn.save(h5)
    seen.clear()
    tfreeze.freeze(str(h5), tmp_path / "h5.pb", progress=seen.append)
    assert seen[0] == "load"


def test_unknown_sources_and_options_are_named(tmp_path):
    with pytest.raises(tfreeze.FreezeError, match="tfreeze takes: .*SavedModel"):
        tfreeze.freeze(np.zeros(3), tmp_path / "m.pb")
    with pytest.raises(TypeError, match="freeze\\(\\) options are: .*signature_name"):
        tfreeze.freeze("x.keras", tmp_path / "m.pb", signature="serving_default")
    with pytest.raises(tfreeze.FreezeError, match="choose one of auto, tf2, tf1"):
        (tmp_path / "sm").mkdir()
        (tmp_path / "sm" / "saved_model.pb").write_bytes(b"")
        tfreeze.freeze(str(tmp_path / "sm"), tmp_path / "m.pb", saved_model_loader="tf3")


def test_report_to_json_is_a_string_and_to_dict_its_document(frozen):
    import json

    report = frozen("mlp").report
    text = report.to_json(indent=2)
    assert isinstance(text, str) and isinstance(report.to_dict(), dict)
    assert json.loads(text) == json.loads(json.dumps(report.to_dict()))  # tuples become lists
    assert report.to_dict()["outputs"][0]["name"] == report.outputs[0].name
    # Both what to_json writes now and the dict it returned before read back.
    for document in (text, report.to_dict()):
        assert tfreeze.FreezeReport.from_json(document).to_json() == report.to_json()
