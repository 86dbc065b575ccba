"""Frozen files check themselves: the freezer stores a few input -> output
cases from the source model, and Model.verify() replays them in C++."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import models
import tfreeze
from models import BUILDERS
from tfreeze.signature import Signature, verify_node


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_every_frozen_model_verifies(frozen, kind):
    report = tfreeze.Model(frozen(kind).path).verify()
    assert report["passed"] and report["cases"] == 2
    assert {c["name"] for c in report["checks"]} == set(
        tfreeze.Model(frozen(kind).path).output_names
    )
    assert all(c["max_abs"] <= 1e-5 for c in report["checks"])


def test_stored_vectors_are_the_models_own_outputs(frozen):
    item = frozen("mlp")
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(item.path.read_bytes())
    nodes = {n.name: n for n in graph_def.node}
    x = tf.make_ndarray(nodes[verify_node(1, "input", 0)].attr["value"].tensor)
    expected = tf.make_ndarray(nodes[verify_node(1, "output", 0)].attr["value"].tensor)
    assert x.shape == (3, 12)  # the second case is batch 3
    np.testing.assert_array_equal(expected, np.asarray(item.model(x, training=False)))
    assert Signature.from_graph_def(graph_def).verify == {"cases": 2, "rtol": 1e-5, "atol": 1e-6}


def tampered_copy(path, tmp_path, delta: float):
    """The file with delta added to the first stored expected output."""
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(path.read_bytes())
    for node in graph_def.node:
        if node.name == verify_node(0, "output", 0):
            value = tf.make_ndarray(node.attr["value"].tensor) + np.float32(delta)
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(value))
    out = tmp_path / "tampered.pb"
    out.write_bytes(graph_def.SerializeToString())
    return out


def test_a_wrong_stored_output_fails_and_is_measured(frozen, tmp_path):
    report = tfreeze.Model(tampered_copy(frozen("mlp").path, tmp_path, 0.25)).verify()
    assert not report["passed"]
    first = report["checks"][0]
    assert not first["passed"] and first["max_abs"] == pytest.approx(0.25, rel=1e-5)
    assert report["checks"][1]["passed"]  # the untouched second case


def test_no_vectors_without_verification(tmp_path):
    tfreeze.freeze(models.mlp(), tmp_path / "m.pb", verify=False)
    with pytest.raises(tfreeze.Error, match="carries no test vectors") as caught:
        tfreeze.Model(tmp_path / "m.pb").verify()
    assert caught.value.code == "FAILED_PRECONDITION"


def test_string_and_integer_models_verify(tmp_path):
    import keras

    text = keras.Input((), dtype="string", name="text")
    count = keras.Input((2,), dtype="int64", name="count")
    model = keras.Model(
        [text, count],
        [keras.layers.Identity(name="echo")(text), keras.layers.Identity(name="same")(count)],
    )
    tfreeze.freeze(model, tmp_path / "mixed.pb")
    assert tfreeze.Model(tmp_path / "mixed.pb").verify()["passed"]


def test_cli_verify_exit_codes(frozen, tmp_path):
    ok = subprocess.run(
        [sys.executable, "-m", "tfreeze", "verify", str(frozen("lstm").path), "--json"],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0 and json.loads(ok.stdout)["passed"]
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "tfreeze",
            "verify",
            str(tampered_copy(frozen("mlp").path, tmp_path, 1.0)),
        ],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1 and "FAIL" in bad.stdout
