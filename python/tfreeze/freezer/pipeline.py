"""Any TensorFlow/Keras source -> one self-describing, self-verifying .pb.

Stages: open the source (load, trace, convert variables to constants; see
``tfreeze.freezer.sources``), give inputs and outputs the names the user knows,
optimize with grappler in a child process, verify the frozen graph against
the source, store test vectors and the signature, write atomically.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from tfreeze.compare import ArrayDiff
from tfreeze.errors import Error, FreezeError
from tfreeze.files import check_writable, write_atomically
from tfreeze.freezer.graph_edit import add_signature_node, prune_unused_functions, serialize
from tfreeze.freezer.naming import apply_names, bind_names, signature_of
from tfreeze.freezer.report import FreezeReport
from tfreeze.freezer.sources import FreezeOptions, Opened, Stages, kind_of, open_source
from tfreeze.freezer.sources.base import SourceLoadError, first_line
from tfreeze.freezer.sources.legacy_keras import freeze_in_child, legacy_loader_name
from tfreeze.freezer.verification import (
    settle_unknown_ranks,
    store_test_vectors,
    verify_or_fall_back,
)
from tfreeze.runtime.safety import describe_unsafe_ops, unsafe_ops_in

__all__ = ["FreezeOptions", "FreezeReport", "freeze", "freeze_opened", "stage_failure"]


def freeze(
    source: Any,
    output_path: str | os.PathLike[str],
    *,
    progress: Callable[[str], None] | None = None,
    **options: Any,
) -> FreezeReport:
    """Freezes ``source`` into ``output_path`` (``.pbtxt``: text, else binary).

    ``source``: a Keras 3 model, a ``.keras`` / ``.h5`` file, a SavedModel
    directory, a TF1 checkpoint (``.meta``, prefix or directory), a GraphDef
    ``.pb``/``.pbtxt`` (with ``checkpoint=`` when it has variables), a
    tf.function with an input_signature, a ConcreteFunction or a tf.Module.
    ``options`` are the fields of :class:`FreezeOptions`: ``input_names`` /
    ``output_names`` (rename, or for TF1 graphs choose the output nodes, as
    ``name`` or ``alias=node:0``), ``keep_control_flow``, ``optimize``,
    ``verify``, ``rtol``/``atol``, ``signature_name``, ``tags``,
    ``saved_model_loader``, ``checkpoint``, ``clear_devices``,
    ``variable_allowlist``/``variable_denylist``, ``initializer_nodes``,
    ``legacy_keras``, ``allow_unsafe_ops`` (True or op names: otherwise a
    source file holding ops that reach outside the model is refused before
    TensorFlow loads it, with tfreeze.Model's UnsafeOpError, and a model or
    function holding them is written without being optimized or verified,
    with a warning, since both would run it). A source file crafted to abort
    TensorFlow is refused with LoadError, whatever is allowed.
    ``progress`` is called with each stage's name as it starts. Nothing is
    written unless every stage succeeds.
    """
    try:
        settings = FreezeOptions(**options)
    except TypeError as error:
        valid = ", ".join(f.name for f in dataclasses.fields(FreezeOptions))
        raise TypeError(f"{error}; freeze() options are: {valid}") from None
    check_writable(output_path)  # before minutes of work, not after
    stages = Stages(progress)
    kind = kind_of(source, settings)
    started = time.perf_counter()
    if kind == "keras2-h5" or (kind == "keras-file" and _is_h5(source)):
        return _freeze_h5(os.fspath(source), kind, output_path, settings, stages, started)
    opened = _open(source, kind, settings, stages)
    return _freeze_guarded(opened, output_path, settings, stages, started)


def _freeze_guarded(
    opened: Opened,
    output_path: str | os.PathLike[str],
    options: FreezeOptions,
    stages: Stages,
    started: float,
) -> FreezeReport:
    try:
        return freeze_opened(opened, output_path, options, stages, started)
    except (FreezeError, OSError, TypeError, ValueError):
        raise
    except Exception as error:  # TensorFlow's own failures, e.g. running the graph to verify
        raise stage_failure(stages, error) from error
    finally:
        opened.close()


def stage_failure(stages: Stages, error: BaseException) -> FreezeError:
    """One line naming the stage that failed and TensorFlow's telling line."""
    return FreezeError(
        f"the {stages.current or 'freeze'} stage failed: {type(error).__name__}: "
        f"{first_line(error)}"
    )


