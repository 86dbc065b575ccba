"""tfreeze: freeze a TensorFlow/Keras model into one self-describing .pb and
run it from C++.

``import tfreeze`` loads nothing heavy: the C++ runtime (``Model``) and the
freezer load on first use, and TensorFlow's Python package only when a
freezing or comparison function is called. So ``tfreeze --help`` starts in a
blink and a program that only imports the package pays for nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tfreeze._version import __version__
from tfreeze.errors import (
    ConstantTooLargeError,
    DeviceError,
    DTypeError,
    Error,
    FreezeError,
    InputError,
    LoadError,
    ModelClosedError,
    ModelCrashedError,
    ModelFileNotFoundError,
    OutOfMemoryError,
    RunError,
    ShapeError,
    UnknownNameError,
    UnsafeOpError,
)

if TYPE_CHECKING:
    from tfreeze.freezer import FreezeReport, freeze
    from tfreeze.runtime import Model, TensorSpec, empty_aligned, is_aligned

# Public name -> the module that defines it, imported on first access (PEP 562).
_LAZY = {
    "FreezeReport": "tfreeze.freezer",
    "freeze": "tfreeze.freezer",
    "Model": "tfreeze.runtime",
    "TensorSpec": "tfreeze.runtime",
    "empty_aligned": "tfreeze.runtime",
    "is_aligned": "tfreeze.runtime",
}

__all__ = [
    "ConstantTooLargeError",
    "DTypeError",
    "DeviceError",
    "Error",
    "FreezeError",
    "FreezeReport",
    "InputError",
    "LoadError",
    "Model",
    "ModelClosedError",
    "ModelCrashedError",
    "ModelFileNotFoundError",
    "OutOfMemoryError",
    "RunError",
    "ShapeError",
    "TensorSpec",
    "UnknownNameError",
    "UnsafeOpError",
    "__version__",
    "empty_aligned",
    "freeze",
    "is_aligned",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later accesses skip this function
        return value
    raise AttributeError(f"module 'tfreeze' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
