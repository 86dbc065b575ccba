"""A TF1 GraphDef (.pb / .pbtxt): with a checkpoint its variables are
restored and frozen (what freeze_graph.py took); without one it must already
be frozen, and is re-signed (pruned to the outputs, inputs found or cut)."""

from __future__ import annotations

import os
from typing import Any

from tfreeze.errors import FreezeError
from tfreeze.freezer.sources.base import FreezeOptions, Opened, Stages
from tfreeze.freezer.sources.file_checks import check_graph_source
from tfreeze.freezer.sources.graphs import exists, prune, read_graph_def, variable_nodes
from tfreeze.freezer.sources.tf1_checkpoint import restore_into
from tfreeze.freezer.sources.tf1_session import (
    check_variable_bytes,
    choose_init,
    choose_outputs,
    freeze_restored,
    opened_with_inputs,
    ports_for,
    run_init,
)

__all__ = ["open_graph_def"]


def open_graph_def(path: str, options: FreezeOptions, stages: Stages) -> Opened:
    """A .pb / .pbtxt: with a checkpoint its variables are restored (freeze_graph.py);
    without one it must already be frozen and is re-signed."""
    import tensorflow as tf

    with stages("load"):
        graph_def = read_graph_def(exists(path))
        _strip_tfreeze_nodes(graph_def)
        if options.clear_devices:
            for node in graph_def.node:
                node.device = ""
        variables = variable_nodes(graph_def)
        if variables and options.checkpoint is None:
            raise FreezeError(
                f"{path!r} has variables ({', '.join(variables[:5])}"
                f"{', ...' if len(variables) > 5 else ''}) but no checkpoint was given; pass "
                "checkpoint= / --checkpoint with the checkpoint that holds their values"
            )
        # Before TensorFlow imports it; of its ops, opening runs the table fills only.
        check_graph_source(graph_def, choose_init(graph_def, options, []), options, path)
        graph = tf.Graph()
        with graph.as_default():
            tf.import_graph_def(graph_def, name="")
        session = tf.compat.v1.Session(graph=graph)
    try:
        if variables:
            with stages("load"):
                check_variable_bytes(session)  # before restoring reads them into memory
                restore_into(session, options.checkpoint)
            opened = freeze_restored(session, options, stages, None, kind="graph-def+checkpoint")
        else:
            opened = _resign(session, graph_def, options, stages)
    except BaseException:
        session.close()
        raise
    opened.name = os.path.basename(path)
    return opened


def _strip_tfreeze_nodes(graph_def: Any) -> None:
    """Drops a tfreeze file's signature and test vectors (they are made anew);
    keeps its table initializers, which the graph needs."""
    kept = [
        node
        for node in graph_def.node
        if not node.name.startswith("tfreeze/") or node.name.startswith("tfreeze/init/")
    ]
    if len(kept) != len(graph_def.node):
        del graph_def.node[:]
        graph_def.node.extend(kept)


def _resign(session: Any, graph_def: Any, options: FreezeOptions, stages: Stages) -> Opened:
    notes: list[str] = []
    graph = session.graph
    outputs = ports_for(graph, choose_outputs(graph_def, options, None, notes, graph))
    init = choose_init(graph_def, options, notes)
    with stages("convert"):
        pruned = prune(graph_def, [p.node for p in outputs] + init)
    run_init(session, init)
    return opened_with_inputs("graph-def", session, pruned, outputs, init, notes, options)