def _is_h5(source: Any) -> bool:
    return isinstance(source, (str, os.PathLike)) and os.fspath(source).endswith((".h5", ".hdf5"))


def _freeze_h5(
    path: str,
    kind: str,
    output_path: str | os.PathLike[str],
    options: FreezeOptions,
    stages: Stages,
    started: float,
) -> FreezeReport:
    """A .h5 file: loaded by the Keras its keras_version names (tf_keras in a
    child process for Keras 2); when that loader fails and the user did not
    choose one, by the other. The report says which loader was used and why."""
    from tfreeze.freezer.sources.keras_source import h5_keras_version

    written_by = f"the file says Keras {h5_keras_version(path) or '(version not recorded)'}"
    legacy_first = kind == "keras2-h5"
    try:
        return _freeze_h5_with(path, legacy_first, output_path, options, stages, started, [])
    except SourceLoadError as first:
        if options.legacy_keras is not None:
            raise FreezeError(f"{first}; {written_by}") from None
        why = f"{written_by}, but {first.loader} could not load it: {first.reason}"
        try:
            return _freeze_h5_with(
                path, not legacy_first, output_path, options, stages, started, [why]
            )
        except SourceLoadError as second:
            raise FreezeError(
                f"neither Keras loader could load {path!r} ({written_by}): {first.loader}: "
                f"{first.reason}; {second.loader}: {second.reason}"
            ) from None


def _freeze_h5_with(
    path: str,
    legacy: bool,
    output_path: str | os.PathLike[str],
    options: FreezeOptions,
    stages: Stages,
    started: float,
    why: list[str],
) -> FreezeReport:
    if legacy:
        report = FreezeReport.from_dict(
            freeze_in_child(path, os.fspath(output_path), options, stages)
        )
        report.stages = {**stages.seconds, **report.stages}
        report.notes = [_loader_note(legacy_loader_name(), why), *report.notes]
        return report
    import keras

    opened = _open(path, "keras-file", options, stages)
    opened.notes.insert(0, _loader_note(f"Keras {keras.__version__}", why))
    return _freeze_guarded(opened, output_path, options, stages, started)


def _loader_note(loader: str, why: list[str]) -> str:
    return f"loaded with {loader}" + (f": {why[0]}" if why else "")


def _open(source: Any, kind: str, options: FreezeOptions, stages: Stages) -> Opened:
    """Opens the source; TensorFlow's own failures (a missing checkpoint shard,
    unknown tags, a graph that will not import) become FreezeError. tfreeze's
    own stay as they are: a file the loader's checks refuse raises what
    tfreeze.Model would (UnsafeOpError, LoadError)."""
    try:
        return open_source(source, kind, options, stages)
    except (Error, OSError, TypeError):
        raise
    except Exception as error:
        raise FreezeError(
            f"could not open {kind} source {_describe(source)}: {type(error).__name__}: "
            f"{first_line(error)}"
        ) from error


def _describe(source: Any) -> str:
    return (
        repr(os.fspath(source)) if isinstance(source, (str, os.PathLike)) else type(source).__name__
    )


