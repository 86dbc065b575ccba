"""What a frozen file says about itself, and how freeze() writes it."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import models
import tfreeze
from tfreeze.signature import Signature


def test_signature_has_keras_names_dtypes_shapes_in_model_order(frozen):
    model = tfreeze.Model(frozen("two_in_two_out").path)
    # Model order, not tf.nest's alphabetical order ("alpha" < "zeta").
    assert model.input_names == ["tokens", "extra"]
    assert model.output_names == ["zeta", "alpha"]
    assert model.inputs[0] == tfreeze.TensorSpec("tokens", np.dtype("float32"), (None, 6))
    assert model.outputs[1] == tfreeze.TensorSpec("alpha", np.dtype("float32"), (None, 1))


def test_layer_names_name_sequential_and_functional_io(frozen):
    cnn = tfreeze.Model(frozen("cnn").path)
    assert (cnn.input_names, cnn.output_names) == (["image"], ["logits"])
    assert cnn.inputs[0].shape == (None, 16, 16, 3)


def test_dict_outputs_map_to_the_right_heads(frozen):
    """Names must follow the values: alpha is the sigmoid head, in (0, 1)."""
    item = frozen("two_in_two_out")
    model = tfreeze.Model(item.path)
    out = model.run(model.random_feeds(batch_size=6))
    assert out["alpha"].shape == (6, 1) and out["zeta"].shape == (6, 2)
    assert np.all((out["alpha"] > 0) & (out["alpha"] < 1))


def test_plain_tensorflow_imports_the_file_and_fetches_by_name(frozen):
    item = frozen("mlp")
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(item.path.read_bytes())
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name="")
    x = np.ones((2, 12), np.float32)
    with tf.compat.v1.Session(graph=graph) as session:
        scores = session.run("scores:0", {"features:0": x})
    np.testing.assert_allclose(scores, tfreeze.Model(item.path).run(x)["scores"], rtol=1e-6)


def test_signature_is_readable_from_the_graph_def(frozen):
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(frozen("lstm").path.read_bytes())
    signature = Signature.from_graph_def(graph_def)
    assert [e.name for e in signature.inputs] == ["sequence"]
    assert signature.inputs[0].shape == (-1, 7, 5)
    assert signature.producer["tensorflow"] == tf.__version__
    assert not any(
        n.op in ("VarHandleOp", "ReadVariableOp", "Placeholder") and n.name != "sequence"
        for n in graph_def.node
    )


def test_freezing_twice_is_byte_identical(tmp_path):
    model = models.cnn()
    tfreeze.freeze(model, tmp_path / "a.pb")
    tfreeze.freeze(model, tmp_path / "b.pb")
    assert (tmp_path / "a.pb").read_bytes() == (tmp_path / "b.pb").read_bytes()


def test_freezing_a_keras_file_in_two_processes_is_byte_identical(tmp_path):
    models.two_in_two_out().save(tmp_path / "m.keras")
    script = "import sys, tfreeze; tfreeze.freeze(sys.argv[1], sys.argv[2])"
    for name in ("a.pb", "b.pb"):
        subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / "m.keras"), str(tmp_path / name)],
            check=True,
        )
    assert (tmp_path / "a.pb").read_bytes() == (tmp_path / "b.pb").read_bytes()


def test_names_can_be_replaced(tmp_path):
    report = tfreeze.freeze(
        models.two_in_two_out(),
        tmp_path / "m.pb",
        input_names=["ids", "side"],
        output_names=["z", "a"],
    )
    model = tfreeze.Model(tmp_path / "m.pb")
    assert (model.input_names, model.output_names) == (["ids", "side"], ["z", "a"])
    assert [e.name for e in report.outputs] == ["z", "a"]


def test_names_that_are_not_node_names_still_work(tmp_path):
    tfreeze.freeze(
        models.mlp(), tmp_path / "m.pb", input_names=["my input"], output_names=["class scores"]
    )
    model = tfreeze.Model(tmp_path / "m.pb")
    out = model.run({"my input": np.zeros((1, 12), np.float32)})
    assert out["class scores"].shape == (1, 3)


def test_wrong_number_of_names_lists_the_models_names(tmp_path):
    with pytest.raises(tfreeze.FreezeError, match="model's outputs are, in order: zeta, alpha"):
        tfreeze.freeze(models.two_in_two_out(), tmp_path / "m.pb", output_names=["only"])


def test_duplicate_names_are_refused(tmp_path):
    with pytest.raises(tfreeze.FreezeError, match="repeated: x"):
        tfreeze.freeze(models.mlp(), tmp_path / "m.pb", input_names=["x"], output_names=["x"])


def test_failed_freeze_leaves_no_file_and_keeps_an_old_one(tmp_path):
    out = tmp_path / "m.pb"
    with pytest.raises(tfreeze.FreezeError):
        tfreeze.freeze(models.mlp(), out, output_names=["a", "b"])
    assert os.listdir(tmp_path) == []
    out.write_bytes(b"previous")
    with pytest.raises(tfreeze.FreezeError):
        tfreeze.freeze(models.mlp(), out, output_names=["a", "b"])
    assert out.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["m.pb"]


def test_keras_file_source(tmp_path):
    model = models.mlp()
    model.save(tmp_path / "mlp.keras")
    tfreeze.freeze(str(tmp_path / "mlp.keras"), tmp_path / "mlp.pb")
    x = np.random.default_rng(0).standard_normal((3, 12)).astype(np.float32)
    np.testing.assert_allclose(
        tfreeze.Model(tmp_path / "mlp.pb").run(x)["scores"],
        np.asarray(model(x)),
        rtol=1e-5,
        atol=1e-6,
    )


def test_unsupported_and_missing_sources_are_clear(tmp_path):
    (tmp_path / "model.onnx").write_bytes(b"x")
    with pytest.raises(tfreeze.FreezeError, match="tfreeze takes"):
        tfreeze.freeze(str(tmp_path / "model.onnx"), tmp_path / "m.pb")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        tfreeze.freeze(str(tmp_path / "nope.keras"), tmp_path / "m.pb")
    with pytest.raises(tfreeze.FreezeError, match="tfreeze takes"):
        tfreeze.freeze(42, tmp_path / "m.pb")
