"""Arrays TensorFlow takes without a copy.

TensorFlow wants tensor memory aligned to 64 bytes; numpy aligns its buffers
to 16. ``Model.run`` copies a misaligned feed once (in C++, with the
allocation checked) before TensorFlow sees it, so a large feed costs twice
its size at its peak. An array from ``empty_aligned``, or one that a Model
returned, is fed in place.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from tfreeze._native import _core
from tfreeze.errors import DTypeError

__all__ = ["empty_aligned", "is_aligned"]


def empty_aligned(shape: int | Iterable[int], dtype: Any = np.float32) -> np.ndarray:
    """An uninitialized C-ordered array whose data TensorFlow takes as it is.

    >>> images = tfreeze.empty_aligned((64, 224, 224, 3), np.float32)
    >>> images[...] = decoded        # fill in place, then feed without a copy
    """
    dtype = np.dtype(dtype)
    if dtype == np.dtype(object):
        raise DTypeError("string tensors are always copied into TensorFlow's own format")
    dims = (shape,) if isinstance(shape, int) else tuple(shape)
    nbytes = math.prod(dims) * dtype.itemsize
    alignment = _core.tensor_alignment()
    raw = np.empty(nbytes + alignment, dtype=np.uint8)
    offset = -raw.ctypes.data % alignment
    return raw[offset : offset + nbytes].view(dtype).reshape(dims)


def is_aligned(array: np.ndarray) -> bool:
    """Whether ``Model.run`` feeds ``array`` without copying it: C-ordered,
    native byte order, not strings, its data aligned as TensorFlow wants."""
    return (
        array.flags.c_contiguous
        and array.dtype.isnative
        and array.dtype != np.dtype(object)
        and array.ctypes.data % _core.tensor_alignment() == 0
    )
