"""Model(path, isolated=True): TensorFlow in a child process. Same answers and
errors as in-process; TensorFlow dying there is a ModelCrashedError here, and
the next call works."""

from __future__ import annotations

import os
import signal
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import tensorflow as tf

import tfreeze
from tfreeze.freezer.graph_edit import add_signature_node
from tfreeze.signature import IOEntry, Signature


def reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@pytest.fixture(scope="module")
def abort_pb(tmp_path_factory) -> str:
    """y = 2x; fetching "boom" runs TensorFlow's Abort op: a real LOG(FATAL)."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None], name="x")
        tf.identity(x * 2.0, name="y")
        with tf.control_dependencies([tf.raw_ops.Abort(error_msg="boom was fetched")]):
            tf.identity(x, name="boom")
    graph_def = graph.as_graph_def()
    entries = [IOEntry(n, f"{n}:0", "float32", (-1,)) for n in ("x", "y", "boom")]
    add_signature_node(graph_def, Signature((entries[0],), tuple(entries[1:]), {}))
    path = tmp_path_factory.mktemp("abort") / "abort.pb"
    path.write_bytes(graph_def.SerializeToString())
    return str(path)


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_outputs_are_bit_exact_with_in_process(frozen, kind):
    local = tfreeze.Model(frozen(kind).path)
    with tfreeze.Model(frozen(kind).path, isolated=True) as isolated:
        assert isolated.isolated and isolated.worker_pid
        assert isolated.inputs == local.inputs and isolated.outputs == local.outputs
        feeds = local.random_feeds(batch_size=3)
        expected, got = local.run(feeds), isolated.run(feeds)
        assert list(got) == list(expected)
        for name in expected:
            assert got[name].dtype == expected[name].dtype
            np.testing.assert_array_equal(got[name], expected[name])


def test_string_models_run_isolated(frozen):
    local = tfreeze.Model(frozen("text").path)
    isolated = tfreeze.Model(frozen("text").path, isolated=True)
    feeds = {local.inputs[0].name: np.array([["the cat"], ["é ü"], [""]], dtype=object)}
    for name, value in local.run(feeds).items():
        np.testing.assert_array_equal(isolated.run(feeds)[name], value)


def test_errors_arrive_as_the_same_classes(frozen):
    model = tfreeze.Model(frozen("mlp").path, isolated=True)
    name = model.input_names[0]
    good = model.random_feeds()[name]
    with pytest.raises(tfreeze.UnknownNameError, match="nope") as unknown:
        model.run({"nope": good})
    assert unknown.value.code == "INVALID_ARGUMENT"
    with pytest.raises(tfreeze.DTypeError, match=name):
        model.run({name: good.astype(np.int32)})
    with pytest.raises(tfreeze.ModelFileNotFoundError):
        tfreeze.Model("/nonexistent/model.pb", isolated=True)


def test_a_tensorflow_abort_is_model_crashed_error_and_the_next_call_works(abort_pb):
    with pytest.raises(tfreeze.UnsafeOpError, match="Abort"):
        tfreeze.Model(abort_pb, isolated=True)
    model = tfreeze.Model(abort_pb, isolated=True, allow_unsafe_ops=["Abort"])
    first = model.worker_pid
    x = np.array([1.5, -2.0], np.float32)
    with pytest.raises(tfreeze.ModelCrashedError, match="boom was fetched") as crash:
        model.run(x, "boom")
    assert crash.value.signal == signal.SIGABRT and crash.value.exit_code == -1
    assert isinstance(crash.value, tfreeze.RunError)
    assert model.worker_pid is None and reaped(first)
    np.testing.assert_array_equal(model.run(x, "y")["y"], x * 2)
    assert model.worker_pid not in (None, first)


def test_a_killed_worker_is_model_crashed_error(frozen):
    model = tfreeze.Model(frozen("mlp").path, isolated=True)
    feeds = model.random_feeds()
    expected = model.run(feeds)
    os.kill(model.worker_pid, signal.SIGKILL)
    with pytest.raises(tfreeze.ModelCrashedError, match="signal 9") as crash:
        model.run(feeds)
    assert crash.value.signal == signal.SIGKILL
    np.testing.assert_array_equal(model.run(feeds)["scores"], expected["scores"])


def test_close_and_garbage_collection_reap_the_worker(frozen):
    model = tfreeze.Model(frozen("mlp").path, isolated=True)
    pid = model.worker_pid
    model.close()
    assert reaped(pid)
    with pytest.raises(tfreeze.Error, match="closed"):
        model.run(model.random_feeds())
    model = tfreeze.Model(frozen("mlp").path, isolated=True)
    pid = model.worker_pid
    del model
    assert reaped(pid)


def test_limits_need_isolation_and_verify_stays_in_process(frozen):
    with pytest.raises(ValueError, match="isolated=True"):
        tfreeze.Model(frozen("mlp").path, memory_limit_bytes=1 << 30)
    model = tfreeze.Model(frozen("mlp").path, isolated=True, memory_limit_bytes=4 << 30)
    with pytest.raises(tfreeze.Error, match="in-process"):
        model.verify()
    assert model.benchmark(iterations=5, warmup=1)["iterations"] == 5


def test_concurrent_calls_on_one_isolated_model_are_serialized_and_correct(frozen):
    local = tfreeze.Model(frozen("mlp").path)
    model = tfreeze.Model(frozen("mlp").path, isolated=True)
    feeds = [local.random_feeds(batch_size=2, seed=seed) for seed in range(8)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(model.run, feeds * 5))
    for fed, got in zip(feeds * 5, results, strict=True):
        np.testing.assert_array_equal(got["scores"], local.run(fed)["scores"])


def test_the_cpu_time_limit_ends_the_worker_with_sigxcpu(frozen):
    with pytest.raises(tfreeze.ModelCrashedError) as crash:  # while loading, or a later run
        model = tfreeze.Model(frozen("cnn").path, isolated=True, cpu_seconds=1)
        feeds = model.random_feeds(batch_size=32)
        while True:
            model.run(feeds)
    assert crash.value.signal == signal.SIGXCPU
