"""The unsafe-op policy, end to end from Python: a model that would write or
read the host's files is frozen without running it, refused at load with the
node, op and reason, and runs only when allowed; crafted graphs that abort
TensorFlow are refused before it sees them."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import tfreeze
from tfreeze.freezer.graph_edit import add_signature_node
from tfreeze.runtime.python_session import PythonSession
from tfreeze.signature import IOEntry, Signature


def writer_function(target: str):
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
    def writer(x):
        tf.io.write_file(target, "written by a model")  # unrelated to the output
        return {"y": x * 2.0}

    return writer


@pytest.fixture(scope="module")
def writer_pb(tmp_path_factory):
    folder = tmp_path_factory.mktemp("writer")
    target = folder / "written.txt"
    path = folder / "writer.pb"
    report = tfreeze.freeze(writer_function(str(target)), str(path))
    return path, target, report


def test_freezing_an_unsafe_graph_runs_nothing_and_says_so(writer_pb):
    path, target, report = writer_pb
    assert path.exists() and not target.exists()
    (warning,) = report.warnings
    assert 'node "WriteFile" (WriteFile:' in warning and "were not run" in warning
    assert report.optimization is None and report.verification == {}


def test_an_unsafe_graph_is_refused_naming_node_op_and_the_way_out(writer_pb):
    path, target, _ = writer_pb
    with pytest.raises(tfreeze.UnsafeOpError) as caught:
        tfreeze.Model(path)
    message = str(caught.value)
    assert 'node "WriteFile" (WriteFile: ' in message and "--allow-unsafe-ops WriteFile" in message
    assert isinstance(caught.value, tfreeze.LoadError) and isinstance(caught.value, PermissionError)
    with pytest.raises(tfreeze.UnsafeOpError):
        PythonSession(path)
    assert not target.exists()


def test_allowed_by_name_the_graph_runs_and_the_op_is_real(writer_pb):
    path, target, _ = writer_pb
    with pytest.raises(tfreeze.UnsafeOpError):
        tfreeze.Model(path, allow_unsafe_ops=["ReadFile"])  # not the op it holds
    model = tfreeze.Model(path, allow_unsafe_ops=["WriteFile"])
    out = model.run({"x": np.ones((1, 3), np.float32)})["y"]
    np.testing.assert_array_equal(out, np.full((1, 3), 2.0, np.float32))
    assert target.read_text() == "written by a model"
    target.unlink()
    with pytest.raises(TypeError, match="True or a list of op names"):
        tfreeze.Model(path, allow_unsafe_ops="WriteFile")


def test_an_unsafe_op_inside_a_library_function_is_found(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("host data")

    @tf.function(input_signature=[tf.TensorSpec([], tf.float32, name="x")])
    def leak(x):
        return {
            "out": tf.cond(x > 0, lambda: tf.io.read_file(str(secret)), lambda: tf.constant(""))
        }

    path = tmp_path / "leak.pb"
    tfreeze.freeze(leak, str(path), keep_control_flow=True)
    with pytest.raises(tfreeze.UnsafeOpError, match=r'in function ".*" \(ReadFile: '):
        tfreeze.Model(path)
    allowed = tfreeze.Model(path, allow_unsafe_ops=True)
    assert allowed.run({"x": np.float32(1)})["out"] == b"host data"


def test_printing_is_safe_unless_it_prints_to_a_file(tmp_path):
    def printer(stream):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
        def model(x):
            tf.print("seen", output_stream=stream)
            return {"y": x + 1.0}

        return model

    tfreeze.freeze(printer(sys.stderr), str(tmp_path / "stderr.pb"))
    tfreeze.Model(tmp_path / "stderr.pb")
    log = tmp_path / "log.txt"
    tfreeze.freeze(printer(f"file://{log}"), str(tmp_path / "file.pb"))
    with pytest.raises(tfreeze.UnsafeOpError, match="PrintV2"):
        tfreeze.Model(tmp_path / "file.pb")
    assert not log.exists()


def crafted(tmp_path, kind: str) -> str:
    """Graphs that made TensorFlow abort the whole process (issue 11)."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None], name="x")
        if kind == "fill":
            filled = tf.fill(tf.constant([2**40, 2**40], tf.int64, name="dims"), 1.0, name="f")
            tf.identity(x + tf.reduce_sum(filled), name="y")
        else:
            tf.identity(x + tf.reduce_sum(tf.constant([1.0, 2.0], name="c")), name="y")
    graph_def = graph.as_graph_def()
    if kind == "const-dtype":
        next(n for n in graph_def.node if n.name == "c").attr["value"].tensor.dtype = 3  # int32
    signature = Signature(
        (IOEntry("x", "x:0", "float32", (-1,)),), (IOEntry("y", "y:0", "float32", (-1,)),), {}
    )
    add_signature_node(graph_def, signature)
    path = tmp_path / f"{kind}.pb"
    path.write_bytes(graph_def.SerializeToString())
    return str(path)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("fill", r'Fill node "f" makes a tensor of shape \[1099511627776, 1099511627776\]'),
        ("const-dtype", r'Const node "c" declares dtype 1 but its value holds dtype 3'),
    ],
)
def test_graphs_that_abort_tensorflow_are_refused_first(tmp_path, kind, message):
    with pytest.raises(tfreeze.LoadError, match=message):
        tfreeze.Model(crafted(tmp_path, kind))


def test_messages_with_invalid_utf8_stay_tfreeze_errors(tmp_path, writer_pb):
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(writer_pb[0].read_bytes())
    node = next(n for n in graph_def.node if n.op == "WriteFile")
    node.name = "zzqq"  # then made invalid UTF-8, same length
    raw = graph_def.SerializeToString().replace(b"zzqq", b"z\xff\xfeq")
    with pytest.raises(tfreeze.UnsafeOpError, match='node "z\ufffd\ufffdq"'):
        tfreeze.Model.from_bytes(raw)


def test_inspect_lists_unsafe_ops_without_running_anything(writer_pb):
    path, target, _ = writer_pb
    result = subprocess.run(
        [sys.executable, "-m", "tfreeze", "inspect", str(path), "--json"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    described = json.loads(result.stdout)
    assert [e["name"] for e in described["outputs"]] == ["y"]
    assert [(u["node"], u["op"]) for u in described["unsafe_ops"]] == [("WriteFile", "WriteFile")]
    refused = subprocess.run(
        [sys.executable, "-m", "tfreeze", "run", str(path)], capture_output=True, text=True
    )
    assert refused.returncode == 2 and "--allow-unsafe-ops WriteFile" in refused.stderr
    assert "Traceback" not in refused.stderr and not target.exists()


def test_the_deny_list_has_a_reason_for_every_op():
    from tfreeze._native import _core

    denied = _core.unsafe_op_list()
    assert len(denied) >= 40
    assert {"ReadFile", "WriteFile", "PrintV2", "PyFunc", "SaveV2"} <= {op for op, _, _ in denied}
    assert all(len(reason) > 10 for _, _, reason in denied)


def test_docs_show_the_deny_list_as_the_runtime_has_it():
    from pathlib import Path

    from tfreeze.runtime.safety import deny_list_markdown

    docs = (Path(__file__).resolve().parents[1] / "docs" / "reliability.md").read_text()
    assert deny_list_markdown() in docs, "regenerate the table in docs/reliability.md"
