"""Signature dtype names ("float32", "string", ...) and their numpy dtypes.

A shared leaf: the runtime (feeds, Model) and the freezer (stored test
vectors) both translate signature dtypes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["numpy_dtype"]


def numpy_dtype(name: str) -> np.dtype:
    """The numpy dtype for a signature dtype name ("float32", "string", ...)."""
    if name == "string":
        return np.dtype(object)
    if name == "bfloat16":
        import ml_dtypes  # ships with TensorFlow

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)
