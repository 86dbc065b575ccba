"""TF1 graphs as users bring them: saved in the middle of training, with their
loss, optimizer, global step, labels, flags and input pipeline still in the
graph. Each builder returns (real inputs, predictions, training feeds); the
freezer must find the predictions and those inputs on its own."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
from tf1_models import TF1Model

v1 = tf.compat.v1


def _dense(x: Any, units: int, name: str) -> Any:
    with v1.variable_scope(name):
        w = v1.get_variable(
            "kernel", (x.shape[-1], units), initializer=v1.random_normal_initializer(0, 0.3)
        )
        b = v1.get_variable("bias", (units,), initializer=v1.random_normal_initializer(0, 0.1))
        return tf.matmul(x, w) + b


def softmax_classifier() -> tuple[dict, dict, dict]:
    """Softmax prediction plus a sparse cross-entropy loss on a label placeholder."""
    x = v1.placeholder(tf.float32, (None, 6), name="x")
    labels = v1.placeholder(tf.int64, (None,), name="labels")
    logits = _dense(tf.nn.relu(_dense(x, 8, "hidden")), 3, "logits")
    probs = tf.nn.softmax(logits, name="softmax")
    loss = tf.reduce_mean(
        v1.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    )
    v1.train.AdamOptimizer(0.01).minimize(loss, name="train")
    v1.summary.scalar("loss", loss)
    feeds = {"labels": np.array([0, 1, 2], np.int64)}
    return {"x": x}, {"softmax": probs}, feeds


def sum_loss() -> tuple[dict, dict, dict]:
    """The loss is a plain reduction of the prediction: the guess must not be it."""
    x = v1.placeholder(tf.float32, (None, 5), name="x")
    y = tf.identity(_dense(x, 2, "dense"), name="y")
    step = v1.train.get_or_create_global_step()
    v1.train.GradientDescentOptimizer(0.1).minimize(
        tf.reduce_sum(y), global_step=step, name="train"
    )
    return {"x": x}, {"y": y}, {}


def _batch_norm(x: Any, is_training: Any, name: str) -> Any:
    """tf.compat.v1.layers.batch_normalization(training=is_training) as it
    built the graph (that layer needs Keras 2): batch statistics under
    tf.cond, moving averages updated by ops in UPDATE_OPS."""
    from tensorflow.python.training import moving_averages

    with v1.variable_scope(name):
        size = x.shape[-1]
        gamma = v1.get_variable("gamma", (size,), initializer=v1.ones_initializer())
        beta = v1.get_variable("beta", (size,), initializer=v1.zeros_initializer())
        moving_mean = v1.get_variable(
            "moving_mean", (size,), initializer=v1.zeros_initializer(), trainable=False
        )
        moving_var = v1.get_variable(
            "moving_variance", (size,), initializer=v1.ones_initializer(), trainable=False
        )
        batch_mean, batch_var = tf.nn.moments(x, [0])
        mean, var = v1.cond(
            is_training, lambda: (batch_mean, batch_var), lambda: (moving_mean, moving_var)
        )
        for variable, value in ((moving_mean, batch_mean), (moving_var, batch_var)):
            decay = v1.cond(is_training, lambda: tf.constant(0.9), lambda: tf.constant(1.0))
            update = moving_averages.assign_moving_average(variable, value, decay, False)
            v1.add_to_collection(v1.GraphKeys.UPDATE_OPS, update)
        return tf.nn.batch_normalization(x, mean, var, beta, gamma, 1e-3)


def batchnorm_cond_table() -> tuple[dict, dict, dict]:
    """BatchNorm under tf.cond(is_training) with its UPDATE_OPS dependency, a
    string lookup table, a label placeholder and an optimizer."""
    x = v1.placeholder(tf.float32, (None, 4), name="x")
    words = v1.placeholder(tf.string, (None,), name="words")
    is_training = v1.placeholder_with_default(False, (), name="is_training")
    labels = v1.placeholder(tf.float32, (None, 1), name="labels")
    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            tf.constant(["a", "b", "c"]), tf.constant([1.0, 2.0, 3.0])
        ),
        default_value=0.0,
    )
    word_value = tf.expand_dims(table.lookup(words), 1)
    h = _dense(tf.concat([x, word_value], axis=1), 6, "dense1")
    h = _batch_norm(h, is_training, "bn1")
    prediction = tf.sigmoid(_dense(tf.nn.relu(h), 1, "out"), name="prediction")
    loss = v1.losses.mean_squared_error(labels, prediction)
    with tf.control_dependencies(v1.get_collection(v1.GraphKeys.UPDATE_OPS)):
        v1.train.MomentumOptimizer(0.1, 0.9).minimize(
            loss, global_step=v1.train.get_or_create_global_step(), name="train"
        )
    feeds = {"labels": np.ones((3, 1), np.float32), "is_training": True}
    return {"x": x, "words": words}, {"prediction": prediction}, feeds


def dropout_flags() -> tuple[dict, dict, dict]:
    """keep_prob and is_training as plain Placeholders of unknown rank, fed on
    every sess.run: dropout and a tf.cond switch on them."""
    x = v1.placeholder(tf.float32, (None, 5), name="x")
    keep_prob = v1.placeholder(tf.float32, name="keep_prob")
    is_training = v1.placeholder(tf.bool, name="is_training")
    h = v1.nn.dropout(tf.nn.relu(_dense(x, 8, "hidden")), keep_prob=keep_prob)
    h = v1.cond(is_training, lambda: h + tf.random.normal(tf.shape(h), stddev=0.1), lambda: h)
    y = tf.identity(_dense(h, 2, "out"), name="y")
    v1.train.GradientDescentOptimizer(0.1).minimize(tf.reduce_mean(tf.square(y)), name="train")
    return {"x": x}, {"y": y}, {"keep_prob": 0.5, "is_training": True}


# What every sess.run at inference fed besides the real inputs.
INFERENCE_FEEDS = {"dropout_flags": {"keep_prob": 1.0, "is_training": False}}

BUILDERS = {
    "dropout_flags": dropout_flags,
    "softmax_classifier": softmax_classifier,
    "sum_loss": sum_loss,
    "batchnorm_cond_table": batchnorm_cond_table,
}


# The same record as the other TF1 test graphs: directory, names, feeds, expected.
TrainingGraph = TF1Model


def _feeds(inputs: dict[str, Any], rng: np.random.Generator) -> dict[str, np.ndarray]:
    feeds = {}
    for name, tensor in inputs.items():
        shape = [3 if d is None else d for d in tensor.shape.as_list()]
        if tensor.dtype == tf.string:
            feeds[name] = rng.choice(np.array(["a", "b", "c", "zz"], dtype=object), size=shape)
        else:
            feeds[name] = rng.standard_normal(shape).astype(np.float32)
    return feeds


def build(kind: str, directory: Path) -> TrainingGraph:
    """Trains one step (so moving averages and weights move), then writes
    model.ckpt(.meta) with Saver.save and graph.pbtxt with tf.io.write_graph."""
    os.makedirs(directory, exist_ok=True)
    v1.disable_control_flow_v2()  # TF1 graphs: tf.cond as Switch/Merge
    try:
        graph = tf.Graph()
        with graph.as_default():
            v1.set_random_seed(0)
            inputs, outputs, training_feeds = BUILDERS[kind]()
            saver = v1.train.Saver()
            train_op = graph.get_operation_by_name("train")
            with v1.Session(graph=graph) as session:
                session.run([v1.global_variables_initializer(), v1.tables_initializer()])
                feeds = _feeds(inputs, np.random.default_rng(0))
                fed = {inputs[k]: v for k, v in feeds.items()}
                fed.update(
                    {graph.get_tensor_by_name(f"{k}:0"): v for k, v in training_feeds.items()}
                )
                session.run(train_op, fed)
                fed = {inputs[k]: v for k, v in feeds.items()}
                for name, value in INFERENCE_FEEDS.get(kind, {}).items():
                    fed[graph.get_tensor_by_name(f"{name}:0")] = value
                values = session.run(outputs, fed)
                saver.save(session, str(directory / "model.ckpt"))
                tf.io.write_graph(graph.as_graph_def(), str(directory), "graph.pbtxt")
    finally:
        v1.enable_control_flow_v2()
    return TrainingGraph(directory, list(inputs), list(outputs), feeds, values)


def dataset_fed_graph(directory: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    """A frozen TF1 graph trained with tf.data: the image input is a
    PlaceholderWithDefault whose default comes from an initializable iterator
    over a text file named by a Placeholder of unknown rank; a training flag
    besides. Returns the frozen .pb, a batch of images and the prediction."""
    os.makedirs(directory, exist_ok=True)
    (directory / "data.csv").write_text("1,2,3,4\n5,6,7,8\n")
    graph = tf.Graph()
    with graph.as_default():
        v1.set_random_seed(0)
        filename = v1.placeholder(tf.string, name="Placeholder")  # unknown rank
        dataset = tf.data.TextLineDataset(filename).map(
            lambda line: tf.strings.to_number(tf.strings.split(line, ","))
        )
        iterator = v1.data.make_initializable_iterator(dataset.batch(2))
        image = v1.placeholder_with_default(iterator.get_next(), (None, 4), name="image")
        training = v1.placeholder_with_default(False, (), name="training")
        hidden = tf.nn.relu(_dense(image, 6, "hidden"), name="features")
        hidden = tf.where(training, hidden * 0.5, hidden)
        prob = tf.nn.softmax(_dense(hidden, 3, "out"), name="prob")
        with v1.Session(graph=graph) as session:
            session.run(v1.global_variables_initializer())
            images = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
            expected = session.run(prob, {image: images})
            frozen = v1.graph_util.convert_variables_to_constants(
                session, graph.as_graph_def(), ["prob", iterator.initializer.name]
            )
    path = directory / "graph.pb"
    path.write_bytes(frozen.SerializeToString())
    return path, images, expected
