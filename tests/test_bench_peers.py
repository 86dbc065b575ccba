"""`tfreeze bench --compare`: the peers compute what tfreeze does, each timed
raw and against an empty model, ratios naming their divisor, and a peer that
cannot take a model is a row that says so."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from rich.console import Console

import tfreeze
from tfreeze.cli import render
from tfreeze.measure import bench, peers

PEERS = ("python", "onnxruntime", "openvino")


def quick_bench(path, compare: str, *more: str) -> subprocess.CompletedProcess:
    """`tfreeze bench` at one thread, a few runs: the figures' shape, not their speed."""
    command = ["bench", str(path), "--threads", "1", "--compare", compare]
    command += ["--iterations", "8", "--warmup", "2", *more]
    return subprocess.run(
        [sys.executable, "-m", "tfreeze", *command], capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def erfc_pb(tmp_path_factory) -> str:
    """A model with Erfc, an op tf2onnx has no converter for (OpenVINO has)."""

    class Erfc(keras.layers.Layer):
        def call(self, x):
            return tf.math.erfc(x)

    inputs = keras.Input((4,), name="x")
    model = keras.Model(inputs, keras.layers.Dense(3, name="y")(Erfc()(inputs)))
    path = tmp_path_factory.mktemp("erfc") / "erfc.pb"
    tfreeze.freeze(model, path)
    return str(path)


def _peer(name: str, path, batch: int = 3, source=None):
    model = tfreeze.Model(path, intra_op_threads=1, inter_op_threads=1)
    feeds = model.random_feeds(batch_size=batch)
    return model, feeds, peers.PEERS[name](path, peers.read_signature(path), feeds, 1, source)


@pytest.mark.parametrize("kind", ["mlp", "cnn", "two_in_two_out"])
@pytest.mark.parametrize("name", [*PEERS, "keras"])
def test_every_peer_computes_what_tfreeze_does(frozen, kind, name):
    item = frozen(kind)
    model, feeds, peer = _peer(name, item.path, source=item.model)
    expected = model.run(feeds)
    got = peer.outputs()
    assert set(got) == set(expected)
    for output, value in expected.items():
        np.testing.assert_allclose(got[output], value, rtol=1e-5, atol=1e-5)
    described = peer.describe()
    assert described["precision"] == "fp32" and described["threads"] == 1


def test_openvino_is_forced_to_fp32_at_the_benchs_threads(frozen):
    _, _, peer = _peer("openvino", frozen("mlp").path)
    settings = peer.describe()["settings"]
    assert "INFERENCE_PRECISION_HINT=f32" in settings and "INFERENCE_NUM_THREADS=1" in settings


@pytest.mark.parametrize("name", PEERS)
def test_empty_models_take_the_same_inputs_and_compute_nothing(frozen, name):
    _, feeds, peer = _peer(name, frozen("two_in_two_out").path, batch=5)
    if name == "openvino":
        shapes = [tuple(v) for v in peer.empty_step().values()]
    else:
        shapes = [tuple(v) for v in peer.empty_step()]
    assert sorted(shapes) == sorted(v.shape for v in feeds.values())


def test_keras_empty_model_returns_its_inputs(frozen):
    item = frozen("two_in_two_out")
    _, feeds, peer = _peer("keras", item.path, source=item.model)
    returned = sorted(np.asarray(v).shape for v in peer.empty_step())
    assert returned == sorted(v.shape for v in feeds.values())


def test_json_rows_carry_raw_loop_compute_and_what_each_ratio_divides_by(frozen):
    result = quick_bench(frozen("mlp").path, ",".join(PEERS), "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["runner"]: row for row in json.loads(result.stdout)["rows"]}
    assert rows["tfreeze"]["timed"] == "C++ loop" and "ratios" not in rows["tfreeze"]
    for name in PEERS:
        row = rows[name]
        assert row["timed"] == "Python loop" and row["precision"] == "fp32"
        assert row["threads"] == 1 and row["raw_p50_us"] == row["p50_us"]
        assert row["compute_p50_us"] == pytest.approx(
            max(row["raw_p50_us"] - row["loop_p50_us"], bench.COMPUTE_FLOOR_US)
        )
        assert row["below_loop_noise"] == (row["loop_p50_us"] >= row["raw_p50_us"])
        by_divisor = {ratio["ratio_to"]: ratio for ratio in row["ratios"]}
        assert list(by_divisor) == ["compute_p50_us", "raw_p50_us"]  # the headline first
        for divisor, ratio in by_divisor.items():
            assert ratio["numerator"] == "tfreeze p50_us"
            assert ratio["value"] == pytest.approx(rows["tfreeze"]["p50_us"] / row[divisor])


def test_a_peer_that_cannot_take_the_model_is_a_row_saying_why(erfc_pb, frozen):
    rows = bench.run_bench(
        erfc_pb,
        batches=[2],
        threads=[1],
        runners=["tfreeze", "onnxruntime", "openvino"],
        warmup=1,
        iterations=3,
    )
    by_runner = {row.runner: row for row in rows}
    assert by_runner["onnxruntime"].error.startswith("tf2onnx has no converter for Erfc")
    assert "\n" not in by_runner["onnxruntime"].error
    assert by_runner["openvino"].error is None and by_runner["openvino"].ratios
    assert by_runner["tfreeze"].stats["p50_us"] > 0  # tfreeze's own figures still stand
    text = bench.run_bench(
        frozen("text").path,
        batches=[1],
        threads=[1],
        runners=["tfreeze", "openvino"],
        warmup=1,
        iterations=3,
    )[1]
    assert text.as_dict()["error"].startswith("OpenVINO's TensorFlow frontend cannot read")
    assert "\n" not in text.error


def test_openvino_computes_the_op_tf2onnx_lacks(erfc_pb):
    model, feeds, peer = _peer("openvino", erfc_pb)
    np.testing.assert_allclose(peer.outputs()["y"], model.run(feeds)["y"], rtol=1e-5, atol=1e-6)


def test_keras_is_measured_only_at_the_first_thread_count(frozen):
    item = frozen("mlp")
    rows = bench.run_bench(
        item.path,
        batches=[1],
        threads=[1, 2],
        runners=["tfreeze", "keras"],
        source=item.model,
        warmup=1,
        iterations=3,
    )
    keras_rows = {row.threads: row for row in rows if row.runner == "keras"}
    assert keras_rows[1].error is None and keras_rows[1].loop_p50_us is not None
    assert "sized once per process" in keras_rows[2].error


def test_the_table_labels_every_figure_and_ratio(frozen):
    result = quick_bench(frozen("mlp").path, "onnxruntime,openvino")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for label in ("raw", "loop", "compute", "÷ compute", "÷ raw", "INFERENCE_PRECISION_HINT=f32"):
        assert label in out
    assert "openvino" in out and "onnxruntime" in out


def _row(runner: str, p50: float, loop: float | None = None, error: str | None = None):
    stats = {} if error else dict(p50_us=p50, p90_us=p50, p99_us=p50, mean_us=p50, stddev_us=1.0)
    described = {"precision": "fp32", "threads": 1, "settings": "x=1", "empty_model": "Shape"}
    return bench.BenchRow(
        runner, 1, 1, stats, error=error, loop_p50_us=loop, peer=described if loop else {}
    )


def test_a_loop_as_slow_as_the_model_is_flagged_not_divided_by():
    rows = [_row("tfreeze", 10.0), _row("onnxruntime", 8.0, loop=9.0), _row("openvino", 30.0, 10.0)]
    bench._add_ratios(rows)
    noisy, fine = rows[1], rows[2]
    assert noisy.below_loop_noise and noisy.compute_p50_us == bench.COMPUTE_FLOOR_US
    assert not fine.below_loop_noise and fine.compute_p50_us == 20.0
    assert [r["value"] for r in fine.ratios] == [0.5, pytest.approx(1 / 3)]
    rows.append(_row("python", 0, error="PeerCannotRun: no"))
    console = Console(file=io.StringIO(), width=200)  # the CLI's width when piped
    console.print(render.bench_table("build/bench/some-model.pb", rows))
    shown = console.file.getvalue()
    assert "…" not in shown
    noisy_line = next(
        line for line in shown.splitlines() if "onnxruntime" in line and "n/a" in line
    )
    assert "*" in noisy_line and "below the loop's noise" in shown
    assert "could not run python: PeerCannotRun: no" in shown


def test_a_missing_peer_package_is_one_line_naming_the_pip_install(frozen, monkeypatch, capsys):
    from tfreeze.cli import main

    monkeypatch.setattr(bench, "_importable", lambda module: module != "openvino")
    assert main(["bench", str(frozen("mlp").path), "--compare", "openvino"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert "comparing with openvino needs openvino: pip install openvino" in err
