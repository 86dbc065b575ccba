"""tfreeze export: a frozen .pb as a SavedModel that TensorFlow (and so TF
Serving) loads and serves with the same outputs as the .pb."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

import tfreeze
from tfreeze.export import export_saved_model

# Real words and codes, so the lookup tables' contents decide the outputs.
FEEDS = {
    "mlp": None,
    "two_in_two_out": None,
    "lookups": {
        "words": np.array([["the", "cat", "zebra"], ["mat", "sat", "the"]], dtype=object),
        "codes": np.array([[3, 9], [7, 5]], dtype=np.int64),
    },
    "text": {"text": np.array([["the cat sat"], ["a dog on the mat"]], dtype=object)},
}


@pytest.mark.parametrize("kind", list(FEEDS))
def test_served_outputs_equal_the_frozen_file(frozen, tmp_path, kind):
    pb = frozen(kind).path
    version = export_saved_model(pb, tmp_path / kind)
    assert version == tmp_path / kind / "1"
    model = tfreeze.Model(pb)
    feeds = FEEDS[kind] or model.random_feeds(batch_size=3, seed=1)
    expected = model.run(feeds)
    serving = tf.saved_model.load(str(version)).signatures["serving_default"]
    served = serving(**{name: tf.constant(value) for name, value in feeds.items()})
    assert sorted(served) == sorted(expected)
    for name, value in expected.items():
        np.testing.assert_array_equal(served[name].numpy(), value)


def test_saved_model_cli_shows_the_signature(frozen, tmp_path):
    version = export_saved_model(frozen("two_in_two_out").path, tmp_path / "m", version=3)
    cli = Path(sys.executable).with_name("saved_model_cli")
    if not cli.exists():  # the worktree venv sees TensorFlow's scripts through the main venv
        cli = Path(tf.__file__).parents[4] / "bin" / "saved_model_cli"
    shown = subprocess.run(
        [str(cli), "show", "--all", "--dir", str(version)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "signature_def['serving_default']" in shown
    for name in ("tokens", "extra", "zeta", "alpha"):
        assert f"['{name}'] tensor_info:" in shown
    assert "shape: (-1, 6)" in shown and "dtype: DT_FLOAT" in shown


def _export(capsys, *args: str) -> tuple[int, str]:
    from tfreeze import cli

    code = cli.main(["export", *args])
    return code, capsys.readouterr().err


def test_existing_version_is_refused_then_replaced_with_force(frozen, tmp_path, capsys):
    pb = str(frozen("mlp").path)
    assert _export(capsys, pb, "--saved-model", str(tmp_path))[0] == 0
    stamp = (tmp_path / "1" / "saved_model.pb").stat().st_mtime_ns
    code, error = _export(capsys, pb, "--saved-model", str(tmp_path))
    assert code == 2 and error.count("\n") == 1 and "--force" in error
    assert (tmp_path / "1" / "saved_model.pb").stat().st_mtime_ns == stamp
    assert _export(capsys, pb, "--saved-model", str(tmp_path), "--force")[0] == 0
    assert (tmp_path / "1" / "saved_model.pb").stat().st_mtime_ns != stamp
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1"]  # no staging left behind


@pytest.mark.parametrize("case", ["not_pb", "unwritable"])
def test_bad_input_is_one_line_and_leaves_nothing(frozen, tmp_path, capsys, case):
    pb, target = str(frozen("mlp").path), tmp_path / "out"
    if case == "not_pb":
        pb = str(tmp_path / "notes.pb")
        Path(pb).write_text("not a graph")
    else:  # a path under a regular file can never be created, even as root
        (tmp_path / "file").write_text("")
        target = tmp_path / "file" / "out"
    code, error = _export(capsys, pb, "--saved-model", str(target))
    assert code == 2
    assert error.startswith("tfreeze export: error:") and error.count("\n") == 1, error
    assert not target.exists()
