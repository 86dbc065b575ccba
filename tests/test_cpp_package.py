"""The C++ embedding story, end to end: `cmake --install`, then a downstream
project and the example find tfreeze with find_package alone, and the
installed C++ tools run models."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tfreeze
from tfreeze.examples.digits import build_digits_cnn

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CMAKE = str(BIN / "cmake") if (BIN / "cmake").exists() else "cmake"
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}


def run(*command: str | Path, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(c) for c in command], capture_output=True, text=True, cwd=cwd, env=ENV
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def configure_and_build(source: Path, build: Path, *defines: str) -> None:
    run(CMAKE, "-S", source, "-B", build, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release", *defines)
    run(CMAKE, "--build", build)


@pytest.fixture(scope="module")
def prefix(cpp_prefix) -> Path:
    """tfreeze's library, headers, CMake package and tools, installed (tests/conftest.py)."""
    return cpp_prefix


@pytest.mark.slow
def test_install_layout(prefix):
    assert (prefix / "include" / "tfreeze" / "tfreeze.h").exists()
    assert (prefix / "include" / "tfreeze" / "version.h").exists()
    package = prefix / "lib" / "cmake" / "tfreeze"
    for name in (
        "tfreezeConfig.cmake",
        "tfreezeConfigVersion.cmake",
        "tfreezeTargets.cmake",
        "FindTensorFlowC.cmake",
    ):
        assert (package / name).exists(), name
    assert (prefix / "bin" / "tfreeze-run").exists() and (prefix / "bin" / "tfreeze-bench").exists()
    assert os.access(prefix / "libexec" / "tfreeze-worker", os.X_OK)


@pytest.mark.slow
def test_the_installed_worker_runs_isolated_models(prefix, frozen, monkeypatch):
    monkeypatch.setenv("TFREEZE_WORKER", str(prefix / "libexec" / "tfreeze-worker"))
    model = tfreeze.Model(frozen("mlp").path, isolated=True)
    feeds = model.random_feeds()
    expected = tfreeze.Model(frozen("mlp").path).run(feeds)
    np.testing.assert_array_equal(model.run(feeds)["scores"], expected["scores"])


@pytest.mark.slow
def test_downstream_project_builds_with_find_package_and_runs(prefix, frozen, tmp_path):
    configure_and_build(
        ROOT / "tests" / "package", tmp_path / "build", f"-DCMAKE_PREFIX_PATH={prefix}"
    )
    out = run(tmp_path / "build" / "consumer", frozen("two_in_two_out").path).splitlines()
    assert out[0] == f"tfreeze {tfreeze.__version__} on TensorFlow 2.21.0"
    assert out[1:] == ["zeta [2,2]", "alpha [2,1]"]


@pytest.mark.slow
def test_example_classifies_like_the_python_api(prefix, tmp_path):
    tfreeze.freeze(build_digits_cnn(), tmp_path / "digits.pb")  # untrained is enough
    images = np.random.default_rng(0).random((5, 8, 8, 1), dtype=np.float32)
    np.save(tmp_path / "images.npy", images)
    configure_and_build(
        ROOT / "examples" / "classify_digits", tmp_path / "build", f"-DCMAKE_PREFIX_PATH={prefix}"
    )
    labels = run(
        tmp_path / "build" / "classify_digits", tmp_path / "digits.pb", tmp_path / "images.npy"
    ).split()
    expected = tfreeze.Model(tmp_path / "digits.pb").run(images)["probs"].argmax(axis=1)
    assert [int(label) for label in labels] == expected.tolist()


