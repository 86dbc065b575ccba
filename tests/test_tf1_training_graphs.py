"""Freezing TF1 graphs saved mid-training with no output names: the guess
must find the predictions, leave the loss, labels and optimizer out, and the
C++ run must match the TF1 session's prediction."""

from __future__ import annotations

import pytest
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
