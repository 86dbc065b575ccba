"""The executor options from Python and the command line: the single-threaded
executor and caller-thread runs give the default executor's outputs bit for
bit; graphs it cannot run are refused with the reason, or run on the default
executor with "auto"; a tuned config's environment is applied by `bench`."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import tfreeze
from tfreeze._native import _core
from tfreeze.runtime.options import make_options


def parsed(**options) -> tf.compat.v1.ConfigProto:
    config = tf.compat.v1.ConfigProto()
    config.ParseFromString(_core.serialize_config(make_options(**options)))
    return config


def test_executor_options_reach_tensorflows_config_proto():
    config = parsed(executor="single_threaded", caller_thread=True, intra_op_threads=2)
    assert config.experimental.executor_type == "SINGLE_THREADED_EXECUTOR"
    assert config.inter_op_parallelism_threads == -1
    assert config.intra_op_parallelism_threads == 2
    assert parsed(executor="default").experimental.executor_type == ""


@pytest.mark.parametrize(("name", "auto_picks"), [("cnn", "single_threaded"), ("lstm", "default")])
def test_every_executor_gives_the_default_executors_outputs(frozen, name, auto_picks):
    """The LSTM's loop was lowered to TF1 control flow, which only the default executor runs."""
    path = frozen(name).path
    reference = tfreeze.Model(path, intra_op_threads=1, inter_op_threads=1, executor="default")
    assert reference.executor == "default"
    feeds = reference.random_feeds(batch_size=3)
    expected = reference.run(feeds)
    for options in (
        {},  # "auto", the default
        {"executor": "auto", "caller_thread": True},
        {"executor": "default", "caller_thread": True},
    ):
        model = tfreeze.Model(path, intra_op_threads=1, **options)
        assert model.executor == options.get("executor", auto_picks).replace("auto", auto_picks)
        for output, value in model.run(feeds).items():
            np.testing.assert_array_equal(value, expected[output], err_msg=str(options))


def _frozen_as_written(graph, directory) -> str:
    """The graph frozen as-is (no Grappler), so the ops under test stay in it."""
    source = directory / "graph.pb"
    source.write_bytes(graph.as_graph_def().SerializeToString())
    frozen = source.with_name("frozen.pb")
    tfreeze.freeze(str(source), str(frozen), output_names=["y"], optimize=False)
    return str(frozen)


@pytest.fixture(scope="module")
def tiny_product_pb(tmp_path_factory) -> str:
    """y = x * 1e-30: x = 1e-10 gives 1e-40, a denormal float32."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 2], name="x")
        tf.identity(x * 1e-30, name="y")
    return _frozen_as_written(graph, tmp_path_factory.mktemp("tiny"))


def test_every_executor_flushes_denormals_as_the_default_executor(tiny_product_pb):
    """TensorFlow's pool threads run with flush-to-zero; the single-threaded
    executor and caller-thread runs execute in this thread, whose mode is the
    process's. Model.run, and PythonSession.run as parity's reference, set it
    for the run so every executor gives one answer (docs/parity.md). ~1 s."""
    from tfreeze.measure.parity import python_run, same_session_config

    feeds = {"x": np.array([[1e-10, 1.0]], np.float32)}
    expected = tfreeze.Model(
        tiny_product_pb, intra_op_threads=1, inter_op_threads=1, executor="default"
    ).run(feeds)
    np.testing.assert_array_equal(expected["y"], np.array([[0.0, 1e-30]], np.float32))
    for options in (
        {"executor": "single_threaded"},
        {"executor": "default", "caller_thread": True},
    ):
        model = tfreeze.Model(tiny_product_pb, intra_op_threads=1, **options)
        np.testing.assert_array_equal(model.run(feeds)["y"], expected["y"], err_msg=str(options))
    config = same_session_config(1, "single_threaded")
    np.testing.assert_array_equal(python_run(tiny_product_pb, feeds, config)["y"], expected["y"])
    # The caller's own mode is back: numpy in this thread still makes denormals.
    assert np.float32(1e-30) * np.float32(1e-10) != 0


@pytest.fixture(scope="module")
def tf1_cond_pb(tmp_path_factory) -> str:
    """A TF1 graph with tf.cond on an is_training flag, as TF1 wrote it: Switch/Merge."""
    graph = tf.Graph()
    tf.compat.v1.disable_control_flow_v2()
    try:
        with graph.as_default():
            x = tf.compat.v1.placeholder(tf.float32, [None, 3], name="x")
            training = tf.compat.v1.placeholder_with_default(False, [], name="is_training")
            y = tf.compat.v1.cond(training, lambda: x * 2.0, lambda: x + 1.0)
            tf.identity(y, name="y")
    finally:
        tf.compat.v1.enable_control_flow_v2()
    assert "Switch" in {node.op for node in graph.as_graph_def().node}
    return _frozen_as_written(graph, tmp_path_factory.mktemp("cond"))


def test_single_threaded_refuses_tf1_control_flow_naming_the_node(tf1_cond_pb):
    with pytest.raises(tfreeze.LoadError, match=r"cannot run TF1 control flow, and node .* is a"):
        tfreeze.Model(tf1_cond_pb, executor="single_threaded")


def test_auto_runs_tf1_control_flow_on_the_default_executor(tf1_cond_pb, frozen):
    model = tfreeze.Model(tf1_cond_pb, executor="auto")
    assert model.executor == "default"
    out = model.run({"x": np.ones((2, 3), np.float32)})["y"]
    np.testing.assert_array_equal(out, np.full((2, 3), 2.0, np.float32))
    assert tfreeze.Model(frozen("mlp").path, executor="auto").executor == "single_threaded"


def test_bad_executor_options_name_the_choices(frozen):
    with pytest.raises(ValueError, match="executor must be one of default, single_threaded, auto"):
        tfreeze.Model(frozen("mlp").path, executor="fastest")
    with pytest.raises(tfreeze.Error, match="cannot be combined with inter_op_threads = 2"):
        tfreeze.Model(frozen("mlp").path, caller_thread=True, inter_op_threads=2)


def bench(*arguments: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tfreeze", "bench", *arguments, "--iterations", "20", "--json"],
        capture_output=True,
        text=True,
        env=env,
    )


def test_bench_takes_the_executor_and_reports_it(frozen):
    result = bench(
        str(frozen("mlp").path),
        "--executor",
        "single_threaded",
        "--caller-thread",
        "--threads",
        "1",
    )
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)["rows"]
    assert row["executor"] == "single_threaded" and row["threads"] == 1


def test_bench_applies_a_tuned_config_and_its_environment(frozen, tmp_path):
    import os

    config = tmp_path / "tuned.json"
    config.write_text(
        json.dumps(
            {
                "format": "tfreeze.config",
                "options": {"executor": "single_threaded"},
                "environment": {"TFREEZE_TEST_TUNED": "1"},
            }
        )
    )
    env = {k: v for k, v in os.environ.items() if k != "TFREEZE_TEST_TUNED"}
    result = bench(str(frozen("mlp").path), "--config", str(config), env=env)
    assert result.returncode == 0, result.stderr
    assert "starting a fresh process with TFREEZE_TEST_TUNED=1" in result.stderr
    assert "which TensorFlow reads at start-up" not in result.stderr  # in force in the child
    (row,) = json.loads(result.stdout)["rows"]
    assert row["executor"] == "single_threaded"  # the config's options were used