@pytest.mark.slow
def test_installed_tfreeze_run_writes_npy_matching_python(prefix, frozen, tmp_path):
    model = tfreeze.Model(frozen("two_in_two_out").path)
    feeds = model.random_feeds(batch_size=3, seed=1)
    for name, value in feeds.items():
        np.save(tmp_path / f"{name}.npy", value)
    summary = json.loads(
        run(
            prefix / "bin" / "tfreeze-run",
            frozen("two_in_two_out").path,
            "--input",
            f"tokens={tmp_path / 'tokens.npy'}",
            "--input",
            f"extra={tmp_path / 'extra.npy'}",
            "--output-dir",
            tmp_path / "out",
            "--json",
        )
    )
    assert [o["name"] for o in summary["outputs"]] == ["zeta", "alpha"]
    expected = model.run(feeds)
    for name in ("zeta", "alpha"):
        np.testing.assert_array_equal(np.load(tmp_path / "out" / f"{name}.npy"), expected[name])


@pytest.mark.slow
def test_installed_tfreeze_run_verify(prefix, frozen):
    report = json.loads(
        run(prefix / "bin" / "tfreeze-run", frozen("cnn").path, "--verify", "--json")
    )
    assert report["passed"] and report["cases"] == 2
    assert [c["name"] for c in report["checks"]] == ["logits", "logits"]


@pytest.mark.slow
def test_installed_tfreeze_run_reads_string_npy(prefix, tmp_path):
    import keras

    text = keras.Input((), dtype="string", name="text")
    model = keras.Model(text, keras.layers.Identity(name="echo")(text))
    tfreeze.freeze(model, tmp_path / "echo.pb")
    np.save(tmp_path / "text.npy", np.array(["héllo", "wörld", ""]))
    run(
        prefix / "bin" / "tfreeze-run",
        tmp_path / "echo.pb",
        "--input",
        tmp_path / "text.npy",
        "--output-dir",
        tmp_path,
    )
    echoed = np.load(tmp_path / "echo.npy")
    assert [s.decode() for s in echoed] == ["héllo", "wörld", ""]


@pytest.mark.slow
def test_installed_tfreeze_bench_json(prefix, frozen):
    report = json.loads(
        run(
            prefix / "bin" / "tfreeze-bench",
            frozen("cnn").path,
            "--batch",
            "2",
            "--num_threads",
            "1",
            "--max_runs",
            "30",
            "--json",
        )
    )
    for key in (
        "p50_us",
        "p90_us",
        "p99_us",
        "mean_us",
        "min_us",
        "max_us",
        "init_ms",
        "first_run_ms",
    ):
        assert report[key] > 0, key
    assert report["iterations"] == 30 and report["batch"] == 2


@pytest.mark.slow
def test_installed_tfreeze_bench_runs_a_saved_model(prefix, tmp_path):
    import keras

    from models import mlp

    keras.utils.set_random_seed(0)
    mlp().export(str(tmp_path / "saved"), verbose=False)
    report = json.loads(
        run(
            prefix / "bin" / "tfreeze-bench",
            tmp_path / "saved",
            "--batch",
            "3",
            "--max_runs",
            "20",
            "--json",
        )
    )
    assert report["iterations"] == 20 and report["p50_us"] > 0


@pytest.mark.slow
def test_installed_tfreeze_bench_takes_a_tuned_config(prefix, frozen, tmp_path):
    config = tmp_path / "tuned.json"
    config.write_text(
        json.dumps(
            {
                "format": "tfreeze.config",
                "version": 1,
                "options": {
                    "intra_op_threads": 1,
                    "graph_optimizations": False,
                    "executor": "single_threaded",
                    "caller_thread": True,
                },
                "environment": {"TFREEZE_TEST_TUNED": "1"},
            }
        )
    )
    bench = [prefix / "bin" / "tfreeze-bench", frozen("mlp").path, "--config", config]
    result = subprocess.run(
        [str(part) for part in bench + ["--max_runs", "10", "--json"]],
        capture_output=True,
        text=True,
        env={k: v for k, v in ENV.items() if k != "TFREEZE_TEST_TUNED"},
    )
    assert result.returncode == 0, result.stderr
    # The environment TensorFlow reads at start-up: the tool starts itself again with it.
    assert "tfreeze-bench: starting again with TFREEZE_TEST_TUNED=1" in result.stderr
    report = json.loads(result.stdout)
    assert report["iterations"] == 10 and report["executor"] == "single_threaded"
    config.write_text(json.dumps({"format": "tfreeze.config", "options": {"cores": 1}}))
    result = subprocess.run(
        [str(prefix / "bin" / "tfreeze-bench"), str(frozen("mlp").path), "--config", str(config)],
        capture_output=True,
        text=True,
        env=ENV,
    )
    assert result.returncode == 2 and 'unknown option "cores"' in result.stderr


