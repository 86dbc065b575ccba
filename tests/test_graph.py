"""tfreeze graph: Graphviz drawings with scopes collapsed, TensorBoard event
files, side-by-side comparison; and its one-line errors."""

from __future__ import annotations

import os
import re

import pytest
import tensorflow as tf

import tfreeze
from tfreeze import cli
from tfreeze.graphview import read_graph_def


def _graph(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["graph", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _scope_sizes(pb) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for node in read_graph_def(pb).node:
        if "/" in node.name and not node.name.startswith("tfreeze/"):
            scope = node.name.split("/")[0]
            sizes[scope] = sizes.get(scope, 0) + 1
    return sizes


def test_dot_collapses_scopes_and_marks_the_signature(frozen, tmp_path, capsys):
    pb = frozen("two_in_two_out").path
    assert _graph(capsys, str(pb), "-o", str(tmp_path / "g.dot"))[0] == 0
    dot = (tmp_path / "g.dot").read_text()
    for scope, count in _scope_sizes(pb).items():
        assert re.search(rf'"{scope}/" \[label="{scope}/\\n{count} ops: ', dot), scope
    assert '"input: tokens"' in dot and '"output: alpha"' in dot
    assert '[label="float32 [?, 6]"]' in dot  # the input's edge, shape from the signature
    assert "tfreeze/signature" not in dot and "tfreeze/verify" not in dot


def test_expand_opens_a_scope_node_by_node_and_svg_renders(frozen, tmp_path, capsys):
    pb = frozen("two_in_two_out").path
    (scope,) = _scope_sizes(pb)
    code, _, _ = _graph(capsys, str(pb), "-o", str(tmp_path / "g.svg"), "--expand", scope)
    assert code == 0
    svg = (tmp_path / "g.svg").read_text()
    assert "<svg" in svg and f"{scope}/\n" not in svg
    matmuls = sum(node.op == "MatMul" for node in read_graph_def(pb).node)
    assert svg.count(">MatMul</text>") == matmuls


def test_unsafe_ops_highlighted_and_output_shapes_on_edges(tmp_path, capsys):
    graph = tf.Graph()  # a plain GraphDef, no tfreeze signature: drawn unmarked
    with graph.as_default():
        with tf.name_scope("reader"):
            path = tf.compat.v1.placeholder(tf.string, [], name="path")
            contents = tf.io.read_file(path, name="read")
        with tf.name_scope("size"):
            tf.strings.length(contents)
    pb = tmp_path / "reader.pb"
    pb.write_bytes(graph.as_graph_def(add_shapes=True).SerializeToString())
    assert _graph(capsys, str(pb), "-o", str(tmp_path / "g.dot"))[0] == 0
    dot = (tmp_path / "g.dot").read_text()
    box = re.search(r'"reader/" \[(.*)\];', dot).group(1)
    assert "color=red" in box and "1 unsafe" in box
    assert "color=red" not in re.search(r'"size/" \[(.*)\];', dot).group(1)
    assert '"reader/" -> "size/" [label="string []"];' in dot  # from _output_shapes


def test_tensorboard_event_file_holds_the_graph(frozen, tmp_path, capsys):
    pb = frozen("mlp").path
    code, out, _ = _graph(capsys, str(pb), "--tensorboard", str(tmp_path / "logs"))
    assert code == 0 and "tensorboard --logdir" in out
    (event_file,) = os.listdir(tmp_path / "logs")
    graphs = [
        event.graph_def
        for event in tf.compat.v1.train.summary_iterator(str(tmp_path / "logs" / event_file))
        if event.graph_def
    ]
    written = tf.compat.v1.GraphDef.FromString(graphs[0])
    names = {node.name for node in written.node}
    assert "features" in names and "tfreeze/signature" not in names
    assert len(names) == sum(
        1 for n in read_graph_def(pb).node if not n.name.startswith("tfreeze/")
    )


def test_compare_draws_both_and_diffs_op_counts(frozen, tmp_path, capsys):
    model = frozen("cnn").model
    plain = tmp_path / "plain.pb"
    tfreeze.freeze(model, plain, optimize=False)
    rsqrt_before = sum(n.op == "Rsqrt" for n in read_graph_def(plain).node)
    assert rsqrt_before and not any(
        n.op == "Rsqrt" for n in read_graph_def(frozen("cnn").path).node
    )
    code, out, _ = _graph(
        capsys, str(plain), "--compare", str(frozen("cnn").path), "-o", str(tmp_path / "c.dot")
    )
    assert code == 0
    assert f"Rsqrt: {rsqrt_before} -> 0 (-{rsqrt_before})" in out
    dot = (tmp_path / "c.dot").read_text()
    assert dot.count("subgraph ") == 2 and '"g0:input: image"' not in dot
    assert '"g0:image"' in dot and '"g1:image"' in dot


@pytest.mark.parametrize(
    ("output", "path", "message"),
    [
        ("g.jpg", None, "unknown type '.jpg'; give a name ending in .svg, .png, .dot"),
        ("g.svg", "", "needs Graphviz's dot program, which is not on PATH: install it (apt-get"),
    ],
)
def test_bad_output_is_one_line_before_any_work(
    frozen, tmp_path, capsys, monkeypatch, output, path, message
):
    if path is not None:
        monkeypatch.setenv("PATH", path)
    code, _, err = _graph(capsys, str(frozen("mlp").path), "-o", str(tmp_path / output))
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert not (tmp_path / output).exists()


def test_not_a_pb_is_one_line(tmp_path, capsys):
    (tmp_path / "x.pb").write_text("hello")
    code, _, err = _graph(capsys, str(tmp_path / "x.pb"), "-o", str(tmp_path / "g.dot"))
    assert code == 2 and err.startswith("tfreeze graph: error:") and err.count("\n") == 1
    assert not (tmp_path / "g.dot").exists()
