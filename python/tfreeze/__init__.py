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

if TYPE_CHECKING:
    from tfreeze.freezer import FreezeReport, freeze
    from tfreeze.runtime import Model, TensorSpec

# Public name -> the module that defines it, imported on first access (PEP 562).
_LAZY = {
    "FreezeReport": "tfreeze.freezer",
    "freeze": "tfreeze.freezer",
    "Model": "tfreeze.runtime",
    "TensorSpec": "tfreeze.runtime",
}

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


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later accesses skip this function
        return value
    raise AttributeError(f"module 'tfreeze' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
