"""What every TF1 source shares: a tf.compat.v1.Session whose variables are
restored (from a checkpoint, a SavedModel's loader) becomes a frozen GraphDef:
outputs chosen (given, a signature's, or guessed), table fills found, variables
turned into constants, inputs found or the graph cut at chosen tensors."""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any

from tfreeze.errors import FreezeError
from tfreeze.freezer.sources.base import (
    FreezeOptions,
    Opened,
    Port,
    Stages,
    signature_dims,
    tensor_name,
)
from tfreeze.freezer.sources.cut import cut_inputs, pipeline_fed_defaults
from tfreeze.freezer.sources.graphs import (
    VARIABLE_OPS,
    find_inputs,
    guess_outputs,
    prune,
    session_reference,
    table_initializers,
    variable_nodes,
)
from tfreeze.freezer.sources.output_guess import guess

__all__ = [
    "check_variable_bytes",
    "choose_init",
    "choose_outputs",
    "freeze_restored",
    "freeze_session",
    "opened_with_inputs",
    "ports_for",
    "run_init",
    "session_opened",
]

_ASSIGN_OPS = ("Assign", "AssignVariableOp")


def ports_for(graph: Any, named: dict[str, str]) -> list[Port]:
    """Ports for {user name: graph tensor name} of a tf.Graph."""
    ports = []
    for name, tensor in named.items():
        try:
            value = graph.get_tensor_by_name(tensor_name(tensor))
        except (KeyError, ValueError) as error:
            raise FreezeError(f"the graph has no tensor {tensor!r} for {name!r}: {error}") from None
        optional = value.op.type == "PlaceholderWithDefault"
        ports.append(
            Port(name, value.name, value.dtype.name, signature_dims(value.shape), optional)
        )
    return ports


def _split_alias(entry: str) -> tuple[str, str]:
    """``alias=node:0`` names an output; a bare node name keeps its own."""
    alias, sep, tensor = entry.partition("=")
    if not sep:
        return (entry[: -len(":0")] if entry.endswith(":0") else entry), entry
    return alias, tensor


def choose_outputs(
    graph_def: Any,
    options: FreezeOptions,
    known: dict[str, str] | None,
    notes: list[str],
    graph: Any = None,
) -> dict[str, str]:
    """{name: tensor} of the outputs: given, else known (a signature), else guessed."""
    if options.output_names:
        chosen = dict(_split_alias(entry) for entry in options.output_names)
        nodes = {node.name for node in graph_def.node}
        missing = [t for t in chosen.values() if t.rsplit(":", 1)[0] not in nodes]
        if missing:
            raise FreezeError(
                f"the graph has no node {', '.join(repr(m) for m in missing)}; final nodes "
                f"that could be outputs: {', '.join(guess_outputs(graph_def)) or 'none'}"
            )
        return chosen
    if known:
        return known
    guessed = guess(graph_def, graph)
    if not guessed.chosen:
        raise FreezeError(
            "no output names given and none could be guessed (no node that depends on an input "
            "is left unconsumed once training machinery is left out); pass output_names / "
            "--output-names"
        )
    notes.append(guessed.note())
    return {name: name for name in guessed.chosen}


def choose_init(graph_def: Any, options: FreezeOptions, notes: list[str]) -> list[str]:
    """Ops the frozen graph runs once at start-up: initializer_nodes when
    given (freeze_graph.py's parameter), else every op that fills a table."""
    if options.initializer_nodes is not None:
        names = {node.name for node in graph_def.node}
        missing = [n for n in options.initializer_nodes if n not in names]
        if missing:
            raise FreezeError(
                f"initializer node {', '.join(repr(m) for m in missing)} is not in the graph; "
                "ops that fill tables here: " + (", ".join(table_initializers(graph_def)) or "none")
            )
        return list(options.initializer_nodes)
    found = table_initializers(graph_def)
    if found:
        notes.append(f"lookup tables are filled at start-up by {', '.join(found)}")
    return found


def run_init(session: Any, init: list[str]) -> None:
    """Fills the source session's tables (its reference run needs them). A
    table the source already filled (a SavedModel's main_op) refuses a second
    fill, which is harmless."""
    import tensorflow as tf

    for name in init:
        with contextlib.suppress(tf.errors.FailedPreconditionError):
            session.run(session.graph.get_operation_by_name(name))


def _initializers_of(graph_def: Any, variables: list[str]) -> list[str]:
    """The assign op that gives each variable its initial value (``var/Assign``)."""
    wanted = set(variables)
    chosen: dict[str, str] = {}
    for node in graph_def.node:
        if node.op in _ASSIGN_OPS and node.input and node.input[0].split(":")[0] in wanted:
            variable = node.input[0].split(":")[0]
            if variable not in chosen or node.name == f"{variable}/Assign":
                chosen[variable] = node.name
    missing = sorted(wanted - set(chosen))
    if missing:
        raise FreezeError(
            f"variables {', '.join(missing)} are kept (deny list / not in the allow list) but "
            "have no initializer in the graph; a frozen graph cannot restore them"
        )
    return [chosen[v] for v in variables]


