"""The C++ loader's checks on a source file before Python TensorFlow imports
or loads it (docs/reliability.md, "Every reader of a file checks it as the
loader does"), with the same errors as ``tfreeze.Model``:

- a graph crafted to abort TensorFlow is refused, whatever is allowed;
- a SavedModel directory is checked exactly as the loader checks it: loading
  it runs its restore and init ops;
- of a GraphDef or a TF1 .meta, the ops the freezer runs while it opens the
  source (the saver's restore, table fills) are held to the unsafe-op rule.
  The rest runs only once frozen, where the pipeline holds back unsafe ops as
  for any model; a tf.data pipeline that fed the graph is cut away there.

Keras files (.keras, .h5) hold no GraphDef to check before Keras loads them."""

from __future__ import annotations

from typing import Any

from tfreeze.freezer.sources.base import FreezeOptions
from tfreeze.runtime.safety import check_file, check_graph_def, check_meta_graph

__all__ = ["check_graph_source", "check_meta_graph_source", "check_saved_model"]

# The collection TensorFlow's TF1 loader runs after the restore: the ops the
# freezer itself runs after restoring (table fills) are judged as its ops are.
_INIT_COLLECTION = "legacy_init_op"


def check_saved_model(path: str, options: FreezeOptions) -> None:
    """Exactly what ``tfreeze.Model(path)`` checks of a SavedModel directory."""
    check_file(path, options.allow_unsafe_ops)


def check_graph_source(graph_def: Any, runs: list[str], options: FreezeOptions, path: str) -> None:
    """A GraphDef as TensorFlow will import it, of which the freezer runs `runs`."""
    check_graph_def(graph_def.SerializeToString(), True, repr(path))
    if runs:
        ran = ran_part(graph_def, runs)
        check_graph_def(ran.SerializeToString(), options.allow_unsafe_ops, repr(path))


def check_meta_graph_source(
    meta_graph: Any, runs: list[str], options: FreezeOptions, path: str
) -> None:
    """A MetaGraphDef whose saver's restore the freezer runs, then `runs`: the
    restore may read the checkpoint it is fed, as a SavedModel's may."""
    import tensorflow as tf

    check_meta_graph(meta_graph.SerializeToString(), True, repr(path))
    restore = meta_graph.saver_def.restore_op_name
    checked = tf.compat.v1.MetaGraphDef()
    checked.CopyFrom(meta_graph)
    checked.graph_def.CopyFrom(ran_part(meta_graph.graph_def, [restore, *runs]))
    if runs:
        checked.collection_def[_INIT_COLLECTION].node_list.value.extend(runs)
    check_meta_graph(checked.SerializeToString(), options.allow_unsafe_ops, repr(path))


def ran_part(graph_def: Any, runs: list[str]) -> Any:
    """What running `runs` executes: the nodes they reach through inputs,
    and the functions those nodes call (only those: a tf.data pipeline's
    functions stay out unless a run reaches the pipeline)."""
    import tensorflow as tf

    present = {node.name for node in graph_def.node}
    reached = tf.compat.v1.graph_util.extract_sub_graph(
        graph_def, [name for name in runs if name in present]
    )
    called = _called_functions(reached)
    kept = [f for f in reached.library.function if f.signature.name in called]
    del reached.library.function[:]
    del reached.library.gradient[:]
    reached.library.function.extend(kept)
    return reached


def _called_functions(graph_def: Any) -> set[str]:
    library = {function.signature.name: function for function in graph_def.library.function}
    called: set[str] = set()
    pending = list(graph_def.node)
    while pending:
        node = pending.pop()
        names = [node.op]  # a function called as an op
        for attr in node.attr.values():
            names += [attr.func.name] + [function.name for function in attr.list.func]
        for name in names:
            if name in library and name not in called:
                called.add(name)
                pending.extend(library[name].node_def)
    return called
