"""tfreeze.Model: a frozen .pb run by the C++ runtime, from Python.

Importing this module does not import TensorFlow's Python package: inference
goes through the C API only.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tfreeze._native import _core
from tfreeze.dtypes import numpy_dtype
from tfreeze.errors import DTypeError, Error, InputError, ModelClosedError, UnknownNameError
from tfreeze.runtime.feeds import random_array
from tfreeze.runtime.options import make_options

__all__ = ["FileInfo", "Model", "TensorSpec", "inspect_file"]


@dataclass(frozen=True)
class TensorSpec:
    """An input or output of a frozen model, as its signature declares it."""

    name: str
    dtype: np.dtype
    shape: tuple[int | None, ...]  # None where the size is left open (batch)
    optional: bool = False  # an input with a default in the graph; may be left unfed

    @property
    def dtype_name(self) -> str:
        return "string" if self.dtype == np.dtype(object) else str(self.dtype)

    def as_dict(self) -> dict[str, Any]:
        described = {"name": self.name, "dtype": self.dtype_name, "shape": list(self.shape)}
        if self.optional:
            described["optional"] = True
        return described


def _spec(name: str, dtype: str, shape: tuple[int, ...], optional: bool = False) -> TensorSpec:
    return TensorSpec(
        name, numpy_dtype(dtype), tuple(None if d < 0 else d for d in shape), bool(optional)
    )


def _specs(described: list[tuple[Any, ...]]) -> list[TensorSpec]:
    """TensorSpecs from the runtime's (name, dtype, shape, optional) tuples; a
    _core built before optional inputs gives three."""
    return [_spec(*item) for item in described]


@dataclass(frozen=True)
class FileInfo:
    """What a frozen .pb declares, read without a session: nothing in it ran."""

    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    unsafe_ops: list[dict[str, str]]  # node, op, function, reason (tfreeze/safety.h)
    # Constants TensorFlow fills in at load (1 MiB or more): node, op, function,
    # attr, dtype, shape, bytes_in_file, bytes; and the limit a load applies.
    expanded_constants: list[dict[str, Any]] = field(default_factory=list)
    constant_limit_bytes: int = 0


def _checked_path(path: str | os.PathLike[str]) -> str:
    """A NUL byte would cut the path short in C++: another file would load."""
    path = os.fspath(path)
    if "\0" in path:
        raise ValueError(f"model path {path!r} contains a NUL byte")
    return path


def inspect_file(path: str | os.PathLike[str]) -> FileInfo:
    """Signature and unsafe ops of a frozen .pb or a SavedModel directory (tags
    "serve", signature "serving_default"), read without a session: safe on
    files you do not trust."""
    described = _core.inspect(_checked_path(path))
    return FileInfo(
        _specs(described["inputs"]),
        _specs(described["outputs"]),
        described["unsafe_ops"],
        described["expanded_constants"],
        described["constant_limit_bytes"],
    )


class Model:
    """A frozen model loaded into the C++ runtime.

    >>> model = tfreeze.Model("digits.pb", intra_op_threads=1)
    >>> probs = model.run(images)["probs"]
    """

    def __init__(
        self, path: str | os.PathLike[str], *, isolated: bool = False, **options: Any
    ) -> None:
        """Loads ``path``: a frozen .pb, or a SavedModel directory (inputs and
        outputs then named by the signature's keys, in key order).

        Options (all keyword, all optional):

        - ``intra_op_threads``, ``inter_op_threads``: positive thread counts
        - ``device``: "cpu", "cpu:N", "gpu", "gpu:N" (DeviceError if absent)
        - ``gpu_allow_growth`` (bool), ``gpu_memory_fraction`` (0-1],
          ``visible_devices`` ("0,1")
        - ``xla``: XLA JIT compilation (bool)
        - ``config_proto``: serialized tensorflow.ConfigProto bytes for anything else
        - ``signature``, ``tags``: for SavedModels ("serving_default", ("serve",))
        - ``graph_optimizations``: Grappler at session start (default True)
        - ``executor``: "auto" (the default: single_threaded for graphs with at
          most 4 MiB of weights, where it can run them; default otherwise),
          "default" (TensorFlow's) or "single_threaded" (ops one after another in
          the calling thread: much less overhead per op; CPU only, no TF1
          Switch/Merge control flow); ``Model.executor`` says which runs
        - ``caller_thread``: run each step in the calling thread (bool)
        - ``allow_unsafe_ops``: ops that touch files, the network or the process
          are refused (UnsafeOpError) unless allowed: True for all, or a list of
          op names. Allow only for files you trust
        - ``config``: a file written by ``tfreeze tune``; its settings win
        - ``isolated``: run TensorFlow in a child process (``tfreeze-worker``), so
          that TensorFlow aborting raises ModelCrashedError here instead of ending
          this process; the next call starts a new worker. Each call copies feeds
          and outputs through a socket (docs/reliability.md has the cost).
          ``verify`` is in-process only
        - ``memory_limit_bytes``, ``cpu_seconds``: limits on that child (address
          space, total CPU time); isolated models only
        - ``max_constant_bytes``: how much memory constants the file stores as
          one value and a shape (TensorFlow fills them in) may take: default
          the larger of 256 MiB and 4x the graph's size; a byte count, or
          "unlimited". Past it, ConstantTooLargeError at load
        """
        if not isolated and (options.get("memory_limit_bytes") or options.get("cpu_seconds")):
            raise ValueError("memory_limit_bytes and cpu_seconds need isolated=True")
        native = _core.IsolatedModel if isolated else _core.Model
        self._native = native(_checked_path(path), make_options(**options))
        self._init_specs()

    @classmethod
    def from_bytes(cls, graph_def: bytes, **options: Any) -> Model:
        """Loads a frozen GraphDef held in memory; options as for the constructor."""
        model = cls.__new__(cls)
        model._native = _core.Model.from_bytes(graph_def, make_options(**options))
        model._init_specs()
        return model

    def _init_specs(self) -> None:
        self._isolated = isinstance(self._native, _core.IsolatedModel)
        self.inputs: list[TensorSpec] = _specs(self._native.inputs)
        self.outputs: list[TensorSpec] = _specs(self._native.outputs)

    @property
    def isolated(self) -> bool:
        """Whether TensorFlow runs in a child process (``isolated=True``)."""
        return self._isolated

    @property
    def worker_pid(self) -> int | None:
        """The isolated model's worker process id; None when in-process, or
        between a crash and the next call."""
        native = self._native
        pid = native.worker_pid if self.isolated and native is not None else -1
        return pid if pid > 0 else None

    def close(self) -> None:
        """Releases the session and its memory now (an isolated model's worker
        stops); later calls raise ModelClosedError, and closing again does
        nothing. A call already running in another thread finishes first: it
        holds the session until it returns. Leaving a ``with`` block closes."""
        native, self._native = self._native, None
        if isinstance(native, _core.IsolatedModel):
            native.close()

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._native is None

    def _session(self) -> Any:
        """The native model, or ModelClosedError once closed. Callers keep the
        returned object for their whole call, so a concurrent close() cannot
        free the session under them."""
        native = self._native
        if native is None:
            raise ModelClosedError("this model was closed; load the file again to run it")
        return native

    def __enter__(self) -> Model:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def executor(self) -> str:
        """The executor the session runs with ("default" or "single_threaded")."""
        return self._session().executor

    @property
    def input_names(self) -> list[str]:
        return [spec.name for spec in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [spec.name for spec in self.outputs]

    def run(
        self,
        feeds: Mapping[str, Any] | np.ndarray,
        fetches: Sequence[str] | None = None,
    ) -> dict[str, np.ndarray]:
        """Runs the model in C++ (the GIL is released while TensorFlow runs).

        ``feeds`` maps input names to arrays; a one-input model also takes the
        array alone. ``fetches`` names the outputs to compute (a name, or a
        list; default or empty: all). Returns output name -> array, in fetch order.
        """
        native = self._session()
        names = _fetch_names(fetches) or self.output_names
        arrays = native.run(self._normalize(feeds), names)
        return dict(zip(names, arrays, strict=True))

    def verify(self) -> dict[str, Any]:
        """Replays the test vectors the freezer stored in the file, in C++.

        Returns ``passed``, ``cases``, ``rtol``, ``atol`` and ``checks`` (per output
        and case: ``max_abs``, ``max_rel``, ``shape_ok``, ``passed``). Raises
        tfreeze.Error when the file carries no test vectors, or for an isolated model.
        """
        native = self._session()
        if self.isolated:
            raise Error("verify runs in-process only: load the model without isolated=True")
        return native.verify()

    def benchmark(
        self,
        feeds: Mapping[str, Any] | np.ndarray | None = None,
        *,
        batch_size: int = 1,
        warmup: int = 10,
        iterations: int = 200,
        max_seconds: float = 0.0,
        seed: int = 0,
    ) -> dict[str, Any]:
        """Times ``run`` in a C++ loop; random feeds of ``batch_size`` when none given.

        Returns p50_us, p90_us, p99_us, mean_us, stddev_us, min_us, max_us,
        iterations and samples_us (every timed run).
        """
        native = self._session()
        if feeds is None:
            feeds = self.random_feeds(batch_size=batch_size, seed=seed)
        if self.isolated:
            return _benchmark_isolated(
                native, self._normalize(feeds), warmup, iterations, max_seconds
            )
        return native.benchmark(self._normalize(feeds), warmup, iterations, max_seconds)

    def random_feeds(
        self, *, batch_size: int = 1, open_dim: int = 4, seed: int = 0
    ) -> dict[str, np.ndarray]:
        """Seeded random feeds that fit the signature.

        The first open dimension gets ``batch_size``, any other ``open_dim``.
        """
        rng = np.random.default_rng(seed)
        return {
            spec.name: random_array(spec, rng, batch_size=batch_size, open_dim=open_dim)
            for spec in self.inputs
        }

    def _normalize(self, feeds: Mapping[str, Any] | np.ndarray) -> dict[str, Any]:
        if isinstance(feeds, Mapping):
            by_name = {spec.name: spec for spec in self.inputs}
            return {
                self._feed_name(name): _as_array(value, by_name.get(name))
                for name, value in feeds.items()
            }
        if feeds is None:
            raise InputError("feeds must be a dict of input name -> array, got None")
        if len(self.inputs) != 1:
            raise InputError(
                f"this model has {len(self.inputs)} inputs; pass a dict keyed by name: "
                + ", ".join(self.input_names)
            )
        return {self.inputs[0].name: _as_array(feeds, self.inputs[0])}

    def _feed_name(self, name: Any) -> str:
        if isinstance(name, str):
            return name
        raise UnknownNameError(
            f"feed keys are input names (str), got {type(name).__name__} {name!r}; "
            f"inputs: {', '.join(self.input_names)}"
        )

    def __repr__(self) -> str:
        def describe(specs: list[TensorSpec]) -> str:
            return ", ".join(f"{s.name}: {s.dtype_name}{list(s.shape)}" for s in specs)

        return f"Model(inputs=[{describe(self.inputs)}], outputs=[{describe(self.outputs)}])"


def _benchmark_isolated(
    native: Any, feeds: dict[str, Any], warmup: int, iterations: int, max_seconds: float
) -> dict[str, Any]:
    """The timing loop in Python: each run's cost includes the round trip."""
    for _ in range(warmup):
        native.run(feeds)
    samples: list[float] = []
    start = time.perf_counter()
    while len(samples) < iterations:
        before = time.perf_counter()
        native.run(feeds)
        samples.append((time.perf_counter() - before) * 1e6)
        if max_seconds and time.perf_counter() - start > max_seconds:
            break
    return _core.summarize_latencies(samples)


def _fetch_names(fetches: Sequence[str] | str | None) -> list[str]:
    if fetches is None:
        return []
    if isinstance(fetches, str):
        return [fetches]
    if not isinstance(fetches, Iterable) or isinstance(fetches, bytes | Mapping):
        raise TypeError(
            f"fetches must be an output name or a list of names, got {type(fetches).__name__}"
        )
    return list(fetches)


def _as_array(value: Any, spec: TensorSpec | None) -> Any:
    """Arrays pass through untouched (a wrong dtype is an error, not a cast);
    Python lists and scalars take the signature's dtype. A strided view is
    copied here, where running out of memory can still name the input."""
    name = spec.name if spec is not None else "?"
    if spec is not None:
        _check_feed_kind(value, spec)
    try:
        if isinstance(value, np.ndarray) or spec is None:
            if _runs_in_place(value):
                return value
            return np.ascontiguousarray(value, value.dtype.newbyteorder("="))
        return np.asarray(value, dtype=spec.dtype)
    except MemoryError:
        shape = "x".join(str(d) for d in np.shape(value))
        raise InputError(
            f'input "{name}": a {shape} array does not fit in memory; feed a smaller batch'
        ) from None
    except (TypeError, ValueError) as error:
        raise InputError(
            f'input "{name}": a {type(value).__name__} that is not an array of '
            f"{spec.dtype_name if spec else 'one dtype'}: {_first_line(error)}"
        ) from None


def _check_feed_kind(value: Any, spec: TensorSpec) -> None:
    """What numpy would turn silently into the wrong thing (None into a NaN
    scalar) or fail on in its own words (bytes for a float input)."""
    expected = f'input "{spec.name}": expected {spec.dtype_name} {_shape_text(spec.shape)}'
    if value is None:
        raise InputError(f"{expected}, got None; feed an array, or leave optional inputs out")
    is_string_input = spec.dtype == np.dtype(object)
    if isinstance(value, str | bytes) and not is_string_input:
        raise DTypeError(f"{expected}, got {type(value).__name__}; feed a numeric array")
    if isinstance(value, np.ndarray) and value.dtype == object and not is_string_input:
        raise DTypeError(
            f"{expected}, got an array of Python objects; convert it first: "
            f"np.asarray(value, dtype=np.{spec.dtype_name})"
        )


def _shape_text(shape: tuple[int | None, ...]) -> str:
    """[?,12], as the C++ runtime's messages write shapes."""
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _runs_in_place(value: Any) -> bool:
    """C++ takes a C-ordered, native-endian array without copying it."""
    return (
        not isinstance(value, np.ndarray)
        or value.dtype == object
        or (value.flags.c_contiguous and value.dtype.isnative)
    )
