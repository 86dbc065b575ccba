"""Freezing TF1 graphs saved mid-training with no output names: the guess
must find the predictions, leave the loss, labels and optimizer out, and the
C++ run must match the TF1 session's prediction."""

from __future__ import annotations

import pytest
import tensorflow as tf
import tf1_training_models
from sources_fixtures import check_frozen, freeze_by

import tfreeze


@pytest.fixture(scope="module")
def training_graph(tmp_path_factory):
    cache = {}

    def get(kind: str) -> tf1_training_models.TrainingGraph:
        if kind not in cache:
            folder = tmp_path_factory.mktemp(kind)
            cache[kind] = tf1_training_models.build(kind, folder)
        return cache[kind]

    return get


@pytest.mark.parametrize("source", ["meta", "pbtxt+checkpoint"])
@pytest.mark.parametrize("kind", list(tf1_training_models.BUILDERS))
def test_guess_finds_the_predictions_not_the_training_machinery(
    kind, source, training_graph, tmp_path, capsys
):
    model = training_graph(kind)
    path, options = {
        "meta": (model.meta, {}),
        "pbtxt+checkpoint": (
            str(model.directory / "graph.pbtxt"),
            {"checkpoint": model.checkpoint},
        ),
    }[source]
    pb = tmp_path / "m.pb"
    freeze_by("cli", path, pb, **options)
    frozen = check_frozen(pb, model.feeds, model.expected)
    assert [e.name for e in frozen.outputs] == model.outputs
    assert sorted(e.name for e in frozen.inputs if not e.optional) == sorted(model.inputs)
    out = " ".join(capsys.readouterr().out.split())  # the table wraps lines
    assert f"guessed {', '.join(model.outputs)}" in out and "passed over" in out


def test_label_placeholders_are_said_not_to_be_inputs(training_graph, tmp_path):
    report = tfreeze.freeze(training_graph("batchnorm_cond_table").meta, tmp_path / "m.pb")
    note = next(n for n in report.notes if "guessed" in n)
    assert "only the loss reads them): labels" in note
    assert "bn1/AssignMovingAvg" in note  # moving-average updates passed over, by name


def test_a_scalar_loss_of_the_prediction_is_passed_over_for_it(training_graph, tmp_path):
    report = tfreeze.freeze(training_graph("sum_loss").meta, tmp_path / "m.pb")
    assert [e.name for e in report.outputs] == ["y"]
    assert "Sum (" in next(n for n in report.notes if "guessed" in n)


def test_flags_of_unknown_rank_take_their_inference_value(training_graph, tmp_path):
    model = training_graph("dropout_flags")
    pb = tmp_path / "m.pb"
    report = tfreeze.freeze(model.meta, pb)
    assert [e.name for e in report.inputs] == ["x"]
    notes = " ".join(report.notes)
    assert (
        "'keep_prob' is only a dropout's keep probability: fixed to its inference value 1.0"
        in notes
    )
    assert "'is_training' is only a tf.cond predicate: fixed to its inference value false" in notes
    assert "--input-shape keep_prob=" in notes
    frozen = check_frozen(pb, model.feeds, model.expected)
    assert frozen.verify()["passed"] and frozen.verify()["passed"]


def test_flags_kept_as_inputs_replay_deterministically(training_graph, tmp_path):
    model = training_graph("dropout_flags")
    pb = tmp_path / "m.pb"
    freeze_by("cli", model.meta, pb, input_shape="keep_prob=")
    frozen = tfreeze.Model(pb)
    assert [(e.name, e.shape) for e in frozen.inputs] == [("x", (None, 5)), ("keep_prob", ())]
    # Stored cases fed keep_prob its inference value: every replay passes.
    assert all(frozen.verify()["passed"] for _ in range(3))
    out = frozen.run({**model.feeds, "keep_prob": 1.0})
    assert abs(out["y"] - model.expected["y"]).max() < 1e-5


def test_a_random_graph_is_refused_naming_the_random_op(training_graph, tmp_path):
    model = training_graph("dropout_flags")
    with pytest.raises(tfreeze.FreezeError, match="RandomUniform.*--input-value"):
        tfreeze.freeze(model.meta, tmp_path / "m.pb", input_values={"keep_prob": 0.5})
    assert not (tmp_path / "m.pb").exists()


def test_an_input_fed_by_a_tf_data_pipeline_is_cut_there(tmp_path, capsys):
    source, images, expected = tf1_training_models.dataset_fed_graph(tmp_path / "src")
    pb = tmp_path / "m.pb"
    freeze_by("cli", str(source), pb, output_names=["prob"])
    frozen = check_frozen(pb, {"image": images}, {"prob": expected})
    assert [(e.name, e.optional) for e in frozen.inputs] == [("image", False), ("training", True)]
    # The optional flag was left on its default when checked: stored and replayed unfed.
    report = frozen.verify()
    assert report["passed"] and report["cases"] > 0
    assert "tf.data iterator" in " ".join(capsys.readouterr().out.split())
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(pb.read_bytes())
    ops = {node.op for node in graph_def.node}
    assert not {op for op in ops if "Iterator" in op or "Dataset" in op}, ops


def test_inputs_choose_where_the_graph_is_cut(tmp_path):
    source, images, _ = tf1_training_models.dataset_fed_graph(tmp_path / "src")
    pb = tmp_path / "m.pb"
    freeze_by("cli", str(source), pb, output_names=["prob"], inputs=["features"])
    frozen = tfreeze.Model(pb)
    # Cut after the image: it and the pipeline are gone; the flag read later stays.
    assert [(e.name, e.shape) for e in frozen.inputs] == [
        ("features", (None, 6)),
        ("training", ()),
    ]
    with pytest.raises(tfreeze.FreezeError, match="'nope', not a tensor of the graph"):
        tfreeze.freeze(str(source), tmp_path / "n.pb", output_names=["prob"], inputs=["nope"])


def test_a_scalar_output_with_nothing_else_is_still_guessed(tmp_path):
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 3], name="x")
        tf.reduce_mean(x * 2.0)
    source = tmp_path / "scalar.pb"
    source.write_bytes(graph.as_graph_def().SerializeToString())
    report = tfreeze.freeze(str(source), tmp_path / "m.pb")
    assert [e.name for e in report.outputs] == ["Mean"]
