"""tfreeze: freeze a TensorFlow/Keras model into one self-describing .pb and
run it from C++.

``import tfreeze`` does not import TensorFlow's Python package; only the
freezing and comparison functions do, when called.
"""

from __future__ import annotations

from tfreeze._version import __version__
from tfreeze.errors import (
    DeviceError,
    DTypeError,
    Error,
    FreezeError,
    InputError,
    LoadError,
    ModelCrashedError,
    ModelFileNotFoundError,
    RunError,
    ShapeError,
    UnknownNameError,
    UnsafeOpError,
)
from tfreeze.freezer import FreezeReport, freeze
from tfreeze.runtime import Model, TensorSpec

__all__ = [
    "DTypeError",
    "DeviceError",
    "Error",
    "FreezeError",
    "FreezeReport",
    "InputError",
    "LoadError",
    "Model",
    "ModelCrashedError",
    "ModelFileNotFoundError",
    "RunError",
    "ShapeError",
    "TensorSpec",
    "UnknownNameError",
    "UnsafeOpError",
    "__version__",
    "freeze",
]
