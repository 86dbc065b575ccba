"""TF1-style sources built the way the old recipes built them: tf.compat.v1
graph mode, variables, Saver (checkpoint V2), simple_save, freeze_graph-style
GraphDefs. Each builder returns its graph's inputs and outputs by name."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

v1 = tf.compat.v1


def _dense(x: Any, units: int, name: str, activation: Any = None) -> Any:
    with v1.variable_scope(name):
        w = v1.get_variable(
            "kernel", (x.shape[-1], units), initializer=v1.random_normal_initializer(0, 0.3)
        )
        b = v1.get_variable("bias", (units,), initializer=v1.random_normal_initializer(0, 0.1))
        y = tf.matmul(x, w) + b
    return activation(y) if activation is not None else y


def mlp() -> tuple[dict, dict]:
    x = v1.placeholder(tf.float32, (None, 12), name="features")
    h = _dense(x, 16, "hidden", tf.nn.relu)
    # Never trained, constant-initialized: the variable the deny-list tests keep.
    temperature = v1.get_variable(
        "temperature", (), initializer=v1.constant_initializer(2.0), trainable=False
    )
    scores = tf.nn.softmax(_dense(h, 3, "out") / temperature, name="scores")
    return {"features": x}, {"scores": scores}


def cnn() -> tuple[dict, dict]:
    """Conv + fused BatchNorm with stored statistics (inference mode) + dropout rate 0."""
    x = v1.placeholder(tf.float32, (None, 8, 8, 3), name="image")
    kernel = v1.get_variable(
        "conv/kernel", (3, 3, 3, 4), initializer=v1.random_normal_initializer(0, 0.3)
    )
    y = tf.nn.conv2d(x, kernel, 1, "SAME")
    scale = v1.get_variable("bn/gamma", (4,), initializer=v1.random_uniform_initializer(0.5, 1.5))
    offset = v1.get_variable("bn/beta", (4,), initializer=v1.random_normal_initializer(0, 0.1))
    mean = v1.get_variable("bn/moving_mean", (4,), initializer=v1.random_normal_initializer(0, 0.1))
    variance = v1.get_variable(
        "bn/moving_variance", (4,), initializer=v1.random_uniform_initializer(0.5, 2.0)
    )
    y, _, _ = v1.nn.fused_batch_norm(y, scale, offset, mean, variance, is_training=False)
    keep = v1.placeholder_with_default(1.0, (), name="keep_prob")
    y = tf.nn.dropout(tf.nn.relu(y), rate=1.0 - keep)
    y = tf.reduce_mean(y, axis=[1, 2])
    return {"image": x, "keep_prob": keep}, {
        "logits": tf.identity(_dense(y, 5, "logits_dense"), name="logits")
    }


def two_in_two_out() -> tuple[dict, dict]:
    tokens = v1.placeholder(tf.float32, (None, 6), name="tokens")
    extra = v1.placeholder(tf.float32, (None, 4), name="extra")
    hidden = _dense(tf.concat([tokens, extra], axis=1), 8, "hidden", tf.nn.relu)
    zeta = tf.identity(_dense(hidden, 2, "zeta_head"), name="zeta")
    alpha = tf.sigmoid(_dense(hidden, 1, "alpha_head"), name="alpha")
    return {"tokens": tokens, "extra": extra}, {"zeta": zeta, "alpha": alpha}


def rnn() -> tuple[dict, dict]:
    """An LSTM cell unrolled by tf.while_loop (TF1 RNN code without Keras)."""
    sequence = v1.placeholder(tf.float32, (None, 7, 5), name="sequence")
    units = 6
    kernel = v1.get_variable(
        "lstm/kernel", (5 + units, 4 * units), initializer=v1.random_normal_initializer(0, 0.3)
    )
    bias = v1.get_variable("lstm/bias", (4 * units,), initializer=v1.zeros_initializer())
    batch = tf.shape(sequence)[0]
    steps = tf.transpose(sequence, [1, 0, 2])

    def step(t: Any, h: Any, c: Any) -> tuple:
        gates = tf.matmul(tf.concat([steps[t], h], axis=1), kernel) + bias
        i, f, g, o = tf.split(gates, 4, axis=1)
        c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        return t + 1, tf.sigmoid(o) * tf.tanh(c), c

    zeros = tf.zeros(tf.stack([batch, units]))
    _, h, _ = tf.while_loop(lambda t, h, c: t < 7, step, [tf.constant(0), zeros, zeros])
    return {"sequence": sequence}, {"state": tf.identity(_dense(h, 2, "state_dense"), name="state")}


def text() -> tuple[dict, dict]:
    """String input through a StaticHashTable (its initializer in table_initializer)."""
    words = v1.placeholder(tf.string, (None, 3), name="words")
    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            tf.constant(["the", "cat", "sat", "on", "a", "mat"]),
            tf.constant([1, 2, 3, 4, 5, 6], tf.int64),
        ),
        default_value=0,
    )
    ids = table.lookup(words)
    embedding = v1.get_variable("embedding", (7, 4), initializer=v1.random_normal_initializer())
    pooled = tf.reduce_mean(tf.nn.embedding_lookup(embedding, ids), axis=1)
    return {"words": words}, {"pooled": tf.identity(pooled, name="pooled")}


BUILDERS = {"mlp": mlp, "cnn": cnn, "two_in_two_out": two_in_two_out, "rnn": rnn, "text": text}


@dataclass
class TF1Model:
    """One TF1 model saved every way the recipes save it, plus its predictions."""

    directory: Path
    inputs: list[str]
    outputs: list[str]
    feeds: dict[str, np.ndarray]
    expected: dict[str, np.ndarray]

    @property
    def meta(self) -> str:
        return str(self.directory / "model.ckpt.meta")

    @property
    def checkpoint(self) -> str:
        return str(self.directory / "model.ckpt")


def _feeds(inputs: dict[str, Any], rng: np.random.Generator) -> dict[str, np.ndarray]:
    feeds = {}
    for name, tensor in inputs.items():
        if tensor.op.type == "PlaceholderWithDefault":
            continue
        shape = [3 if d is None else d for d in tensor.shape.as_list()]
        if tensor.dtype == tf.string:
            feeds[name] = rng.choice(
                np.array(["the", "cat", "dog", "mat", "zebra"], dtype=object), size=shape
            )
        else:
            feeds[name] = rng.standard_normal(shape).astype(np.float32)
    return feeds


def build(kind: str, directory: Path) -> TF1Model:
    """Writes model.ckpt(.meta), graph.pbtxt, graph.pb, frozen.pb and saved_model/."""
    os.makedirs(directory, exist_ok=True)
    graph = tf.Graph()
    with graph.as_default():
        v1.set_random_seed(0)
        inputs, outputs = BUILDERS[kind]()
        saver = v1.train.Saver()
        with v1.Session(graph=graph) as session:
            session.run([v1.global_variables_initializer(), v1.tables_initializer()])
            feeds = _feeds(inputs, np.random.default_rng(0))
            values = session.run(outputs, {inputs[k]: v for k, v in feeds.items()})
            saver.save(session, str(directory / "model.ckpt"))
            v1.train.write_graph(graph.as_graph_def(), str(directory), "graph.pbtxt", as_text=True)
            v1.train.write_graph(graph.as_graph_def(), str(directory), "graph.pb", as_text=False)
            # freeze_graph.py's recipe: outputs plus initializer_nodes for tables.
            tables = [op.name for op in graph.get_collection(v1.GraphKeys.TABLE_INITIALIZERS)]
            frozen = v1.graph_util.convert_variables_to_constants(
                session, graph.as_graph_def(), [t.op.name for t in outputs.values()] + tables
            )
            (directory / "frozen.pb").write_bytes(frozen.SerializeToString())
            v1.saved_model.simple_save(session, str(directory / "saved_model"), inputs, outputs)
    return TF1Model(directory, list(inputs), list(outputs), feeds, values)
