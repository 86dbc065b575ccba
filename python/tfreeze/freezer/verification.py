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
from tfreeze.freezer.sources.base import first_line
from tfreeze.runtime.feeds import random_feeds_for
from tfreeze.signature import Signature, verify_node

__all__ = ["settle_unknown_ranks", "store_test_vectors", "verify_or_fall_back"]

# (batch size, size of other open dimensions) of each verification run: more
# than one of each, since tracing can bake a size into the graph.
_VERIFY_SIZES = ((1, 4), (3, 6))
# A graph whose pooling or convolution chain needs more frames than the sizes
# above fails to run on them; open dimensions then double until it runs, up
# to these bounds (per dimension, and elements per input).
_MAX_OPEN_DIM = 4096
_MAX_ELEMENTS = 1 << 24
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


def settle_unknown_ranks(
    graph_def: Any, opened: Opened, options: FreezeOptions, *, may_run: bool = True
) -> None:
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

    signature = signature_of(opened)
    stated = _stated_shapes(signature, options.verify_shapes)
    with signed_session(graph_def, signature) as session:
        rng = np.random.default_rng(0)
        _, outputs, _ = _run_growing(session, signature, stated, opened.flag_values, 2, 4, rng)
        outputs = dict(zip([e.name for e in signature.outputs], outputs, strict=True))
    for port in unknown:
        port.shape = (-1,) * np.ndim(outputs[port.name])
        opened.notes.append(
            f"output {port.name!r} has no static shape; recorded rank {len(port.shape)} "
            "with every size open"
        )


_Case = tuple[list[np.ndarray | None], list[np.ndarray]]


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
    stated = _stated_shapes(signature, options.verify_shapes)
    grown = 0  # the open size the last run needed, when it needed more than planned
    with signed_session(graph_def, signature) as session:
        for batch_size, open_dim in _VERIFY_SIZES:
            # A later run starts above the size an earlier one needed, and differs from it.
            open_dim = max(open_dim, grown + 2) if grown else open_dim
            feeds, frozen_out, used = _run_growing(
                session, signature, stated, opened.flag_values, batch_size, open_dim, rng
            )
            grown = used if used > open_dim else grown
            outputs = dict(zip(_output_names(signature), frozen_out, strict=True))
            _check_deterministic(graph_def, session, feeds, outputs)
            source_out = _source_run(opened, signature, feeds)
            # One slot per signature input; None where an optional input was left unfed.
            cases.append(([feeds.get(e.name) for e in signature.inputs], source_out))
            for entry, frozen, expected in zip(
                signature.outputs, frozen_out, source_out, strict=True
            ):
                diff = compare_arrays(frozen, expected, rtol=options.rtol, atol=options.atol)
                report[entry.name].append(diff)
                if not diff.within_tolerance:
                    raise FreezeError(
                        f"the frozen graph differs from the source on output {entry.name!r} "
                        f"at batch size {batch_size}: shape {diff.actual_shape} vs "
                        f"{diff.expected_shape}, max abs {diff.max_abs:.3g}, max rel "
                        f"{diff.max_rel:.3g} (tolerance rtol={options.rtol}, atol={options.atol})"
                    )
    return report, cases


def _stated_shapes(
    signature: Signature, shapes: dict[str, list[int]] | None
) -> dict[str, tuple[int, ...]]:
    """The verify_shapes the user gave, checked against the signature."""
    if not shapes:
        return {}
    entries = {e.name: e for e in signature.inputs}
    unknown = sorted(set(shapes) - set(entries))
    if unknown:
        raise FreezeError(
            f"verify_shapes names {', '.join(unknown)}; the inputs are: {', '.join(entries)}"
        )
    stated = {}
    for name, shape in shapes.items():
        declared = entries[name].shape
        fits = len(shape) == len(declared) and all(
            d in (-1, n) and n > 0 for d, n in zip(declared, shape, strict=True)
        )
        if not fits:
            raise FreezeError(
                f"verify_shapes gives input {name!r} shape {list(shape)}; its signature shape "
                f"is {list(declared)} (-1: open): give every dimension, the fixed ones as they are"
            )
        stated[name] = tuple(shape)
    return stated


