"""Frozen graphs compiled ahead of time by XLA (``tfreeze compile``): static
shapes, one function per batch size, a small C++ library with tfreeze's API
style and no TensorFlow at run time (docs/compile.md).

    report = compile_model("model.pb", "build/digits", batches=[1, 8])
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tfreeze.compile.config import parse_input_shapes, refuse_uncompilable, static_io
from tfreeze.compile.generate import Variant
from tfreeze.compile.im2col import conv_as_matmul as rewrite_convs
from tfreeze.compile.safe_text import check_name
from tfreeze.errors import CompileError

__all__ = ["MARKER", "compile_model", "slow_op_notes"]

# Written last into every compiled directory: `compile` replaces only
# directories that carry it (or empty ones), never a user's other files.
MARKER = "tfreeze-compiled.json"


def compile_model(
    model: str | os.PathLike[str],
    directory: str | os.PathLike[str],
    *,
    batches: Sequence[int] = (1,),
    name: str | None = None,
    input_shapes: Sequence[str] = (),
    verify: bool = True,
    conv_as_matmul: str = "auto",
) -> dict[str, Any]:
    """Compiles ``model`` into ``directory`` (replacing an earlier compile
    there); returns a report: what was built, timings, parity.
    ``conv_as_matmul``: "auto", "on" or "off" (``tfreeze.compile.im2col``)."""
    import json

    model, out = Path(model), Path(directory)
    name = check_name(name or _default_name(model))
    batches = _check_batches(batches)
    _check_target(out)
    graph_def, signature = _read(model)
    shapes = parse_input_shapes(input_shapes)
    variants = [Variant(b, *static_io(signature, b, shapes)) for b in batches]
    refuse_uncompilable(graph_def, variants[0].inputs, variants[0].outputs)
    start = time.perf_counter()
    largest = max(variants, key=lambda v: v.batch)
    rewrite = rewrite_convs(graph_def, {io.node: io.shape for io in largest.inputs}, conv_as_matmul)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=".tfreeze-compile-"))
    try:
        from tfreeze.compile.build import build_directory

        graph = model.resolve()
        if rewrite.rewritten:
            # tfcompile reads a file: the rewritten graph stays in src/ for reference.
            (staging / "src").mkdir()
            graph = staging / "src" / f"{name}.rewritten.pb"
            graph.write_bytes(rewrite.graph_def.SerializeToString())
        report = {
            "model": str(model),
            "name": name,
            "batches": [v.batch for v in variants],
            "conv_as_matmul": {
                "mode": conv_as_matmul,
                "rewritten": rewrite.rewritten,
                "xla_flags": rewrite.xla_flags,
            },
            **build_directory(graph, staging, name, variants, xla_flags=rewrite.xla_flags),
            "notes": slow_op_notes(graph_def),
        }
        report["compile_s"] = round(time.perf_counter() - start, 2)
        report["parity"] = (
            _parity(graph_def, signature, staging, name, variants) if verify else None
        )
        (staging / MARKER).write_text(json.dumps(report, indent=2))
        _replace(out, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {**report, "directory": str(out)}


def slow_op_notes(graph_def: Any) -> list[str]:
    """What the compiled code will likely run slower than TensorFlow: said up
    front, since the parity check passes either way."""
    depthwise = sum(node.op == "DepthwiseConv2dNative" for node in graph_def.node)
    if not depthwise:
        return []
    # Seen on fer's emotion model (a mini-Xception, 8 depthwise convolutions):
    # perf put ~90% of a run in Eigen's grouped convolution.
    return [
        f"{depthwise} depthwise convolution(s) go through XLA's grouped convolution, which is "
        "slow on the CPU (a real mini-Xception: 18-33 ms compiled against 0.8 ms on the "
        "TF runtime); compare `tfreeze bench DIR` with `tfreeze bench MODEL.pb` before "
        "choosing"
    ]


def _default_name(model: Path) -> str:
    # One _ for each run of other characters, none at the ends: no __ and no
    # leading _, which C++ reserves.
    stem = re.sub("[^A-Za-z0-9]+", "_", model.stem).strip("_")
    return stem if stem and not stem[0].isdigit() else f"model_{stem}".rstrip("_")


def _check_batches(batches: Sequence[int]) -> list[int]:
    # Each one goes into the generated C++ as a number.
    if not batches or not all(type(b) is int and b >= 1 for b in batches):
        raise CompileError(f"batch sizes must be positive integers, got {list(batches)!r}")
    return list(dict.fromkeys(batches))


def _check_target(out: Path) -> None:
    # Only empty directories inside counts as empty: build tools (Ninja) make
    # the directories of a command's outputs before running it.
    holds_files = out.is_dir() and any(not path.is_dir() for path in out.rglob("*"))
    if out.exists() and (not out.is_dir() or (holds_files and not (out / MARKER).exists())):
        raise CompileError(
            f"{str(out)!r} exists and is not an earlier `tfreeze compile` output; "
            "give an empty or new directory"
        )


def _read(model: Path) -> tuple[Any, Any]:
    from tfreeze.graphview.stats import read_graph_def
    from tfreeze.runtime.safety import check_file
    from tfreeze.signature import Signature

    # The loader's checks, before TensorFlow or tfcompile sees the graph: a
    # crafted file must not abort compile, nor run an op that writes files.
    check_file(model)
    graph_def = read_graph_def(model)
    try:
        return graph_def, Signature.from_graph_def(graph_def)
    except LookupError as error:
        raise CompileError(f"{str(model)!r}: {error}") from None


def _parity(graph_def: Any, signature: Any, out: Path, name: str, variants: list) -> Any:
    from tfreeze.compile.parity import check_parity, stored_cases

    cases = stored_cases(graph_def, signature)
    batched = all(e.shape[:1] == (-1,) for e in (*signature.inputs, *signature.outputs))
    if not cases or not batched:
        # No test vectors (frozen with --no-verify), or tensors without a batch
        # dimension to cut the stored rows along.
        return None
    inputs = variants[0].inputs
    stored_shapes = [tuple(x.shape[1:]) for x in cases[0][0]]
    if stored_shapes != [io.shape[1:] for io in inputs]:
        return None  # --input-shape chose other sizes than the stored vectors have
    cases = [
        ([x.astype(io.dtype) for x, io in zip(xs, inputs, strict=True)], ys) for xs, ys in cases
    ]
    dtypes = [io.dtype for io in variants[0].outputs]
    batches = [v.batch for v in variants]
    report = check_parity(out / "bin" / f"{name}-check", batches, cases, dtypes)
    if not report["passed"]:
        raise CompileError(
            f"the compiled model differs from the frozen file beyond rtol {report['rtol']} atol "
            f"{report['atol']} (max abs {report['max_abs']:.3g}) in {'; '.join(report['failures'])}"
        )
    return report


def _replace(out: Path, staging: Path) -> None:
    """Moves the finished directory into place; an earlier compile there goes
    only once the new one is whole."""
    old = staging.with_name(staging.name + "-old")
    if out.exists():
        os.replace(out, old)
    os.replace(staging, out)
    shutil.rmtree(old, ignore_errors=True)
