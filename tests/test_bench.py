"""`tfreeze bench`: comparisons in one run, sweeps, cold start, plot."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tfreeze.measure import bench


def tfreeze_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tfreeze", *args], capture_output=True, text=True)


def test_compare_all_runners_with_sweeps_and_plot(frozen, tmp_path):
    item = frozen("mlp")
    item.model.save(tmp_path / "mlp.keras")
    result = tfreeze_cli(
        "bench",
        str(item.path),
        "--batch",
        "1,4",
        "--threads",
        "1,2",
        "--compare",
        "python,onnxruntime,keras",
        "--source",
        str(tmp_path / "mlp.keras"),
        "--iterations",
        "20",
        "--plot",
        str(tmp_path / "bench.png"),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    rows = report["rows"]
    assert len(rows) == 4 * 2 * 2  # runners x batches x thread counts
    assert {r["runner"] for r in rows} == {"tfreeze", "python", "onnxruntime", "keras"}
    assert {(r["batch"], r["threads"]) for r in rows} == {(1, 1), (4, 1), (1, 2), (4, 2)}
    for row in rows:
        if row["runner"] == "keras" and row["threads"] == 2:
            # Keras runs on TensorFlow's global pools, sized once: at the first --threads only.
            assert "measured only at the first --threads (1)" in row["error"]
            continue
        assert row["iterations"] == 20 and 0 < row["p50_us"] <= row["p99_us"]
        assert row["throughput_per_s"] == pytest.approx(row["batch"] * 1e6 / row["mean_us"])
    assert report["p50_us"] == rows[0]["p50_us"] and report["batch_size"] == 1
    assert (tmp_path / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    cold = report["cold_start"]
    assert set(cold) == {"tfreeze", "python"}
    for figures in cold.values():
        assert figures["load_ms"] > 0 and figures["peak_rss_mb"] > 10
        assert figures["process_to_first_result_ms"] > figures["load_ms"]


def test_cold_start_of_tfreeze_does_not_import_tensorflow_python(frozen):
    cold = bench.cold_start(frozen("mlp").path, 1, ["tfreeze", "python"])
    # The C++ runtime skips TensorFlow's Python import: faster and smaller.
    assert cold["tfreeze"]["load_ms"] < cold["python"]["load_ms"]
    assert cold["tfreeze"]["peak_rss_mb"] < cold["python"]["peak_rss_mb"]


def test_bad_runner_and_missing_source_are_clear(frozen):
    bad = tfreeze_cli("bench", str(frozen("mlp").path), "--compare", "tflite")
    assert bad.returncode == 2
    assert (
        "unknown runner 'tflite'; choose from: tfreeze, python, onnxruntime, openvino, keras"
        in bad.stderr
    )
    no_source = tfreeze_cli("bench", str(frozen("mlp").path), "--compare", "keras")
    assert no_source.returncode == 2 and "needs the source model" in no_source.stderr


def test_batch_list_must_be_positive_integers(frozen):
    result = tfreeze_cli("bench", str(frozen("mlp").path), "--batch", "1,x")
    assert result.returncode == 2 and "comma-separated integers" in result.stderr


def _row(runner: str, batch: int, threads: int, p50: float) -> bench.BenchRow:
    samples = [p50 * (1 + 0.01 * i) for i in range(50)]
    return bench.BenchRow(runner, batch, threads, {"p50_us": p50}, samples_us=samples)


def test_plot_draws_every_thread_count_with_the_legend_clear_of_the_data(tmp_path):
    rows = [
        _row(runner, batch, threads, base * batch / threads)
        for runner, base in (("tfreeze", 10.0), ("python", 40.0))
        for threads in (1, 2)
        for batch in (1, 8)
    ]
    figure = bench.plot_figure(rows)
    left, right = figure.axes
    labels = [line.get_label() for line in right.lines]
    assert labels == [
        "tfreeze, 1 thread",
        "tfreeze, 2 threads",
        "python, 1 thread",
        "python, 2 threads",
    ]
    assert len(left.containers) == 4  # a histogram per series at the smallest batch
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    legend = right.get_legend().get_window_extent(renderer)
    for axis in (left, right):
        assert not legend.overlaps(axis.get_window_extent(renderer))
    bench.plot(rows, str(tmp_path / "plot.png"))
    assert (tmp_path / "plot.png").stat().st_size > 0


def test_tables_piped_at_80_columns_keep_headers_and_numbers():
    probe = (
        "from tfreeze.cli import render\n"
        "from tfreeze.cli.common import console\n"
        "from tfreeze.measure import bench\n"
        "from tfreeze.measure.bench import BenchRow\n"
        "stats = dict(p50_us=12345.6, p90_us=23456.7, p99_us=34567.8, mean_us=12345.1,"
        " stddev_us=1234.5)\n"
        "peer = dict(precision='fp32', threads=2, settings='intra_op/inter_op_num_threads=2/2',"
        " empty_model='the same inputs, each through a Shape op')\n"
        "rows = [BenchRow('tfreeze', 32, 2, stats),"
        " BenchRow('onnxruntime', 32, 2, stats, loop_p50_us=45.6, peer=peer),"
        " BenchRow('keras', 32, 2, stats, error='needs --source MODEL.keras')]\n"
        "bench._add_ratios(rows)\n"
        "console.print(render.bench_table('build/bench/some-model.pb', rows))\n"
    )
    import os

    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,  # a pipe, not a terminal
        text=True,
        env={**os.environ, "COLUMNS": "80"},
        check=True,
    )
    assert "…" not in result.stdout
    headers = [line for line in result.stdout.splitlines() if "runner" in line]
    for column in ("batch", "threads", "p50", "stddev", "items/s"):
        assert column in headers[0]
    # The comparison's headers take two lines; each label is whole on one of them.
    lines = result.stdout.splitlines()
    at = lines.index(headers[1])
    for column in ("raw", "loop", "compute", "tfreeze", "÷ compute", "÷ raw"):
        assert column in lines[at - 1] or column in headers[1]
    assert "12345.6" in result.stdout and "12300.0" in result.stdout  # raw, and raw − loop
    assert "onnxruntime" in result.stdout and "intra_op/inter_op_num_threads=2/2" in result.stdout
    assert "keras: needs --source MODEL.keras" in result.stdout