def _feeds(
    signature: Signature,
    stated: dict[str, tuple[int, ...]],
    flags: dict[str, Any],
    batch_size: int,
    open_dim: int,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    feeds = random_feeds_for(signature.inputs, batch_size=batch_size, open_dim=open_dim, rng=rng)
    for name, shape in stated.items():
        if name in feeds:
            feeds[name] = random_feeds_for(
                [dataclasses.replace(_entry(signature, name), shape=shape)], rng=rng
            )[name]
    for entry in signature.inputs:  # flags take their inference value, never a random one
        if entry.name in flags:
            feeds[entry.name] = np.asarray(flags[entry.name], numpy_dtype(entry.dtype))
    return feeds


def _entry(signature: Signature, name: str) -> Any:
    return next(e for e in signature.inputs if e.name == name)


def _can_grow(signature: Signature, stated: dict[str, tuple[int, ...]]) -> bool:
    """Some input has an open dimension besides the batch that the user did not state."""
    return any(
        -1 in e.shape[1:] for e in signature.inputs if e.name not in stated and e.shape is not None
    )


def _too_big(signature: Signature, open_dim: int, batch_size: int) -> bool:
    for entry in signature.inputs:
        sizes = [
            batch_size if i == 0 and d < 0 else open_dim if d < 0 else d
            for i, d in enumerate(entry.shape)
        ]
        if int(np.prod(sizes, dtype=np.int64)) > _MAX_ELEMENTS:
            return True
    return open_dim > _MAX_OPEN_DIM


def _run_growing(
    session: Any,
    signature: Signature,
    stated: dict[str, tuple[int, ...]],
    flags: dict[str, Any],
    batch_size: int,
    open_dim: int,
    rng: np.random.Generator,
) -> tuple[dict[str, np.ndarray], list[np.ndarray], int]:
    """Runs the frozen graph on random inputs, doubling the open dimensions
    while it fails (a pooling chain that needs more frames); returns the feeds,
    the outputs in signature order and the open size used."""
    first = open_dim
    while True:
        feeds = _feeds(signature, stated, flags, batch_size, open_dim, rng)
        try:
            outputs = session.run(feeds)
            return feeds, [outputs[e.name] for e in signature.outputs], open_dim
        except FreezeError:
            raise
        except Exception as error:  # TensorFlow's: the graph cannot run at this size
            grow = _can_grow(signature, stated) and not _too_big(
                signature, open_dim * 2, batch_size
            )
            if not grow:
                message = _size_failure(signature, stated, first, open_dim, error)
                raise FreezeError(message) from error
            open_dim *= 2


def _size_failure(
    signature: Signature,
    stated: dict[str, tuple[int, ...]],
    first: int,
    last: int,
    error: BaseException,
) -> str:
    failed = f"the verify stage failed: {type(error).__name__}: {first_line(error)}"
    growable = _can_grow(signature, stated)
    if not stated and not growable:
        return failed  # no size to blame: nothing open besides the batch
    tried = f"open dimensions {first}" + (f" to {last}" if last != first else "")
    if stated:
        tried = "the verify_shapes given" + (f" and {tried}" if growable else "")
    example = next((e for e in signature.inputs if e.shape and -1 in e.shape), signature.inputs[0])
    dims = ",".join("1" if d < 0 else str(d) for d in example.shape) if example.shape else "..."
    return (
        f"{failed} (random inputs, {tried}); state sizes the graph runs with verify_shapes= / "
        f"--verify-shape {example.name}={dims} (with the open sizes your data has), or freeze "
        "with --no-verify"
    )


def _source_run(
    opened: Opened, signature: Signature, feeds: dict[str, np.ndarray]
) -> list[np.ndarray]:
    """The source's own prediction; its failure names the source, not the frozen graph."""
    try:
        return opened.reference([feeds.get(e.name) for e in signature.inputs])
    except FreezeError:
        raise
    except Exception as error:
        raise FreezeError(
            f"the source model failed on the inputs the frozen graph ran with: "
            f"{type(error).__name__}: {first_line(error)}"
        ) from error


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


def _output_names(signature: Signature) -> list[str]:
    return [e.name for e in signature.outputs]


def store_test_vectors(
    graph_def: Any, signature: Signature, cases: list[_Case], options: FreezeOptions
) -> Signature:
    """Stores as many verification cases as fit the budget as Const nodes, so
    Model.verify() can replay them wherever the file goes. An optional input
    left unfed gets no node, and the replay leaves it unfed too: it feeds
    exactly what the source was fed."""
    stored = 0
    used = 0
    for inputs, outputs in cases:
        size = sum(np.asarray(a).nbytes for a in inputs + outputs if a is not None)
        if used + size > _TEST_VECTOR_BUDGET:
            break
        for i, value in enumerate(inputs):
            if value is not None:
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