def freeze_session(
    session: Any, outputs: list[Port], init: list[str], options: FreezeOptions
) -> Any:
    """Variables of a restored session -> Const nodes; the graph pruned to what
    outputs and init ops need. Variables left out (allow/deny lists) stay and
    get their initializers added to ``init`` (in place)."""
    import tensorflow as tf

    source = session.graph.as_graph_def()
    keep = [p.node for p in outputs] + list(init)
    check_variable_bytes(session)
    _check_listed_variables(source, options)
    try:
        frozen = tf.compat.v1.graph_util.convert_variables_to_constants(
            session,
            source,
            keep,
            variable_names_whitelist=options.variable_allowlist,
            variable_names_blacklist=options.variable_denylist,
        )
    except (AssertionError, KeyError, ValueError) as error:
        raise FreezeError(f"could not freeze the graph: {error}") from error
    kept = variable_nodes(frozen)
    if kept:
        added = _initializers_of(source, kept)
        init.extend(added)
        frozen = tf.compat.v1.graph_util.convert_variables_to_constants(
            session,
            source,
            keep + added,
            variable_names_whitelist=options.variable_allowlist,
            variable_names_blacklist=options.variable_denylist,
        )
    return frozen


def _check_listed_variables(graph_def: Any, options: FreezeOptions) -> None:
    """A misspelled allow/deny entry would silently freeze the wrong set."""
    known = set(variable_nodes(graph_def))
    for kind, listed in (
        ("allow", options.variable_allowlist),
        ("deny", options.variable_denylist),
    ):
        unknown = sorted(set(listed or ()) - known)
        if unknown:
            raise FreezeError(
                f"variable {kind} list names {', '.join(unknown)}, not variables of the graph; "
                f"its variables are: {', '.join(sorted(known)) or 'none'}"
            )


def check_variable_bytes(session: Any) -> None:
    """Sizes from the variable ops' own shape and dtype attributes: works for
    graphs without collections (a bare GraphDef) and allocates nothing."""
    import tensorflow as tf

    from tfreeze.freezer.sources.functions import check_constant_bytes

    sizes = []
    for op in session.graph.get_operations():
        if op.type in VARIABLE_OPS:
            shape = tf.TensorShape(op.get_attr("shape"))
            count = shape.num_elements() if shape.is_fully_defined() else 0
            sizes.append((op.name, count * tf.as_dtype(op.get_attr("dtype")).size))
    check_constant_bytes(sizes)


def freeze_restored(
    session: Any,
    options: FreezeOptions,
    stages: Stages,
    known: dict[str, str] | None,
    *,
    kind: str,
) -> Opened:
    notes: list[str] = []
    graph = session.graph
    source = graph.as_graph_def()
    outputs = ports_for(graph, choose_outputs(source, options, known, notes, graph))
    init = choose_init(source, options, notes)
    run_init(session, init)
    with stages("convert"):
        frozen = freeze_session(session, outputs, init, options)
    return opened_with_inputs(kind, session, frozen, outputs, init, notes, options)


def opened_with_inputs(
    kind: str,
    session: Any,
    frozen: Any,
    outputs: list[Port],
    init: list[str],
    notes: list[str],
    options: FreezeOptions,
) -> Opened:
    """Inputs: the Placeholders left, or the graph cut at the tensors chosen
    (options.inputs), or at PlaceholderWithDefaults a tf.data pipeline feeds."""
    graph = session.graph
    chosen = list(options.inputs or [])
    if not chosen:
        chosen = pipeline_fed_defaults(frozen)
        if chosen:
            notes.append(
                f"{', '.join(chosen)} took its default from a tf.data iterator: now a required "
                "input, the input pipeline dropped. Pass --inputs to cut elsewhere."
            )
    if not chosen:
        return session_opened(
            kind, session, frozen, _inputs_in(frozen, graph), outputs, init, notes
        )
    cut, cut_ports, sources = cut_inputs(frozen, graph, chosen)
    pruned = prune(cut, [p.node for p in outputs] + init)
    cut_nodes = {p.node for p in cut_ports}
    left = {p.name: p.tensor for p in find_inputs(pruned) if p.node not in cut_nodes}
    rest = ports_for(graph, left) if left else []
    inputs = cut_ports + rest
    reference_ports = [
        dataclasses.replace(p, tensor=sources[p.name]) if p.name in sources else p for p in inputs
    ]
    return session_opened(
        kind, session, pruned, inputs, outputs, init, notes, reference_inputs=reference_ports
    )


def session_opened(
    kind: str,
    session: Any,
    graph_def: Any,
    inputs: list[Port],
    outputs: list[Port],
    init: list[str],
    notes: list[str],
    *,
    selected_outputs: bool = True,
    reference_inputs: list[Port] | None = None,
) -> Opened:
    """An Opened whose reference is the source's own TF1 session (closed with it);
    ``reference_inputs`` feeds the session elsewhere than the frozen inputs (a cut graph)."""
    return Opened(
        kind=kind,
        name="",
        graph_def=graph_def,
        inputs=inputs,
        outputs=outputs,
        reference=session_reference(session, reference_inputs or inputs, outputs),
        init=init,
        notes=notes,
        selected_outputs=selected_outputs,
        closers=[session.close],
    )


def _inputs_in(frozen: Any, graph: Any) -> list[Port]:
    found = find_inputs(frozen)
    return ports_for(graph, {p.name: p.tensor for p in found}) if found else []
