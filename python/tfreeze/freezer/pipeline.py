"""Any TensorFlow/Keras source -> one self-describing, self-verifying .pb.

Stages: open the source (load, trace, convert variables to constants; see
``tfreeze.freezer.sources``), give inputs and outputs the names the user knows,
optimize with grappler in a child process, verify the frozen graph against
the source, store test vectors and the signature, write atomically.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from typing import Any

from tfreeze.compare import ArrayDiff
from tfreeze.errors import FreezeError
from tfreeze.files import check_writable, write_atomically
from tfreeze.freezer.graph_edit import add_signature_node, prune_unused_functions, serialize
from tfreeze.freezer.naming import apply_names, bind_names, signature_of
from tfreeze.freezer.report import FreezeReport
from tfreeze.freezer.sources import FreezeOptions, Opened, Stages, kind_of, open_source
from tfreeze.freezer.sources.legacy_keras import freeze_in_child
from tfreeze.freezer.verification import (
    settle_unknown_ranks,
    store_test_vectors,
    verify_or_fall_back,
)
from tfreeze.runtime.safety import describe_unsafe_ops, unsafe_ops_in

__all__ = ["FreezeOptions", "FreezeReport", "freeze", "freeze_opened"]


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
    ``legacy_keras``, ``allow_unsafe_ops`` (True or op names: a graph holding
    ops that reach outside the model is otherwise written without being
    optimized or verified, with a warning, since both would run it).
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
    if kind == "keras2-h5":
        report = FreezeReport.from_dict(
            freeze_in_child(os.fspath(source), os.fspath(output_path), settings, stages)
        )
        report.stages = {**stages.seconds, **report.stages}
        return report
    started = time.perf_counter()
    opened = _open(source, kind, settings, stages)
    try:
        return freeze_opened(opened, output_path, settings, stages, started)
    except (FreezeError, OSError, TypeError, ValueError):
        raise
    except Exception as error:  # TensorFlow's own failures, e.g. running the graph to verify
        raise FreezeError(
            f"the {stages.current or 'freeze'} stage failed: {type(error).__name__}: "
            f"{_first_line(error)}"
        ) from error
    finally:
        opened.close()


_HEADER_LINES = ("Detected at node", "Node:", "[[", "Original stack trace")


def _first_line(error: BaseException) -> str:
    """The line that says what went wrong: TensorFlow's graph errors open with
    headers ("Graph execution error:", "Detected at node ...") before it."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    telling = [
        line for line in lines if not line.endswith(":") and not line.startswith(_HEADER_LINES)
    ]
    return ((telling or lines or [""])[0])[:300]


def _open(source: Any, kind: str, options: FreezeOptions, stages: Stages) -> Opened:
    """Opens the source; TensorFlow's own failures (a missing checkpoint shard,
    unknown tags, a graph that will not import) become FreezeError."""
    try:
        return open_source(source, kind, options, stages)
    except (FreezeError, OSError, TypeError):
        raise
    except Exception as error:
        raise FreezeError(
            f"could not open {kind} source {_describe(source)}: {type(error).__name__}: "
            f"{_first_line(error)}"
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
    settle_unknown_ranks(graph_def, opened, may_run=not unsafe_warning)
    signature = signature_of(opened)
    verification: dict[str, list[ArrayDiff]] = {}
    if options.verify:
        with stages("verify"):
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
