"""Bad input from a careless or hostile caller: each ends in a typed error that
names the problem, never a crash, a raw Python error or a partial file."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import numpy as np
import pytest

import tfreeze


def test_a_device_file_is_refused_not_read_forever():
    with pytest.raises(tfreeze.LoadError, match="not a regular file"):
        tfreeze.Model("/dev/zero")


def test_a_path_with_a_nul_byte_does_not_load_its_prefix(frozen):
    with pytest.raises(ValueError, match="NUL byte"):
        tfreeze.Model(str(frozen("mlp").path) + "\0ignored")


def test_fetches_take_a_name_or_an_empty_list(frozen):
    model = tfreeze.Model(frozen("two_in_two_out").path)
    feeds = model.random_feeds(batch_size=2)
    everything = model.run(feeds)
    assert list(model.run(feeds, []).keys()) == model.output_names
    (name,) = model.run(feeds, model.output_names[1]).keys()  # a str, not its characters
    assert name == model.output_names[1]
    np.testing.assert_array_equal(model.run(feeds, [name])[name], everything[name])


def test_frozen_files_get_the_mode_of_any_new_file(frozen, tmp_path):
    old = os.umask(0o022)
    try:
        tfreeze.freeze(frozen("mlp").model, tmp_path / "m.pb", optimize=False)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "m.pb").stat().st_mode) == 0o644


def test_freezing_to_a_directory_fails_before_any_work(frozen, tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory; give a file name"):
        tfreeze.freeze(frozen("mlp").model, tmp_path)
    assert os.listdir(tmp_path) == []


def test_run_json_prints_string_outputs(tmp_path):
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="words")])
    def shout(words):
        return {"upper": tf.strings.upper(words)}

    path = tmp_path / "shout.pb"
    tfreeze.freeze(shout, str(path))
    np.save(tmp_path / "in.npy", np.array(["the cat", "a mat"]))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tfreeze",
            "run",
            str(path),
            "--input",
            str(tmp_path / "in.npy"),
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert json.loads(result.stdout) == {"upper": ["THE CAT", "A MAT"]}


def test_json_output_writes_binary_strings_as_tf_serving_does(capsys):
    from tfreeze.cli.common import print_json

    print_json({"out": [b"text", b"\xff\xfe"]})
    assert json.loads(capsys.readouterr().out) == {"out": ["text", {"b64": "//4="}]}


@pytest.fixture
def without(monkeypatch):
    """Makes optional packages look uninstalled."""
    import importlib.util

    real = importlib.util.find_spec

    def hide(*modules: str) -> None:
        monkeypatch.setattr(
            importlib.util,
            "find_spec",
            lambda name, *a: None if name in modules else real(name, *a),
        )

    return hide


def test_demo_without_scikit_learn_is_one_line(without, capsys):
    from tfreeze import cli

    without("sklearn")
    assert cli.main(["demo"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("tfreeze demo: error: the demo (its digits data ship in scikit-learn)")
    assert 'pip install ".[test]"' in error


def test_bench_plot_without_matplotlib_fails_before_timing(without, frozen, capsys, monkeypatch):
    from tfreeze import cli
    from tfreeze.measure import bench

    monkeypatch.setattr(bench, "run_bench", lambda *a, **k: pytest.fail("timed before failing"))
    without("matplotlib")
    assert cli.main(["bench", str(frozen("mlp").path), "--plot", "x.png"]) == 2
    assert "--plot needs matplotlib" in capsys.readouterr().err


def test_run_with_a_file_that_is_not_npy_is_one_line(frozen, tmp_path, capsys):
    from tfreeze import cli

    empty = tmp_path / "empty.npy"
    empty.write_bytes(b"")
    assert cli.main(["run", str(frozen("mlp").path), "--input", str(empty)]) == 2
    assert "is not a readable .npy file" in capsys.readouterr().err
