"""Verification: the frozen graph, run by Python TensorFlow, against the
source's own prediction on the same random inputs; the cases are stored in
the file as test vectors so any runtime can replay them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from tfreeze.compare import ArrayDiff, compare_arrays
from tfreeze.dtypes import numpy_dtype
from tfreeze.errors import FreezeError
from tfreeze.freezer.graph_edit import add_const_node, add_signature_node, serialize
from tfreeze.freezer.naming import signature_of
from tfreeze.freezer.sources import FreezeOptions, Opened
from tfreeze.runtime.feeds import random_feeds_for
from tfreeze.signature import Signature, verify_node

__all__ = ["settle_unknown_ranks", "store_test_vectors", "verify_or_fall_back"]

# (batch size, size of other open dimensions) of each verification run: more
# than one of each, since tracing can bake a size into the graph.
_VERIFY_SIZES = ((1, 4), (3, 6))
# Test vectors stored in the file: enough to replay, small beside the weights.
_TEST_VECTOR_BUDGET = 1 << 20


def signed_session(graph_def: Any, signature: Signature) -> Any:
    """Python TensorFlow's session over a signed copy of ``graph_def`` (one
    thread each way, as the verification reference)."""
    from tfreeze.runtime.python_session import PythonSession  # imports TensorFlow

    signed = type(graph_def)()
    signed.CopyFrom(graph_def)
    add_signature_node(signed, signature)
    # The pipeline runs a graph with unsafe ops only when the user allowed them.
    return PythonSession.from_bytes(
        serialize(signed), intra_op_threads=1, inter_op_threads=1, allow_unsafe_ops=True
    )


def settle_unknown_ranks(graph_def: Any, opened: Opened, *, may_run: bool = True) -> None:
    """Outputs whose rank TensorFlow cannot infer statically get the rank one
    run shows, every size open: the signature must state a rank. ``may_run``
    is False when the graph holds unsafe ops the user did not allow."""
    unknown = [p for p in opened.outputs if p.shape is None]
    if not unknown:
        return
    if not may_run:
        raise FreezeError(
            f"output {unknown[0].name!r} has no static shape, and finding it means running "
            "a graph that holds unsafe ops; freeze with allow_unsafe_ops (--allow-unsafe-ops) "
            "if you trust it"
        )

    with signed_session(graph_def, signature_of(opened)) as session:
        outputs = session.run(random_feeds_for(signature_of(opened).inputs, batch_size=2))
    for port in unknown:
        port.shape = (-1,) * np.ndim(outputs[port.name])
        opened.notes.append(
            f"output {port.name!r} has no static shape; recorded rank {len(port.shape)} "
            "with every size open"
        )


_Case = tuple[list[np.ndarray], list[np.ndarray]]


def verify_or_fall_back(
    graph_def: Any, opened: Opened, signature: Signature, options: FreezeOptions
) -> tuple[Any, dict[str, list[ArrayDiff]], list[_Case], str | None]:
    """Verifies the (optimized) graph; if only optimizing broke it, keeps the
    unoptimized graph with a warning."""
    try:
        report, cases = _verify(graph_def, opened, signature, options)
        return graph_def, report, cases, None
    except FreezeError as error:
        if graph_def is opened.graph_def:
            raise
        report, cases = _verify(opened.graph_def, opened, signature, options)
        warning = f"the optimized graph failed verification, kept the unoptimized one: {error}"
        return opened.graph_def, report, cases, warning


def _verify(
    graph_def: Any, opened: Opened, signature: Signature, options: FreezeOptions
) -> tuple[dict[str, list[ArrayDiff]], list[_Case]]:
    """Runs the frozen graph in Python TensorFlow and the source on the same
    random inputs; tracing can silently produce a graph that differs."""

    report: dict[str, list[ArrayDiff]] = {e.name: [] for e in signature.outputs}
    cases: list[_Case] = []
    rng = np.random.default_rng(0)
    with signed_session(graph_def, signature) as session:
        for batch_size, open_dim in _VERIFY_SIZES:
            feeds = random_feeds_for(
                signature.inputs, batch_size=batch_size, open_dim=open_dim, rng=rng
            )
            for entry in signature.inputs:  # flags take their inference value, never a random one
                if entry.name in opened.flag_values:
                    feeds[entry.name] = np.asarray(
                        opened.flag_values[entry.name], numpy_dtype(entry.dtype)
                    )
            frozen_out = session.run(feeds)
            _check_deterministic(graph_def, session, feeds, frozen_out)
            source_out = opened.reference([feeds.get(e.name) for e in signature.inputs])
            cases.append(([feeds[e.name] for e in signature.inputs if e.name in feeds], source_out))
            for entry, expected in zip(signature.outputs, source_out, strict=True):
                diff = compare_arrays(
                    frozen_out[entry.name], expected, rtol=options.rtol, atol=options.atol
                )
                report[entry.name].append(diff)
                if not diff.within_tolerance:
                    raise FreezeError(
                        f"the frozen graph differs from the source on output {entry.name!r} "
                        f"at batch size {batch_size}: shape {diff.actual_shape} vs "
                        f"{diff.expected_shape}, max abs {diff.max_abs:.3g}, max rel "
                        f"{diff.max_rel:.3g} (tolerance rtol={options.rtol}, atol={options.atol})"
                    )
    return report, cases


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    numeric = np.asarray(a).dtype.kind in "fc"
    return bool(np.array_equal(a, b, equal_nan=numeric))


def _check_deterministic(
    graph_def: Any, session: Any, feeds: dict[str, np.ndarray], first: dict[str, np.ndarray]
) -> None:
    """A graph whose outputs change from run to run (dropout left on, a
    sampling op) cannot be verified, and its stored test vectors would fail
    their replay: refused, naming the random ops."""
    again = session.run(feeds)
    changing = [name for name, value in first.items() if not _same(value, again[name])]
    if not changing:
        return
    random_ops = [
        f"{node.name} ({node.op})"
        for node in graph_def.node
        if node.op.startswith(("Random", "StatelessRandom", "TruncatedNormal", "Multinomial"))
        or node.op in ("TruncatedNormal", "ParameterizedTruncatedNormal")
    ]
    raise FreezeError(
        f"output {changing[0]!r} differs between two runs on the same inputs: the graph is "
        f"random ({', '.join(random_ops[:3]) or 'a stateful op'}"
        f"{', ...' if len(random_ops) > 3 else ''}), so it can be neither verified nor replayed. "
        "Fix the input that turns the randomness on (a dropout keep probability or rate, a "
        "training flag) with --input-value NAME=VALUE (input_values=), or freeze with "
        "--no-verify to keep it random"
    )


def store_test_vectors(
    graph_def: Any, signature: Signature, cases: list[_Case], options: FreezeOptions
) -> Signature:
    """Stores as many verification cases as fit the budget as Const nodes, so
    Model.verify() can replay them wherever the file goes. Files with optional
    inputs store none: a replay must feed exactly what the source was fed."""
    if any(e.optional for e in signature.inputs):
        return signature
    stored = 0
    used = 0
    for inputs, outputs in cases:
        size = sum(np.asarray(a).nbytes for a in inputs + outputs)
        if used + size > _TEST_VECTOR_BUDGET:
            break
        for i, value in enumerate(inputs):
            add_const_node(graph_def, verify_node(stored, "input", i), value)
        for j, (entry, value) in enumerate(zip(signature.outputs, outputs, strict=True)):
            expected = np.asarray(value).astype(numpy_dtype(entry.dtype), copy=False)
            add_const_node(graph_def, verify_node(stored, "output", j), expected)
        stored += 1
        used += size
    if stored == 0:
        return signature
    return dataclasses.replace(
        signature, verify={"cases": stored, "rtol": options.rtol, "atol": options.atol}
    )
