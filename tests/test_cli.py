"""The tfreeze command line, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import models

TFREEZE = [sys.executable, "-m", "tfreeze"]


def tfreeze(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([*TFREEZE, *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"tfreeze {args} exited {result.returncode}:\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def keras_and_pb(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("cli")
    models.two_in_two_out().save(folder / "model.keras")
    tfreeze("freeze", str(folder / "model.keras"), "-o", str(folder / "model.pb"))
    return folder / "model.keras", folder / "model.pb"


def test_console_script_is_installed():
    bin_dir = Path(sys.executable).parent
    result = subprocess.run(
        [str(bin_dir / "tfreeze"), "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("tfreeze ")


def test_freeze_json_report(tmp_path):
    models.mlp().save(tmp_path / "mlp.keras")
    result = tfreeze(
        "freeze",
        str(tmp_path / "mlp.keras"),
        "-o",
        str(tmp_path / "mlp.pb"),
        "--output-names",
        "probabilities",
        "--json",
    )
    report = json.loads(result.stdout)
    assert [o["name"] for o in report["outputs"]] == ["probabilities"]
    assert report["byte_size"] == (tmp_path / "mlp.pb").stat().st_size
    assert report["verification"]["probabilities"][0]["within_tolerance"]


def test_inspect_json(keras_and_pb):
    keras_path, pb = keras_and_pb
    signature = json.loads(tfreeze("inspect", str(pb), "--json").stdout)
    ops = signature.pop("ops")
    assert ops["MatMul"] == 3 and ops["Placeholder"] == 2 and "tfreeze" not in str(ops)
    # Weights only: the concat axis (an int32 Const) and the signature are not
    # parameters; grappler drops the untrained model's all-zero biases.
    import keras

    kernels = [layer.kernel for layer in keras.saving.load_model(keras_path).layers[-3:]]
    assert signature.pop("parameters") == sum(int(np.prod(k.shape)) for k in kernels)
    assert signature.pop("parameter_bytes") == 4 * sum(int(np.prod(k.shape)) for k in kernels)
    assert signature.pop("expanded_constants") == []  # weights stored in full
    assert signature.pop("constant_limit_bytes") == 256 << 20
    assert signature == {
        "inputs": [
            {"name": "tokens", "dtype": "float32", "shape": [None, 6]},
            {"name": "extra", "dtype": "float32", "shape": [None, 4]},
        ],
        "outputs": [
            {"name": "zeta", "dtype": "float32", "shape": [None, 2]},
            {"name": "alpha", "dtype": "float32", "shape": [None, 1]},
        ],
        "unsafe_ops": [],
    }


def test_inspect_table(keras_and_pb):
    out = tfreeze("inspect", str(keras_and_pb[1])).stdout
    assert "tokens" in out and "alpha" in out and "[?, 6]" in out
    assert "MatMul" in out and "104 (416 bytes)" in out  # 10*8 + 8*2 + 8*1 weights


def test_run_npy_to_npz_matches_python_api(keras_and_pb, tmp_path):
    import tfreeze as api

    _, pb = keras_and_pb
    rng = np.random.default_rng(0)
    tokens = rng.standard_normal((3, 6)).astype(np.float32)
    extra = rng.standard_normal((3, 4)).astype(np.float32)
    np.save(tmp_path / "tokens.npy", tokens)
    np.save(tmp_path / "extra.npy", extra)
    tfreeze(
        "run",
        str(pb),
        "--input",
        f"tokens={tmp_path / 'tokens.npy'}",
        "--input",
        f"extra={tmp_path / 'extra.npy'}",
        "-o",
        str(tmp_path / "out.npz"),
    )
    saved = np.load(tmp_path / "out.npz")
    expected = api.Model(pb).run({"tokens": tokens, "extra": extra})
    assert list(saved.keys()) == ["zeta", "alpha"]
    for name in expected:
        np.testing.assert_array_equal(saved[name], expected[name])


def test_parity_passes_with_exit_0(keras_and_pb):
    source, pb = keras_and_pb
    report = json.loads(tfreeze("parity", str(source), str(pb), "--json").stdout)
    assert report["passed"]
    assert [o["name"] for o in report["outputs"]] == ["zeta", "alpha"]
    assert all(o["cpp_vs_python"]["bit_exact"] for o in report["outputs"])


def test_parity_against_another_model_fails_with_exit_1(keras_and_pb, tmp_path):
    import keras

    keras.utils.set_random_seed(99)
    models.two_in_two_out().save(tmp_path / "other.keras")  # same shape, other weights
    result = tfreeze("parity", str(tmp_path / "other.keras"), str(keras_and_pb[1]), check=False)
    assert result.returncode == 1
    assert "FAIL" in result.stdout


def test_bench_json_fields(keras_and_pb):
    stats = json.loads(
        tfreeze(
            "bench", str(keras_and_pb[1]), "--batch", "4", "--iterations", "20", "--json"
        ).stdout
    )
    for key in ("p50_us", "p90_us", "p99_us", "mean_us"):
        assert stats[key] > 0
    assert stats["iterations"] == 20 and stats["batch_size"] == 4


def test_errors_exit_2_with_a_message(tmp_path):
    result = tfreeze("inspect", str(tmp_path / "missing.pb"), check=False)
    assert result.returncode == 2
    assert "missing.pb" in result.stderr and "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_with_unknown_input_name_exits_2(keras_and_pb, tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((1, 6), np.float32))
    result = tfreeze(
        "run", str(keras_and_pb[1]), "--input", f"tok={tmp_path / 'x.npy'}", check=False
    )
    assert result.returncode == 2
    assert 'unknown input "tok"; inputs are: tokens, extra' in result.stderr


def test_bad_argument_is_a_usage_error():
    result = tfreeze("bench", "model.pb", "--batch", "0", check=False)
    assert result.returncode == 2 and "must be a positive integer" in result.stderr


def test_demo_runs_end_to_end(tmp_path):
    env = {**os.environ, "COLUMNS": "120"}
    result = subprocess.run(
        [*TFREEZE, "demo", "--workdir", str(tmp_path), "--epochs", "2"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "parity PASS" in result.stdout
    assert "replayed in C++: PASS" in result.stdout
    assert "tfreeze C++" in result.stdout and "Keras model(x" in result.stdout
    assert (tmp_path / "digits.pb").exists()
    # The batch docs/cpp.md's example classifies: the model's input, float32 [N, 8, 8, 1].
    images = np.load(tmp_path / "images.npy")
    assert images.dtype == np.float32 and images.shape == (8, 8, 8, 1)
    ran = tfreeze("run", str(tmp_path / "digits.pb"), "--input", str(tmp_path / "images.npy"))
    assert "probs" in ran.stdout


def test_freeze_a_tf1_checkpoint_with_no_names_then_parity(tmp_path):
    import tf1_models

    model = tf1_models.build("two_in_two_out", tmp_path / "tf1")
    pb = tmp_path / "model.pb"
    result = tfreeze("freeze", model.meta, "-o", str(pb))
    assert "guessed zeta, alpha" in " ".join(result.stdout.split())
    assert "optimized:" in result.stdout
    report = json.loads(tfreeze("parity", model.meta, str(pb), "--json").stdout)
    assert report["passed"]


def test_freeze_a_saved_model_as_json(tmp_path):
    models.cnn().export(tmp_path / "export", verbose=False)
    pb = tmp_path / "model.pb"
    report = json.loads(tfreeze("freeze", str(tmp_path / "export"), "-o", str(pb), "--json").stdout)
    assert report["source_kind"] == "saved-model"
    assert [e["name"] for e in report["inputs"]] == ["image"]
    assert report["optimization"]["nodes_after"] < report["optimization"]["nodes_before"]
    assert tfreeze("verify", str(pb)).returncode == 0