@pytest.mark.slow
def test_installed_tools_report_a_missing_gpu(prefix, frozen):
    result = subprocess.run(
        [str(prefix / "bin" / "tfreeze-bench"), str(frozen("mlp").path), "--device", "gpu:0"],
        capture_output=True,
        text=True,
        env=ENV,
    )
    assert result.returncode == 2
    assert '"gpu:0" is not available; this TensorFlow has: cpu:0' in result.stderr


@pytest.mark.slow
def test_tfreeze_bench_names_open_dims_it_cannot_fill(prefix, frozen):
    result = subprocess.run(
        [
            str(prefix / "bin" / "tfreeze-bench"),
            str(frozen("mlp").path),
            "--input_layer_shape",
            "features=2",
        ],
        capture_output=True,
        text=True,
        env=ENV,
    )
    assert result.returncode == 2
    assert 'input "features": expected float32 [?,12], got float32 [2]' in result.stderr


@pytest.mark.slow
def test_tfreeze_run_errors_exit_2_with_the_reason(prefix, frozen, tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((1, 6), np.float32))
    result = subprocess.run(
        [
            str(prefix / "bin" / "tfreeze-run"),
            str(frozen("two_in_two_out").path),
            "--input",
            f"tok={tmp_path / 'x.npy'}",
        ],
        capture_output=True,
        text=True,
        env=ENV,
    )
    assert result.returncode == 2
    assert 'unknown input "tok"; inputs are: tokens, extra' in result.stderr


def _tool(prefix: Path, name: str, *args: str | Path, **environment: str):
    return subprocess.run(
        [str(prefix / "bin" / name), *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **environment},
    )


@pytest.mark.slow
def test_installed_tools_hide_tensorflow_logs_unless_verbose(prefix, frozen):
    chatter = re.compile(r"InitializeLog|oneDNN|cpu_feature_guard|^[IW]\d{4} ", re.M)
    pb = frozen("cnn").path
    environment = {"TF_CPP_MIN_LOG_LEVEL": "0"}  # even so: quiet unless asked
    for args in (("--help",), (pb, "--verify")):
        result = _tool(prefix, "tfreeze-run", *args, **environment)
        assert result.returncode == 0 and not chatter.search(result.stderr), result.stderr
    bench = _tool(prefix, "tfreeze-bench", pb, "--max_runs", "3", **environment)
    assert bench.returncode == 0 and not chatter.search(bench.stderr), bench.stderr
    verbose = _tool(prefix, "tfreeze-run", pb, "--verify", "-v", TF_CPP_MIN_LOG_LEVEL="2")
    assert verbose.returncode == 0 and "InitializeLog" in verbose.stderr
    # Real errors still come through, one line, exit 2.
    missing = _tool(prefix, "tfreeze-run", "missing.pb", "--verify")
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        'tfreeze-run: error: model file "missing.pb" does not exist or cannot be read'
    ]


@pytest.mark.slow
def test_installed_tools_usage_errors_exit_2_and_bench_takes_model_or_graph(prefix, frozen):
    assert _tool(prefix, "tfreeze-run", "--no-such-flag").returncode == 2
    nothing = _tool(prefix, "tfreeze-bench")
    assert nothing.returncode == 2 and "--graph" in nothing.stderr
    help_text = _tool(prefix, "tfreeze-bench", "--help").stdout
    assert "REQUIRED" not in help_text and "one of them is needed" in help_text
    graph = _tool(prefix, "tfreeze-bench", "--graph", frozen("mlp").path, "--max_runs", "3")
    assert graph.returncode == 0 and "p50" in graph.stdout
