"""Comparing output arrays: bit-exactness and tolerance, with the figures a
report needs (max absolute and relative difference)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["ArrayDiff", "compare_arrays"]


@dataclass(frozen=True)
class ArrayDiff:
    """How far ``actual`` is from ``expected``."""

    shape_ok: bool
    bit_exact: bool
    max_abs: float
    max_rel: float
    within_tolerance: bool
    actual_shape: tuple[int, ...]
    expected_shape: tuple[int, ...]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _numeric(array: np.ndarray) -> bool:
    return (
        array.dtype != np.dtype(object)
        and array.dtype.kind in "fiub"
        or (array.dtype.name == "bfloat16")
    )


def compare_arrays(
    actual: np.ndarray, expected: np.ndarray, *, rtol: float, atol: float
) -> ArrayDiff:
    """Tolerance follows numpy.allclose: |a - e| <= atol + rtol * |e|; NaNs
    must match NaNs. Non-numeric arrays (strings) must be equal."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.shape != expected.shape:
        return ArrayDiff(
            False, False, float("inf"), float("inf"), False, actual.shape, expected.shape
        )
    bit_exact = actual.dtype == expected.dtype and actual.tobytes() == expected.tobytes()
    if not (_numeric(actual) and _numeric(expected)):
        equal = bool(np.array_equal(actual, expected))
        return ArrayDiff(
            True,
            bit_exact,
            0.0 if equal else float("inf"),
            0.0 if equal else float("inf"),
            equal,
            actual.shape,
            expected.shape,
        )
    a = actual.astype(np.float64)
    e = expected.astype(np.float64)
    nan_mismatch = bool(np.any(np.isnan(a) != np.isnan(e)))
    both = ~(np.isnan(a) | np.isnan(e))
    diff = np.abs(a - e)[both]
    scale = np.abs(e)[both]
    max_abs = float(diff.max()) if diff.size else 0.0
    significant = scale > atol
    max_rel = float((diff[significant] / scale[significant]).max()) if significant.any() else 0.0
    within = not nan_mismatch and bool(np.all(diff <= atol + rtol * scale))
    return ArrayDiff(True, bit_exact, max_abs, max_rel, within, actual.shape, expected.shape)
