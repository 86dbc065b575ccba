"""Every path that hands a user's file to Python TensorFlow runs the C++
loader's checks first (issue 26, item 1): `tfreeze freeze` used to load a TF1
SavedModel, running its WriteFile main op, that `tfreeze run` refuses, and
aborted with SIGABRT on graphs the loader refuses as crafted to abort
TensorFlow; `export` wrote them into a SavedModel, `parity` aborted on them.
Each command runs in a child process: an abort fails the test, not pytest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

import crafted
import tfreeze

v1 = tf.compat.v1


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tfreeze", *args], capture_output=True, text=True, timeout=300
    )


def assert_refused(result: subprocess.CompletedProcess, *parts: str) -> str:
    """Exit 2 with one line naming `parts`: no abort, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stderr[-3000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    for part in parts:
        assert part in lines[0], lines[0]
    return lines[0]


def writer_saved_model(directory: Path, target: Path, collection: str) -> None:
    """A TF1 SavedModel of y = 2x + 1 whose init op writes `target`, stored
    under `collection`: "saved_model_main_op" (Builder's main_op) or the
    older "legacy_init_op", which TensorFlow's loader runs the same way."""
    graph = tf.Graph()
    with graph.as_default(), v1.Session(graph=graph) as session:
        x = v1.placeholder(tf.float32, [None], name="x")
        weight = v1.get_variable("w", initializer=2.0, use_resource=False)
        y = tf.identity(weight * x + 1.0, name="y")
        writer = tf.io.write_file(str(target), "owned", name="writer")
        session.run(v1.global_variables_initializer())
        builder = v1.saved_model.Builder(str(directory))
        builder.add_meta_graph_and_variables(
            session,
            ["serve"],
            signature_def_map={
                "serving_default": v1.saved_model.predict_signature_def({"x": x}, {"y": y})
            },
            main_op=writer,
        )
        builder.save()
    if collection != "saved_model_main_op":
        _rename_collection(directory / "saved_model.pb", "saved_model_main_op", collection)


def _rename_collection(path: Path, old: str, new: str) -> None:
    from tensorflow.core.protobuf import saved_model_pb2

    saved_model = saved_model_pb2.SavedModel.FromString(path.read_bytes())
    collections = saved_model.meta_graphs[0].collection_def
    collections[new].CopyFrom(collections[old])
    del collections[old]
    path.write_bytes(saved_model.SerializeToString())


def writer_checkpoint(directory: Path, target: Path) -> Path:
    """A TF1 checkpoint whose .meta names a WriteFile as its saver's restore
    op: restoring the checkpoint, as the freezer does, runs it."""
    graph = tf.Graph()
    with graph.as_default(), v1.Session(graph=graph) as session:
        x = v1.placeholder(tf.float32, [None], name="x")
        weight = v1.get_variable("w", initializer=2.0, use_resource=False)
        tf.identity(weight * x + 1.0, name="y")
        tf.io.write_file(str(target), "owned", name="writer")
        saver = v1.train.Saver()
        session.run(v1.global_variables_initializer())
        prefix = saver.save(session, str(directory / "model.ckpt"))
    meta_path = Path(prefix + ".meta")
    meta_graph = v1.MetaGraphDef.FromString(meta_path.read_bytes())
    meta_graph.saver_def.restore_op_name = "writer"
    meta_path.write_bytes(meta_graph.SerializeToString())
    return meta_path


def table_fill_that_writes(target: Path) -> bytes:
    """A frozen graph whose table fill, which the freezer runs while opening
    it, needs a WriteFile first."""
    graph = tf.Graph()
    with graph.as_default():
        keys = v1.placeholder(tf.string, [None], name="x")
        values = tf.lookup.KeyValueTensorInitializer(["a"], [1], tf.string, tf.int64)
        tf.identity(tf.lookup.StaticHashTable(values, -1).lookup(keys), name="y")
        tf.io.write_file(str(target), "owned", name="writer")
    graph_def = graph.as_graph_def()
    fill = next(node for node in graph_def.node if node.op == "LookupTableImportV2")
    fill.input.append("^writer")
    return graph_def.SerializeToString()


def const_dtype_mismatch() -> bytes:
    """A Const whose dtype attribute (int32) disagrees with its value (float):
    Python TensorFlow imports it, and aborts when it runs (tensor.cc CHECK)."""

    def hostile(x):
        return tf.cast(tf.constant([1, 2], tf.int32, name="c"), tf.float32)

    graph_def = crafted._graph(hostile)
    const = next(node for node in graph_def.node if node.name == "c")
    const.attr["value"].tensor.CopyFrom(tf.make_tensor_proto([1.0, 2.0], tf.float32))
    return graph_def.SerializeToString()


# name: (builder, what the refusal names)
ABORTING = {
    **crafted.CRAFTED_GRAPHS,
    "const-dtype-mismatch": (const_dtype_mismatch, 'node "c"'),
}


# The freezer checks the graph it hands TensorFlow, as Python parsed it: of a
# field given twice, the last copy, which makes this Fill too large.
AS_PARSED = {"fill-with-value-twice": 'Fill node "filled"'}


@pytest.fixture(scope="module")
def aborting(tmp_path_factory):
    folder = tmp_path_factory.mktemp("aborting")
    files = {}
    for name, (build, names) in ABORTING.items():
        (folder / f"{name}.pb").write_bytes(build())
        files[name] = (folder / f"{name}.pb", names)
    plain = folder / "plain.pb"  # y = 2x + 1, nothing hostile: the other side of parity
    plain.write_bytes(crafted._graph(lambda x: None).SerializeToString())
    return files, plain


@pytest.fixture(params=["saved_model_main_op", "legacy_init_op"])
def writer_dir(request, tmp_path):
    target = tmp_path / "written.txt"
    writer_saved_model(tmp_path / "saved", target, request.param)
    return tmp_path / "saved", target


def test_freeze_refuses_a_tf1_saved_model_whose_init_op_writes(writer_dir, tmp_path):
    directory, target = writer_dir
    out = tmp_path / "x.pb"
    line = assert_refused(cli("freeze", str(directory), "-o", str(out)), 'node "writer"')
    assert "WriteFile" in line and "--allow-unsafe-ops WriteFile" in line
    assert not target.exists() and not out.exists()
    assert_refused(cli("run", str(directory)), 'node "writer"')  # the same refusal as run's


def test_the_python_api_raises_what_tfreeze_model_raises(writer_dir, tmp_path):
    directory, target = writer_dir
    with pytest.raises(tfreeze.UnsafeOpError, match=r'node "writer" \(WriteFile: '):
        tfreeze.freeze(str(directory), tmp_path / "x.pb")
    assert not target.exists() and not (tmp_path / "x.pb").exists()


def test_allowing_the_op_freezes_it_and_its_init_op_runs(writer_dir, tmp_path):
    directory, target = writer_dir
    tfreeze.freeze(str(directory), tmp_path / "x.pb", allow_unsafe_ops=["WriteFile"])
    assert target.read_text() == "owned"  # the user allowed what loading runs
    out = tfreeze.Model(tmp_path / "x.pb").run({"x": np.array([1.0], np.float32)})["y"]
    np.testing.assert_array_equal(out, [3.0])


def test_freeze_refuses_a_meta_graph_whose_restore_op_writes(tmp_path):
    target = tmp_path / "written.txt"
    meta = writer_checkpoint(tmp_path, target)
    with pytest.raises(tfreeze.UnsafeOpError, match=r'node "writer" \(WriteFile: '):
        tfreeze.freeze(str(meta), tmp_path / "x.pb")
    assert not target.exists() and not (tmp_path / "x.pb").exists()


def test_freeze_refuses_a_graph_whose_table_fill_writes(tmp_path):
    target = tmp_path / "written.txt"
    source = tmp_path / "tables.pb"
    source.write_bytes(table_fill_that_writes(target))
    with pytest.raises(tfreeze.UnsafeOpError, match=r'node "writer" \(WriteFile: '):
        tfreeze.freeze(str(source), tmp_path / "x.pb", output_names=["y"])
    assert not target.exists() and not (tmp_path / "x.pb").exists()


@pytest.mark.parametrize("name", sorted(ABORTING))
def test_freeze_refuses_graphs_crafted_to_abort_tensorflow(aborting, name, tmp_path):
    files, _ = aborting
    path, names = files[name]
    out = tmp_path / "x.pb"
    assert_refused(cli("freeze", str(path), "-o", str(out)), AS_PARSED.get(name, names))
    assert not out.exists()


@pytest.mark.parametrize("name", ["fill-through-identity", "const-dtype-mismatch"])
def test_graph_export_and_parity_refuse_them_too(aborting, name, tmp_path):
    files, plain = aborting
    path, names = files[name]
    assert_refused(cli("graph", str(path), "-o", str(tmp_path / "g.dot")), names)
    assert not (tmp_path / "g.dot").exists()
    assert_refused(cli("export", str(path), "--saved-model", str(tmp_path / "sm")), names)
    assert not (tmp_path / "sm" / "1").exists()
    assert_refused(cli("parity", str(path), str(plain)), names)  # the source's side
    assert_refused(cli("parity", str(plain), str(path)), names)  # the .pb's side
    assert_refused(cli("compile", str(path), "-o", str(tmp_path / "c")), names)
    assert not (tmp_path / "c").exists()


PYTHON_SESSION = """
import sys, tfreeze
from tfreeze.runtime.python_session import PythonSession
try:
    PythonSession(sys.argv[1])
except tfreeze.LoadError as error:
    print(type(error).__name__, error)
"""


def test_python_tensorflows_reference_session_refuses_them(aborting):
    files, _ = aborting
    path, names = files["fill-through-identity"]
    result = subprocess.run(
        [sys.executable, "-c", PYTHON_SESSION, str(path)], capture_output=True, text=True
    )
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    assert result.stdout.startswith("LoadError") and names in result.stdout, result.stdout


def test_a_plain_tf1_saved_model_and_graph_still_freeze(aborting, tmp_path):
    _, plain = aborting
    crafted.saved_model_with_main_op(tmp_path / "saved", tmp_path / "unused", "none")
    for source in (tmp_path / "saved", plain):
        out = tmp_path / f"{source.name}.pb"
        tfreeze.freeze(str(source), out)
        y = tfreeze.Model(out).run({"x": np.array([1.0, 3.0], np.float32)})["y"]
        np.testing.assert_array_equal(y, [3.0, 7.0])
