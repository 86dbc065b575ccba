"""Optional inputs and init ops, from a graph built in Python: the C++ runtime
and Python TensorFlow must both honour them, with the same results."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import tfreeze
from tfreeze.freezer.graph_edit import add_signature_node
from tfreeze.runtime.feeds import random_feeds_for
from tfreeze.runtime.python_session import PythonSession
from tfreeze.signature import IOEntry, Signature

WORDS = np.array([b"dog", b"cat", b"emu"], dtype=object)
X = np.array([1.0, 2.0, 3.0], np.float32)


def _signature(init: tuple[str, ...]) -> Signature:
    return Signature(
        inputs=(
            IOEntry("x", "x:0", "float32", (-1,)),
            IOEntry("scale", "scale:0", "float32", (), optional=True),
            IOEntry("word", "word:0", "string", (-1,)),
        ),
        outputs=(
            IOEntry("y", "y:0", "float32", (-1,)),
            IOEntry("id", "id:0", "int64", (-1,)),
        ),
        producer={"source": "test"},
        init=init,
    )


def _graph_def_and_init() -> tuple[tf.compat.v1.GraphDef, str]:
    """y = x * scale (scale defaults to 2); id = a table lookup of word."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None], name="x")
        scale = tf.compat.v1.placeholder_with_default(tf.constant(2.0), [], name="scale")
        word = tf.compat.v1.placeholder(tf.string, [None], name="word")
        table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(["cat", "dog"]), tf.constant([1, 2], tf.int64)
            ),
            default_value=-1,
        )
        tf.identity(x * scale, name="y")
        tf.identity(table.lookup(word), name="id")
    (init,) = graph.get_collection(tf.compat.v1.GraphKeys.TABLE_INITIALIZERS)
    return graph.as_graph_def(), init.name


@pytest.fixture(scope="module")
def path(tmp_path_factory: pytest.TempPathFactory):
    graph_def, init = _graph_def_and_init()
    add_signature_node(graph_def, _signature((init,)))
    out = tmp_path_factory.mktemp("extras") / "extras.pb"
    out.write_bytes(graph_def.SerializeToString(deterministic=True))
    return out


@pytest.fixture(scope="module")
def model(path):
    return tfreeze.Model(path)


@pytest.fixture(scope="module")
def session(path):
    with PythonSession(path) as opened:
        yield opened


def test_the_optional_input_is_marked(model):
    assert [spec.optional for spec in model.inputs] == [False, True, False]
    assert model.inputs[1].as_dict() == {
        "name": "scale",
        "dtype": "float32",
        "shape": [],
        "optional": True,
    }
    assert "optional" not in model.inputs[0].as_dict()
    assert not any(spec.optional for spec in model.outputs)


def test_init_ops_fill_the_table_in_both_runtimes(model, session):
    feeds = {"x": X, "word": WORDS}
    cpp, python = model.run(feeds), session.run(feeds)
    np.testing.assert_array_equal(cpp["id"], [2, 1, -1])
    np.testing.assert_array_equal(python["id"], cpp["id"])


def test_an_unfed_optional_input_takes_its_default(model, session):
    feeds = {"x": X, "word": WORDS}
    np.testing.assert_array_equal(model.run(feeds)["y"], [2, 4, 6])
    np.testing.assert_array_equal(session.run(feeds)["y"], [2, 4, 6])


def test_feeding_the_optional_input_overrides_the_default(model, session):
    feeds = {"x": X, "scale": np.float32(10), "word": WORDS}
    np.testing.assert_array_equal(model.run(feeds)["y"], [10, 20, 30])
    np.testing.assert_array_equal(session.run(feeds)["y"], [10, 20, 30])


def test_a_missing_required_input_lists_required_and_optional(model):
    with pytest.raises(tfreeze.InputError) as caught:
        model.run({"x": X})
    assert str(caught.value) == (
        'missing input "word"; required inputs are: x, word; optional inputs are: scale'
    )


def test_an_init_node_missing_from_the_graph_is_a_load_error():
    graph_def, _ = _graph_def_and_init()
    add_signature_node(graph_def, _signature(("nowhere",)))
    with pytest.raises(tfreeze.LoadError, match='the graph has no init node "nowhere"'):
        tfreeze.Model.from_bytes(graph_def.SerializeToString())


def test_random_feeds_skip_optional_inputs_unless_asked():
    entries = Signature.from_bytes(_signature(()).to_bytes()).inputs
    assert sorted(random_feeds_for(entries)) == ["word", "x"]
    assert sorted(random_feeds_for(entries, include_optional=True)) == ["scale", "word", "x"]


def test_the_json_round_trips_and_omits_unused_keys():
    signature = _signature(("table_init",))
    assert Signature.from_bytes(signature.to_bytes()) == signature
    plain = Signature(
        (IOEntry("x", "x:0", "float32", (-1,)),), (IOEntry("y", "y:0", "float32", (-1,)),)
    )
    assert b"optional" not in plain.to_bytes() and b"init" not in plain.to_bytes()
    assert Signature.from_bytes(plain.to_bytes()) == plain
