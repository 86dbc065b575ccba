"""Exceptions raised by tfreeze.

The C++ runtime's typed errors arrive as these classes (see
``python/src/register_errors.cc``). Each also derives from the built-in
exception a Python user would reach for, so ``except ValueError`` works too.
Every instance has ``code``: TensorFlow's status code name, e.g.
``"INVALID_ARGUMENT"``.
"""

from __future__ import annotations

__all__ = [
    "CompileError",
    "ConstantTooLargeError",
    "DTypeError",
    "DeviceError",
    "Error",
    "FreezeError",
    "InputError",
    "LoadError",
    "ModelClosedError",
    "ModelCrashedError",
    "ModelFileNotFoundError",
    "OutOfMemoryError",
    "RunError",
    "ShapeError",
    "UnknownNameError",
    "UnsafeOpError",
]


class Error(Exception):
    """Base class of every tfreeze error."""

    code: str = "UNKNOWN"


class LoadError(Error):
    """A model file could not be loaded: corrupt, foreign or unsigned GraphDef."""


class DeviceError(LoadError):
    """The requested device is not in this TensorFlow (e.g. a GPU on a CPU-only build)."""


class UnsafeOpError(LoadError, PermissionError):
    """The graph holds ops that reach outside the model (files, network, the
    process) that were not allowed; the message names each node and op."""


class ModelFileNotFoundError(LoadError, FileNotFoundError):
    """The model file does not exist or cannot be read."""


class ConstantTooLargeError(LoadError):
    """A constant whose shape claims far more memory than the file holds (one
    value and a shape of 2**30 elements: TensorFlow fills in the rest), refused
    at load before anything is allocated. The message names the node, its shape
    and size; ``max_constant_bytes=`` raises the limit for a file you trust."""


class InputError(Error, ValueError):
    """A feed or fetch does not match the model's signature."""


class UnknownNameError(InputError):
    """A feed or fetch name the signature does not know."""


class DTypeError(InputError, TypeError):
    """A tensor of the wrong element type."""


class ShapeError(InputError):
    """A tensor whose rank or a known dimension differs from the signature."""


class RunError(Error, RuntimeError):
    """TensorFlow failed while running the graph."""


class ModelCrashedError(RunError):
    """The worker process of an isolated model died during a call (TensorFlow
    aborted, a resource limit was hit, it was killed). The message ends with
    its last lines on stderr; ``signal`` (0 if it exited) and ``exit_code``
    (-1 if a signal ended it) say how. The next call starts a new worker."""

    signal: int = 0
    exit_code: int = -1


class ModelClosedError(Error, RuntimeError):
    """A call on a Model after ``close()`` (or after its ``with`` block): the
    session and its memory are gone; load the file again to go on."""


class OutOfMemoryError(RunError, MemoryError):
    """Memory ran out while TensorFlow ran the graph (code
    ``RESOURCE_EXHAUSTED``). Memory that runs out while loading is a
    ``LoadError`` with the same code."""


class FreezeError(Error):
    """A model could not be frozen, or the frozen graph does not match it."""


class CompileError(Error):
    """A frozen graph could not be compiled ahead of time (``tfreeze compile``):
    ops XLA cannot compile, open dimensions, or a failed C++ build."""
