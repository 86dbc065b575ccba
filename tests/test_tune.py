"""`tfreeze tune` and the config files it writes."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

import tfreeze
from tfreeze.measure.tune import tune


@pytest.fixture(scope="module")
def tuned(frozen, tmp_path_factory):
    path = tmp_path_factory.mktemp("tune") / "tuned.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tfreeze",
            "tune",
            str(frozen("cnn").path),
            "--iterations",
            "50",
            "-o",
            str(path),
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return path, json.loads(result.stdout)


def test_tune_tries_every_knob_and_keeps_the_fastest(tuned):
    path, document = tuned
    assert json.loads(path.read_text()) == document
    assert document["format"] == "tfreeze.config"
    trials = document["trials"]
    # defaults, thread grid, then executor, oneDNN, XLA, Grappler, caller thread
    assert len(trials) == 1 + 4 + 5
    assert {"TF_ENABLE_ONEDNN_OPTS": "0"} in [t["environment"] for t in trials]
    # The default "auto" runs this small CNN single-threaded: the other is tried.
    assert any(t["options"].get("executor") == "default" for t in trials)
    caller = [t for t in trials if t["options"].get("caller_thread")]
    assert caller and "inter_op_threads" not in caller[0]["options"] and not caller[0]["error"]
    # XLA goes with "auto", which keeps TensorFlow's executor that XLA's clusters need.
    xla = [t for t in trials if t["options"].get("xla")]
    assert xla and xla[0]["options"]["executor"] == "auto" and not xla[0]["error"]
    assert any(t["options"].get("graph_optimizations") is False for t in trials)
    measured = [t["p50_us"] for t in trials if t["p50_us"] is not None]
    assert document["tuned_for"]["p50_us"] == min(measured)
    assert document["tuned_for"]["speedup"] >= 1.0


def test_a_tuned_config_loads_and_gives_the_same_outputs(tuned, frozen):
    path, document = tuned
    feeds = tfreeze.Model(frozen("cnn").path).random_feeds(batch_size=2)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        tuned_model = tfreeze.Model(frozen("cnn").path, config=path)
    np.testing.assert_allclose(
        tuned_model.run(feeds)["logits"],
        tfreeze.Model(frozen("cnn").path).run(feeds)["logits"],
        rtol=1e-4,
        atol=1e-5,
    )


def test_an_environment_setting_not_in_force_is_a_warning(frozen, tmp_path, monkeypatch):
    config = tmp_path / "c.json"
    config.write_text(
        json.dumps(
            {
                "format": "tfreeze.config",
                "options": {"intra_op_threads": 1},
                "environment": {"TF_ENABLE_ONEDNN_OPTS": "0"},
            }
        )
    )
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    with pytest.warns(UserWarning, match="TF_ENABLE_ONEDNN_OPTS=0"):
        tfreeze.Model(frozen("mlp").path, config=config)


def test_a_broken_config_names_the_problem(frozen, tmp_path):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"format": "tfreeze.config", "options": {"threads": 3}}))
    with pytest.raises(tfreeze.Error, match='unknown option "threads"'):
        tfreeze.Model(frozen("mlp").path, config=config)


def test_a_failing_trial_is_recorded_not_fatal(frozen, monkeypatch):
    """A knob this TensorFlow cannot take must not stop the search."""
    import tfreeze.measure.tune as tune_module

    real = tune_module._run_trial

    def flaky(path, trial, batch, iterations):
        if trial.options.get("xla"):
            trial.error = "XLA unavailable"
            return trial
        return real(path, trial, batch, iterations)

    monkeypatch.setattr(tune_module, "_run_trial", flaky)
    result = tune(frozen("mlp").path, iterations=20)
    assert any(t.error == "XLA unavailable" for t in result.trials)
    assert result.best.error is None
