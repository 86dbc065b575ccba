"""Imports the compiled tfreeze._core module with an actionable error."""

from __future__ import annotations

try:
    from tfreeze import _core
except ImportError as error:  # pragma: no cover - depends on the installation
    raise ImportError(
        "tfreeze's C++ extension (tfreeze._core) is not available: "
        f"{error}. Build and install it with `pip install .` from the source tree "
        "(or `make demo`), and make sure TensorFlow 2.21 (tensorflow-cpu or "
        "tensorflow) is installed in the same environment."
    ) from error

__all__ = ["_core"]
