"""A TF1 checkpoint with its ``.meta`` graph: import_meta_graph + restore,
then frozen like every TF1 session (tf1_session.py). Also restores a
checkpoint into a graph imported from a GraphDef (freeze_graph.py's input)."""

from __future__ import annotations

import os
from typing import Any

from tfreeze.errors import FreezeError
from tfreeze.freezer.sources.base import FreezeOptions, Opened, Stages
from tfreeze.freezer.sources.file_checks import check_meta_graph_source
from tfreeze.freezer.sources.graphs import VARIABLE_OPS
from tfreeze.freezer.sources.tf1_session import check_variable_bytes, choose_init, freeze_restored

__all__ = ["is_checkpoint", "latest_checkpoint", "open_checkpoint", "restore_into"]


def is_checkpoint(path: str) -> bool:
    return (
        path.endswith(".meta")
        or os.path.exists(path + ".index")
        or os.path.isfile(os.path.join(path, "checkpoint"))
    )


def latest_checkpoint(directory: str) -> str | None:
    """The prefix a directory's 'checkpoint' file names. A checkpoint moved
    with its directory (a package's data files) keeps the absolute path it was
    written at; then the same name inside ``directory`` is used."""
    import tensorflow as tf

    state = tf.train.get_checkpoint_state(directory)
    if state is None or not state.model_checkpoint_path:
        return None
    prefix = state.model_checkpoint_path
    if not os.path.isabs(prefix):
        prefix = os.path.join(directory, prefix)
    if os.path.exists(prefix + ".index"):
        return prefix
    moved = os.path.join(directory, os.path.basename(prefix))
    return moved if os.path.exists(moved + ".index") else None


def _meta_graph_without_shape_hints(meta_path: str) -> Any:
    """The MetaGraphDef without ``_output_shapes`` attributes: hints written by
    old TensorFlow that newer shape inference may contradict (a training graph's
    FusedBatchNormGrad), failing the import of a graph that runs fine."""
    import tensorflow as tf

    meta_graph = tf.compat.v1.MetaGraphDef()
    with open(meta_path, "rb") as file:
        meta_graph.ParseFromString(file.read())
    nodes = list(meta_graph.graph_def.node)
    for function in meta_graph.graph_def.library.function:
        nodes.extend(function.node_def)
    for node in nodes:
        if "_output_shapes" in node.attr:
            del node.attr["_output_shapes"]
    return meta_graph


def _resolve_checkpoint(path: str, given: str | None) -> tuple[str, str]:
    """(meta graph file, checkpoint prefix) from a .meta file, a prefix or a directory."""

    if os.path.isdir(path):
        prefix = latest_checkpoint(path)
        if prefix is None:
            raise FreezeError(f"{path!r} has a 'checkpoint' file that names no checkpoint")
        meta = prefix + ".meta"
    elif path.endswith(".meta"):
        meta, prefix = path, path[: -len(".meta")]
    else:
        meta, prefix = path + ".meta", path
    if given:
        prefix = latest_checkpoint(given) or given if os.path.isdir(given) else given
    if not os.path.exists(meta):
        raise FreezeError(
            f"no meta graph {meta!r} beside checkpoint {prefix!r}; pass the graph itself "
            "(a .pb or .pbtxt) as the source with checkpoint=/--checkpoint"
        )
    if not os.path.exists(prefix + ".index"):
        raise FreezeError(f"checkpoint {prefix!r} has no {prefix + '.index'!r} (a V2 checkpoint)")
    return meta, prefix


def _meta_signature_outputs(meta_graph: Any, options: FreezeOptions) -> dict[str, str] | None:
    signatures = meta_graph.signature_def
    name = options.signature_name if options.signature_name in signatures else None
    if name is None and len(signatures) == 1:
        name = next(iter(signatures))
    if name is None:
        return None
    return {k: signatures[name].outputs[k].name for k in sorted(signatures[name].outputs)}


def open_checkpoint(path: str, options: FreezeOptions, stages: Stages) -> Opened:
    import tensorflow as tf

    meta_path, prefix = _resolve_checkpoint(path, options.checkpoint)
    meta_graph = _meta_graph_without_shape_hints(meta_path)
    # Before TensorFlow imports it: the restore below runs the saver's op, then the table fills.
    init = choose_init(meta_graph.graph_def, options, [])
    check_meta_graph_source(meta_graph, init, options, meta_path)
    graph = tf.Graph()
    session = tf.compat.v1.Session(graph=graph)
    try:
        with stages("load"), graph.as_default():
            saver = tf.compat.v1.train.import_meta_graph(
                meta_graph, clear_devices=options.clear_devices
            )
            if saver is None:
                raise FreezeError(f"{meta_path!r} has no variables to restore (no saver)")
            check_variable_bytes(session)  # before restoring reads them into memory
            saver.restore(session, prefix)
        known = _signature_from_meta_file(meta_path, options)
        opened = freeze_restored(session, options, stages, known, kind="tf1-checkpoint")
    except BaseException:
        session.close()
        raise
    opened.name = prefix
    return opened


def _signature_from_meta_file(meta_path: str, options: FreezeOptions) -> dict[str, str] | None:
    import tensorflow as tf

    meta_graph = tf.compat.v1.MetaGraphDef()
    with open(meta_path, "rb") as file:
        meta_graph.ParseFromString(file.read())
    return _meta_signature_outputs(meta_graph, options)


def restore_into(session: Any, checkpoint: str) -> None:
    """Restores every checkpoint entry the graph has a variable for, as
    freeze_graph.py did, for ref and resource variables alike (a Saver over
    imported resource handles cannot be built)."""
    import tensorflow as tf

    prefix = latest_checkpoint(checkpoint) if os.path.isdir(checkpoint) else checkpoint
    if prefix is None or not os.path.exists(prefix + ".index"):
        raise FreezeError(f"checkpoint {checkpoint!r} not found (expected {checkpoint}.index)")
    dtypes = tf.train.load_checkpoint(prefix).get_variable_to_dtype_map()
    graph = session.graph
    variables = {op.name: op for op in graph.get_operations() if op.type in VARIABLE_OPS}
    keys = sorted(key for key in dtypes if key in variables)
    if not keys:
        raise FreezeError(f"checkpoint {prefix!r} holds none of the graph's variables")
    missing = sorted(set(variables) - set(keys))
    if missing:
        raise FreezeError(f"checkpoint {prefix!r} has no value for {', '.join(missing[:5])}")
    with graph.as_default(), tf.name_scope("tfreeze_restore"):
        values = tf.raw_ops.RestoreV2(
            prefix=prefix,
            tensor_names=keys,
            shape_and_slices=[""] * len(keys),
            dtypes=[dtypes[key] for key in keys],
        )
        assigns = [_assign(variables[key], value) for key, value in zip(keys, values, strict=True)]
    session.run(assigns)


def _assign(variable: Any, value: Any) -> Any:
    import tensorflow as tf

    if variable.type == "VarHandleOp":
        return tf.raw_ops.AssignVariableOp(resource=variable.outputs[0], value=value)
    return tf.raw_ops.Assign(ref=variable.outputs[0], value=value)