def freeze_opened(
    opened: Opened,
    output_path: str | os.PathLike[str],
    options: FreezeOptions,
    stages: Stages,
    started: float | None = None,
) -> FreezeReport:
    """The stages after opening: names, optimize, verify, sign, write."""
    started = time.perf_counter() if started is None else started
    apply_names(opened, options)
    with stages("sign"):
        bind_names(opened)
        prune_unused_functions(opened.graph_def)
    options, unsafe_warning = _hold_back_unsafe_ops(opened, options)
    graph_def, optimization, warnings = _optimize(opened, options, stages)
    warnings = unsafe_warning + warnings
    settle_unknown_ranks(graph_def, opened, options, may_run=not unsafe_warning)
    signature = signature_of(opened)
    verification: dict[str, list[ArrayDiff]] = {}
    if options.verify:
        with stages("verify"), _blaming_kept_variables(options):
            graph_def, verification, cases, warning = verify_or_fall_back(
                graph_def, opened, signature, options
            )
        if warning:
            warnings.append(warning)
            optimization = None
        signature = store_test_vectors(graph_def, signature, cases, options)
    with stages("write"):
        add_signature_node(graph_def, signature)
        data = serialize(graph_def, text=os.fspath(output_path).endswith(".pbtxt"))
        write_atomically(output_path, data)
    return FreezeReport(
        output_path=os.fspath(output_path),
        inputs=list(signature.inputs),
        outputs=list(signature.outputs),
        node_count=len(graph_def.node),
        byte_size=len(data),
        seconds=time.perf_counter() - started,
        verification=verification,
        source_kind=opened.kind,
        stages=dict(stages.seconds),
        optimization=optimization,
        init=list(opened.init),
        notes=list(opened.notes),
        warnings=warnings,
    )


def _hold_back_unsafe_ops(
    opened: Opened, options: FreezeOptions
) -> tuple[FreezeOptions, list[str]]:
    """A graph with ops that reach outside the model (files, network, the
    process) is frozen as it is, but nothing of it runs unless they are allowed:
    grappler's constant folding could run them, verification would."""
    found = unsafe_ops_in(opened.graph_def.SerializeToString(), options.allow_unsafe_ops)
    if not found:
        return options, []
    ops = ",".join(dict.fromkeys(f["op"] for f in found))
    warning = (
        f"the graph holds ops that reach outside the model: {describe_unsafe_ops(found)}. "
        "They were not run: the graph was neither optimized nor verified. tfreeze.Model "
        f"refuses the file unless they are allowed (allow_unsafe_ops=[...], --allow-unsafe-ops "
        f"{ops}); freeze with the same option to optimize and verify it"
    )
    return dataclasses.replace(options, optimize=False, verify=False), [warning]


@contextlib.contextmanager
def _blaming_kept_variables(options: FreezeOptions) -> Iterator[None]:
    """Variables an allow/deny list keeps start from their initializers, not
    the checkpoint, so the frozen graph disagrees with the source: say which
    option did it."""
    try:
        yield
    except FreezeError as error:
        chosen = [
            f"--variable-{kind} {','.join(names)}"
            for kind, names in (
                ("denylist", options.variable_denylist),
                ("allowlist", options.variable_allowlist),
            )
            if names
        ]
        if not chosen or "differs from the source" not in str(error):
            raise
        raise FreezeError(
            f"{error}. {' and '.join(chosen)} kept variables as variables, and those start "
            "from their initializers, not the checkpoint's values; if that is intended, "
            "freeze with --no-verify (verify=False), else drop the option"
        ) from error


def _optimize(
    opened: Opened, options: FreezeOptions, stages: Stages
) -> tuple[Any, dict[str, int] | None, list[str]]:
    if not options.optimize:
        return opened.graph_def, None, []
    from tfreeze.freezer.optimize import optimize_graph

    with stages("optimize"):
        result = optimize_graph(
            opened.graph_def,
            [(p.tensor, p.dtype) for p in opened.inputs],
            [p.tensor for p in opened.outputs] + list(opened.init),
        )
    if result.error:
        return opened.graph_def, None, [f"not optimized: {result.error}"]
    return (
        result.graph_def,
        {
            "nodes_before": len(opened.graph_def.node),
            "nodes_after": len(result.graph_def.node),
            "bytes_before": opened.graph_def.ByteSize(),
            "bytes_after": result.graph_def.ByteSize(),
        },
        [],
    )
