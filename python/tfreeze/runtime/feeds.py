"""Random inputs that fit a signature, for parity checks and benchmarks."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from tfreeze.dtypes import numpy_dtype

__all__ = ["concrete_shape", "random_array", "random_feeds_for"]

_WORDS = np.array(["the", "cat", "sat", "on", "a", "mat", "tfreeze", "graph"], dtype=object)


class _Spec(Protocol):
    dtype: np.dtype
    shape: tuple[int | None, ...]


def concrete_shape(shape: tuple[int | None, ...], batch_size: int, open_dim: int) -> tuple:
    """Fills open dimensions: the first with ``batch_size``, the rest with ``open_dim``."""
    filled = []
    for i, dim in enumerate(shape):
        if dim is None:
            dim = batch_size if i == 0 else open_dim
        filled.append(dim)
    return tuple(filled)


def random_array(
    spec: _Spec, rng: np.random.Generator, *, batch_size: int = 1, open_dim: int = 4
) -> np.ndarray:
    shape = concrete_shape(spec.shape, batch_size, open_dim)
    dtype = spec.dtype
    if dtype == np.dtype(object):
        return rng.choice(_WORDS, size=shape)
    if dtype == np.dtype(bool):
        return rng.random(shape) < 0.5
    if np.issubdtype(dtype, np.integer):
        return rng.integers(0, 10, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def random_feeds_for(
    entries: Any,
    *,
    batch_size: int = 1,
    open_dim: int = 4,
    seed: int = 0,
    rng: np.random.Generator | None = None,
    include_optional: bool = False,
) -> dict[str, np.ndarray]:
    """Random feeds for signature entries (IOEntry: dtype names, -1 for open dims);
    open dimensions filled as ``random_array`` does.

    Optional inputs are left out unless ``include_optional``: the graph has
    defaults for them, and random values in what is often a threshold or a
    flag make a run its users would never make.
    """
    rng = rng if rng is not None else np.random.default_rng(seed)
    return {
        entry.name: random_array(
            _EntrySpec(numpy_dtype(entry.dtype), tuple(None if d < 0 else d for d in entry.shape)),
            rng,
            batch_size=batch_size,
            open_dim=open_dim,
        )
        for entry in entries
        if include_optional or not getattr(entry, "optional", False)
    }


class _EntrySpec:
    def __init__(self, dtype: np.dtype, shape: tuple[int | None, ...]) -> None:
        self.dtype = dtype
        self.shape = shape
