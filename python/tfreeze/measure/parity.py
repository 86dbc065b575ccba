"""Three-way parity: the C++ run of a .pb, Python TensorFlow's run of the same
.pb (must be bit-exact) and the source model's own prediction (tolerance)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tfreeze.compare import ArrayDiff, compare_arrays
from tfreeze.runtime.model import Model
from tfreeze.runtime.options import make_options

__all__ = ["OutputParity", "ParityReport", "check_parity"]


@dataclass(frozen=True)
class OutputParity:
    name: str
    cpp_vs_python: ArrayDiff  # same .pb, same thread settings: must be bit-exact
    cpp_vs_source: ArrayDiff | None  # None when no source model was given

    @property
    def passed(self) -> bool:
        source_ok = self.cpp_vs_source is None or self.cpp_vs_source.within_tolerance
        return self.cpp_vs_python.bit_exact and source_ok


@dataclass(frozen=True)
class ParityReport:
    outputs: list[OutputParity]
    rtol: float
    atol: float
    batch_size: int
    # What both sides ran with: the same ConfigProto for C++ and Python.
    session_config: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(output.passed for output in self.outputs)

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "rtol": self.rtol,
            "atol": self.atol,
            "batch_size": self.batch_size,
            "session_config": self.session_config,
            "notes": self.notes,
            "outputs": [
                {
                    "name": o.name,
                    "passed": o.passed,
                    "cpp_vs_python": o.cpp_vs_python.as_dict(),
                    "cpp_vs_source": o.cpp_vs_source.as_dict() if o.cpp_vs_source else None,
                }
                for o in self.outputs
            ],
        }


def check_parity(
    source: Any,
    pb_path: str | os.PathLike[str],
    *,
    inputs: dict[str, np.ndarray] | None = None,
    batch_size: int = 2,
    seed: int = 0,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    threads: int = 1,
    source_options: dict[str, Any] | None = None,
    allow_unsafe_ops: bool | list[str] = False,
) -> ParityReport:
    """Compares the C++ outputs of ``pb_path`` with Python's run of the same file
    and with ``source`` (any source ``tfreeze.freeze`` takes; None to skip).

    Inputs are seeded random arrays fitting the signature when not given.
    Inputs and outputs are matched to the source model by position: a tfreeze
    signature keeps the model's order. ``allow_unsafe_ops`` as for tfreeze.Model:
    a graph holding ops that reach outside the model runs only when allowed.
    """
    allow = {"allow_unsafe_ops": allow_unsafe_ops}
    model = Model(pb_path, intra_op_threads=threads, inter_op_threads=threads, **allow)
    if inputs is None:
        feeds = model.random_feeds(batch_size=batch_size, seed=seed)
    else:
        feeds = dict(inputs)
        first = next(iter(feeds.values()), None)
        batch_size = int(np.shape(first)[0]) if first is not None and np.ndim(first) else 1
    config = same_session_config(threads, model.executor)
    cpp = model.run(feeds)
    python = python_run(pb_path, feeds, config, allow_unsafe_ops)
    notes = []
    if any(not _bit_exact(cpp[n], python[n]) for n in model.output_names):
        cpp, python, note = _recheck_in_a_fresh_process(pb_path, feeds, threads, cpp, python)
        notes.append(note)
    # The source is opened as the freezer opens it, checked first under the same allowance.
    opening = {"allow_unsafe_ops": allow_unsafe_ops, **(source_options or {})}
    expected = _source_outputs(source, model, feeds, opening) if source is not None else None
    outputs = []
    for i, name in enumerate(model.output_names):
        vs_source = None
        if expected is not None:
            vs_source = compare_arrays(cpp[name], expected[i], rtol=rtol, atol=atol)
        vs_python = compare_arrays(cpp[name], python[name], rtol=rtol, atol=atol)
        outputs.append(OutputParity(name, vs_python, vs_source))
    return ParityReport(outputs, rtol, atol, batch_size, _described(config, threads, model), notes)


def same_session_config(threads: int, executor: str) -> bytes:
    """The ConfigProto the C++ Model was created with, for Python's session too."""
    from tfreeze._native import _core

    options = make_options(intra_op_threads=threads, inter_op_threads=threads, executor=executor)
    return _core.serialize_config(options)


def python_run(
    pb_path: str | os.PathLike[str],
    feeds: dict[str, np.ndarray],
    config: bytes,
    allow_unsafe_ops: bool | list[str] = False,
) -> dict[str, np.ndarray]:
    from tfreeze.runtime.python_session import PythonSession

    with PythonSession(pb_path, config_proto=config, allow_unsafe_ops=allow_unsafe_ops) as session:
        return session.run(feeds)


