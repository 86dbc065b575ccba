"""What every source hands the freezer: a graph without variables, its inputs
and outputs as the user knows them, and a way to ask the source itself for
predictions (the reference the frozen graph is verified against)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tfreeze.errors import FreezeError

__all__ = [
    "FreezeOptions",
    "Opened",
    "Port",
    "SourceLoadError",
    "Stages",
    "first_line",
    "signature_dims",
    "tensor_name",
]


class SourceLoadError(FreezeError):
    """A loader (Keras 3, tf_keras) could not load a model file; for .h5
    files the freezer then tries the other one."""

    def __init__(self, loader: str, path: str, reason: str) -> None:
        super().__init__(f"{loader} could not load {path!r}: {reason}")
        self.loader = loader
        self.reason = reason


@dataclass
class FreezeOptions:
    """Everything ``tfreeze.freeze`` accepts besides the source and the output path."""

    input_names: list[str] | None = None
    # TF1 graphs: the tensors that are the inputs (NODE or NODE:K); the graph is
    # cut there and what only fed them pruned (transform_graph's --inputs)
    inputs: list[str] | None = None
    # {input: shape} for inputs of unknown rank (old TF1 Placeholders); -1 = open
    input_shapes: dict[str, list[int]] | None = None
    # {input: value} fixed at freeze time (keep_prob=1.0, is_training=False): the
    # input becomes a constant and leaves the signature
    input_values: dict[str, Any] | None = None
    output_names: list[str] | None = None
    keep_control_flow: bool = False
    optimize: bool = True
    verify: bool = True
    # {input: full shape} verification feeds; by default open dimensions are
    # small and grow until the graph runs
    verify_shapes: dict[str, list[int]] | None = None
    rtol: float = 1e-5
    atol: float = 1e-6
    # SavedModel
    signature_name: str = "serving_default"
    tags: list[str] = field(default_factory=lambda: ["serve"])
    saved_model_loader: str = "auto"  # auto | tf2 | tf1
    # TF1 checkpoints and GraphDefs (freeze_graph.py's parameters)
    checkpoint: str | None = None
    clear_devices: bool = True
    variable_allowlist: list[str] | None = None
    variable_denylist: list[str] | None = None
    initializer_nodes: list[str] | None = None
    # .h5 files: None decides from the file's keras_version
    legacy_keras: bool | None = None
    # Ops that reach outside the model (tfreeze/safety.h): True, or op names,
    # lets the freezer optimize and verify (so run) a graph that holds them.
    allow_unsafe_ops: bool | list[str] = False


@dataclass
class Port:
    """An input or output: the user's name and the graph tensor that carries it."""

    name: str
    tensor: str  # "node:index" in the opened graph
    dtype: str  # TensorFlow dtype name: float32, string, ...
    shape: tuple[int, ...] | None  # -1 for open dimensions; None when the rank is unknown
    optional: bool = False  # a PlaceholderWithDefault: feeding it is allowed, not required

    @property
    def node(self) -> str:
        return self.tensor.rsplit(":", 1)[0]


# Inputs in signature order -> the source's own outputs in signature order.
Reference = Callable[[list[np.ndarray]], list[np.ndarray]]


@dataclass
class Opened:
    """A source opened and frozen to constants, not yet named, optimized or signed."""

    kind: str  # keras, keras-h5, saved-model, tf1-checkpoint, graph-def, tf-function
    name: str  # the model's name, for the report
    graph_def: Any  # tf.compat.v1.GraphDef with no variables left
    inputs: list[Port]
    outputs: list[Port]
    reference: Reference
    init: list[str] = field(default_factory=list)  # ops to run once before inference
    notes: list[str] = field(default_factory=list)  # what the source chose on its own
    selected_outputs: bool = False  # output_names picked graph nodes (not renames)
    # Flag inputs kept as inputs (keep_prob, is_training): the value verification feeds
    flag_values: dict[str, Any] = field(default_factory=dict)
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in reversed(self.closers):
            close()
        self.closers.clear()


class Stages:
    """Times the freezer's stages and tells a progress display which one runs."""

    def __init__(self, on_stage: Callable[[str], None] | None = None) -> None:
        self.seconds: dict[str, float] = {}
        self.current = ""  # the stage that runs, or ran last
        self._on_stage = on_stage

    def announce(self, name: str) -> None:
        """Tells the display a stage started (one timed elsewhere, e.g. in a child)."""
        if self._on_stage is not None:
            self._on_stage(name)

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        self.current = name
        self.announce(name)
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


def ports_named(ports: list[Port], names: Any, option: str) -> dict[str, Port]:
    """The ports by name; a name that is none of them is a FreezeError listing them."""
    by_name = {port.name: port for port in ports}
    unknown = sorted(set(names) - set(by_name))
    if unknown:
        raise FreezeError(
            f"{option} names {', '.join(unknown)}; the inputs are: {', '.join(by_name)}"
        )
    return by_name


def signature_dims(shape: Any) -> tuple[int, ...] | None:
    """A TensorShape as the signature states it: -1 for open sizes, None for unknown rank."""
    if shape.rank is None:
        return None
    return tuple(-1 if d is None else d for d in shape.as_list())


def tensor_name(name: str) -> str:
    """``node`` -> ``node:0``; ``node:1`` stays."""
    return name if ":" in name else f"{name}:0"


def numpy_inputs(values: list[Any]) -> list[np.ndarray]:
    return [np.asarray(v) for v in values]


_HEADER_LINES = ("Detected at node", "Node:", "[[", "Original stack trace")


def first_line(error: BaseException) -> str:
    """The line that says what went wrong: TensorFlow's graph errors open with
    headers ("Graph execution error:", "Detected at node ...") before it."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    telling = [
        line for line in lines if not line.endswith(":") and not line.startswith(_HEADER_LINES)
    ]
    return ((telling or lines or [""])[0])[:300]
