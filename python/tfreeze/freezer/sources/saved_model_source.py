"""SavedModel directories: TF2 (tf.saved_model.save, Keras export) through
tf.saved_model.load, and TF1 (simple_save, old Keras/TF) through the TF1
loader when the TF2 one rejects the directory or is told not to be used."""

from __future__ import annotations

from typing import Any

import numpy as np

from tfreeze.errors import FreezeError
from tfreeze.freezer.sources.base import FreezeOptions, Opened, Stages
from tfreeze.freezer.sources.file_checks import check_meta_graph_source, check_saved_model
from tfreeze.freezer.sources.functions import freeze_concrete
from tfreeze.freezer.sources.tf1_session import (
    choose_init,
    freeze_session,
    ports_for,
    run_init,
    session_opened,
)

__all__ = ["open_saved_model"]

_LOADERS = ("auto", "tf2", "tf1")


def open_saved_model(path: str, options: FreezeOptions, stages: Stages) -> Opened:
    if options.saved_model_loader not in _LOADERS:
        raise FreezeError(
            f"unknown SavedModel loader {options.saved_model_loader!r}; choose one of "
            + ", ".join(_LOADERS)
        )
    # Either loader runs the SavedModel's restore and init ops: what tfreeze.Model
    # refuses is refused before it loads.
    check_saved_model(path, options)
    if options.saved_model_loader == "tf1" or (
        options.saved_model_loader == "auto" and _written_by_tf1(path)
    ):
        return _open_tf1(path, options, stages)
    try:
        with stages("load"):
            loaded = _load_tf2(path, options)
    except FreezeError:
        raise
    except Exception as error:
        if options.saved_model_loader == "tf2":
            raise FreezeError(f"tf.saved_model.load rejected {path!r}: {error}") from error
        opened = _open_tf1(path, options, stages)
        first_line = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        opened.notes.append(
            f"tf.saved_model.load rejected the directory ({type(error).__name__}: {first_line}); "
            "loaded it with the TF1 loader instead"
        )
        return opened
    return _open_tf2(loaded, path, options, stages)


def _written_by_tf1(path: str) -> bool:
    """TF1 writers (simple_save, SavedModelBuilder) store no object graph; their
    own loader keeps what the TF2 one drops (PlaceholderWithDefault, main_op)."""
    from tensorflow.python.saved_model import loader_impl

    try:
        saved_model = loader_impl.parse_saved_model(path)
    except OSError as error:
        raise FreezeError(f"{path!r} is not a readable SavedModel: {error}") from error
    return not any(meta.object_graph_def.nodes for meta in saved_model.meta_graphs)


def _choose(available: list[str], wanted: str, path: str) -> str:
    if wanted in available:
        return wanted
    raise FreezeError(
        f"SavedModel {path!r} has no signature {wanted!r}; its signatures are: "
        + (", ".join(sorted(available)) or "none (save it with a signature)")
    )


def _load_tf2(path: str, options: FreezeOptions) -> Any:
    import tensorflow as tf

    return tf.saved_model.load(path, tags=options.tags or None)


def _open_tf2(loaded: Any, path: str, options: FreezeOptions, stages: Stages) -> Opened:
    import tensorflow as tf

    name = _choose(list(loaded.signatures.keys()), options.signature_name, path)
    function = loaded.signatures[name]
    input_keys = sorted(function.structured_input_signature[1])
    outputs = function.structured_outputs
    output_keys = sorted(outputs) if isinstance(outputs, dict) else None
    if output_keys is None:
        output_keys = [f"output_{i}" for i in range(len(tf.nest.flatten(outputs)))]
    with stages("convert"):
        frozen = freeze_concrete(
            function, input_keys, output_keys, keep_control_flow=options.keep_control_flow
        )

    def reference(values: list[np.ndarray]) -> list[np.ndarray]:
        result = function(**{k: tf.constant(v) for k, v in zip(input_keys, values, strict=True)})
        flat = (
            [result[k] for k in output_keys]
            if isinstance(result, dict)
            else tf.nest.flatten(result)
        )
        return [np.asarray(v) for v in flat]

    return Opened(
        kind="saved-model",
        name=f"{path} [{name}]",
        graph_def=frozen.graph_def,
        inputs=frozen.inputs,
        outputs=frozen.outputs,
        reference=reference,
        init=frozen.init,
        closers=[lambda: loaded],  # keeps the loaded object (and its tables) alive until closed
    )


def _open_tf1(path: str, options: FreezeOptions, stages: Stages) -> Opened:
    import tensorflow as tf

    _check_table_fills(path, options)
    graph = tf.Graph()
    session = tf.compat.v1.Session(graph=graph)
    try:
        with stages("load"), graph.as_default():
            meta = tf.compat.v1.saved_model.loader.load(
                session, options.tags, path, clear_devices=options.clear_devices
            )
        name = _choose(list(meta.signature_def), options.signature_name, path)
        signature = meta.signature_def[name]
        inputs = ports_for(graph, {k: signature.inputs[k].name for k in sorted(signature.inputs)})
        outputs = ports_for(
            graph, {k: signature.outputs[k].name for k in sorted(signature.outputs)}
        )
        notes: list[str] = []
        init = choose_init(graph.as_graph_def(), options, notes)
        run_init(session, init)
        with stages("convert"):
            graph_def = freeze_session(session, outputs, init, options)
    except BaseException:
        session.close()
        raise
    opened = session_opened(
        "saved-model-tf1", session, graph_def, inputs, outputs, init, notes, selected_outputs=False
    )
    opened.name = f"{path} [{name}]"
    return opened


def _check_table_fills(path: str, options: FreezeOptions) -> None:
    """After the TF1 loader's restore and init ops (checked with the directory),
    the freezer fills the tables itself: those ops count as init ops too."""
    from tensorflow.python.saved_model import loader_impl

    for meta in loader_impl.parse_saved_model(path).meta_graphs:
        if set(meta.meta_info_def.tags) == set(options.tags):
            init = choose_init(meta.graph_def, options, [])
            if init:
                check_meta_graph_source(meta, init, options, path)