def _described(config: bytes, threads: int, model: Model) -> dict[str, Any]:
    return {
        "intra_op_threads": threads,
        "inter_op_threads": threads,
        "executor": model.executor,
        "config_proto_hex": config.hex(),
        "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset (on)"),
    }


def _recheck_in_a_fresh_process(
    pb_path: str | os.PathLike[str],
    feeds: dict[str, np.ndarray],
    threads: int,
    cpp: dict[str, np.ndarray],
    python: dict[str, np.ndarray],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], str]:
    """C++ and Python differ in this process: run both again, same feeds and
    configuration, in a new process. One such difference was seen in a long
    process and never reproduced (docs/parity.md lists what was tried);
    agreement there clears the runtime, and the fresh run is what the report
    then shows, with a note saying so."""
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory(prefix="tfreeze-parity-") as folder:
        np.savez(os.path.join(folder, "feeds.npz"), **feeds)
        command = [sys.executable, "-m", "tfreeze.measure.parity_child", os.fspath(pb_path)]
        command += [folder, str(threads)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            why = (done.stderr.strip().splitlines() or ["no message"])[-1]
            return cpp, python, f"C++ and Python differ; the fresh-process check failed: {why}"
        fresh_cpp = dict(np.load(os.path.join(folder, "cpp.npz"), allow_pickle=True))
        fresh_python = dict(np.load(os.path.join(folder, "python.npz"), allow_pickle=True))
    agree = all(_bit_exact(fresh_cpp[n], fresh_python[n]) for n in fresh_cpp)
    if not agree:
        return cpp, python, "C++ and Python differ in a fresh process too, same configuration"
    return (
        fresh_cpp,
        fresh_python,
        "C++ and Python differed in this process but agree bit for bit in a fresh one with the "
        "same feeds and configuration: state left by earlier work in this process moved low "
        "bits (see docs/parity.md, 'A difference only this process shows'); shown: the fresh run",
    )


def _source_outputs(
    source: Any, model: Model, feeds: dict[str, np.ndarray], source_options: dict[str, Any]
) -> list[np.ndarray]:
    """The source's own predictions: a Keras 3 model is called directly; every
    other source kind is opened as the freezer opens it (with the options it
    was frozen with: checkpoint, signature_name, output_names...) and asked
    through its reference (a TF1 session, a SavedModel signature, a function).
    Outputs match the .pb's by name where the names agree, else by position."""
    from tfreeze.freezer.fixed_inputs import fix_inputs
    from tfreeze.freezer.sources import FreezeOptions, Stages, kind_of, open_source

    options = FreezeOptions(**{**source_options, "optimize": False})
    kind = kind_of(source, options)
    if kind in ("keras", "keras-file"):
        return _keras_outputs(source, model, feeds)
    if kind == "keras2-h5":
        raise ValueError(
            "parity against a Keras 2 .h5 needs tf_keras in this process; "
            "the freezer verified it in a child process when it froze it"
        )
    opened = open_source(source, kind, options, Stages())
    try:
        # Inputs fixed at freeze time (is_training=false) are fixed in the source too.
        fix_inputs(opened, options.input_values or {})
        _check_same_shape(len(opened.inputs), len(opened.outputs), model)
        fed = [e.name for e in model.inputs]
        values = opened.reference(
            [feeds.get(p.name if p.name in fed else fed[i]) for i, p in enumerate(opened.inputs)]
        )
        names = [p.name for p in opened.outputs]
        return [
            values[names.index(e.name)] if e.name in names else values[i]
            for i, e in enumerate(model.outputs)
        ]
    finally:
        opened.close()


def _check_same_shape(inputs: int, outputs: int, model: Model) -> None:
    if inputs != len(model.inputs) or outputs != len(model.outputs):
        raise ValueError(
            f"the source model has {inputs} inputs and {outputs} "
            f"outputs but the .pb has {len(model.inputs)} and {len(model.outputs)}: "
            "they are not the same model"
        )


def _keras_outputs(source: Any, model: Model, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    from tfreeze.freezer.keras_io import KerasIO, load_keras_model

    io = KerasIO.of(load_keras_model(source))
    _check_same_shape(len(io.input_names), len(io.output_names), model)
    return [np.asarray(t) for t in io.call([feeds[name] for name in model.input_names])]


def _bit_exact(actual: np.ndarray, expected: np.ndarray) -> bool:
    return compare_arrays(actual, expected, rtol=0.0, atol=0.0).bit_exact
