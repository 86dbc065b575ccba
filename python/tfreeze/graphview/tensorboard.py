"""The graph as a TensorBoard event file: ``tensorboard --logdir LOGDIR``
shows it on its Graphs tab. Written with TensorFlow's own summary writer."""

from __future__ import annotations

import os
from typing import Any

from tfreeze.graphview.stats import is_tfreeze_node

__all__ = ["write_tensorboard"]


def write_tensorboard(graph_def: Any, logdir: str | os.PathLike[str]) -> str:
    """Writes one event file holding the GraphDef (tfreeze metadata left out);
    returns its path."""
    import tensorflow as tf

    shown = tf.compat.v1.GraphDef()
    shown.versions.CopyFrom(graph_def.versions)
    shown.library.CopyFrom(graph_def.library)
    shown.node.extend(n for n in graph_def.node if not is_tfreeze_node(n.name))
    os.makedirs(logdir, exist_ok=True)
    before = set(os.listdir(logdir))
    writer = tf.summary.create_file_writer(os.fspath(logdir))
    with writer.as_default():
        tf.summary.graph(shown)
    writer.close()
    (written,) = set(os.listdir(logdir)) - before
    return os.path.join(os.fspath(logdir), written)
