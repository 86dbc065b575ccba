"""The unsafe-op policy on the Python side: the C++ deny list (one list, in
cpp/src/unsafe_ops.cc) applied where Python TensorFlow would run a graph, and
the C++ loader's whole set of checks (``check_file`` and friends) for every
path that hands a user's file to Python TensorFlow: what tfreeze.Model
refuses, Python TensorFlow never sees (docs/reliability.md)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from tfreeze._native import _core
from tfreeze.errors import UnsafeOpError

__all__ = [
    "check_file",
    "check_graph_def",
    "check_meta_graph",
    "deny_list_markdown",
    "describe_unsafe_ops",
    "refuse_unsafe_ops",
    "unsafe_ops_in",
]

Allowance = bool | Sequence[str]


def _options(allow: Allowance) -> Any:
    from tfreeze.runtime.options import make_options

    return make_options(allow_unsafe_ops=allow)


def check_file(path: str | os.PathLike[str], allow: Allowance = False) -> None:
    """Raises what ``tfreeze.Model(path, allow_unsafe_ops=allow)`` raises before
    it creates a session (a frozen .pb or a SavedModel directory): UnsafeOpError,
    LoadError for a graph crafted to abort TensorFlow. Nothing in the file runs."""
    _core.check_file(os.fspath(path), _options(allow))


def check_graph_def(data: bytes, allow: Allowance, origin: str) -> None:
    """``check_file`` for a serialized GraphDef: the bytes TensorFlow will import."""
    _core.check_graph_def(data, _options(allow), origin)


def check_meta_graph(data: bytes, allow: Allowance, origin: str) -> None:
    """``check_file`` for a serialized MetaGraphDef (a TF1 ``.meta``): checked as
    a SavedModel's MetaGraph is, its saver's restore being the one that may read
    a checkpoint, and its ``legacy_init_op``/``saved_model_main_op`` run."""
    _core.check_meta_graph(data, _options(allow), origin)


def unsafe_ops_in(graph_def: bytes, allow: bool | Sequence[str] = False) -> list[dict[str, Any]]:
    """The nodes of a serialized GraphDef whose ops are denied and not allowed."""
    if allow is True:
        return []
    allowed = set() if allow is False else set(allow)
    return [found for found in _core.find_unsafe_ops(graph_def) if found["op"] not in allowed]


def describe_unsafe_ops(found: list[dict[str, Any]]) -> str:
    """``node "w" (WriteFile: writes ...); node ...``"""
    return "; ".join(
        f'node "{f["node"]}"'
        + (f' in function "{f["function"]}"' if f["function"] else "")
        + f" ({f['op']}: {f['reason']})"
        for f in found
    )


def refuse_unsafe_ops(graph_def: bytes, allow: bool | Sequence[str], origin: str) -> None:
    """Raises UnsafeOpError, as the C++ loader does, when denied ops are not allowed."""
    found = unsafe_ops_in(graph_def, allow)
    if found:
        ops = ",".join(dict.fromkeys(f["op"] for f in found))
        raise UnsafeOpError(
            f"{origin} contains ops that reach outside the model: {describe_unsafe_ops(found)}. "
            f"Load it only if you trust it: allow_unsafe_ops=[...] (command line "
            f"--allow-unsafe-ops {ops}), or allow_unsafe_ops=True for all"
        )


def deny_list_markdown() -> str:
    """The deny list as the Markdown table docs/reliability.md carries."""
    rows = ["| op | family | why |", "| --- | --- | --- |"]
    rows += [f"| `{op}` | {family} | {reason} |" for op, family, reason in _core.unsafe_op_list()]
    return "\n".join(rows)
