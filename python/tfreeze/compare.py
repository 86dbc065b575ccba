"""Comparing output arrays: bit-exactness and tolerance, with the figures a
report needs (max absolute and relative difference, max ULP distance, and
where the worst element is)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["ArrayDiff", "compare_arrays", "ulp_distance"]

_INF = float("inf")


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
    max_ulp: float = 0.0  # floats of the same dtype only; inf where not comparable
    worst_index: tuple[int, ...] | None = None  # element with the largest |actual - expected|

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArrayDiff:
        fields = dict(data)
        for key in ("actual_shape", "expected_shape", "worst_index"):
            if fields.get(key) is not None:
                fields[key] = tuple(fields[key])
        return cls(**fields)


def _numeric(array: np.ndarray) -> bool:
    return array.dtype.name == "bfloat16" or (
        array.dtype != np.dtype(object) and array.dtype.kind in "fiub"
    )


def _ordered_ints(array: np.ndarray) -> np.ndarray:
    """Float bits mapped to integers that count representable values in order."""
    bits = {2: np.int16, 4: np.int32, 8: np.int64}[array.dtype.itemsize]
    raw = array.view(bits).astype(np.int64)
    sign_bit = np.int64(1) << (8 * array.dtype.itemsize - 1)
    return np.where(raw < 0, -(raw + sign_bit), raw)  # negatives mirror below zero


def ulp_distance(actual: np.ndarray, expected: np.ndarray) -> float:
    """Largest number of representable floats between matching elements
    (float16/32/64 and bfloat16 of one dtype; inf otherwise or on NaN)."""
    if actual.dtype != expected.dtype or not (
        actual.dtype.kind == "f" or actual.dtype.name == "bfloat16"
    ):
        return _INF if not np.array_equal(actual, expected) else 0.0
    if actual.size == 0:
        return 0.0
    if np.any(np.isnan(actual.astype(np.float64)) | np.isnan(expected.astype(np.float64))):
        return _INF
    distance = np.abs(
        _ordered_ints(np.ascontiguousarray(actual)) - _ordered_ints(np.ascontiguousarray(expected))
    )
    return float(distance.max())


def compare_arrays(
    actual: np.ndarray, expected: np.ndarray, *, rtol: float, atol: float
) -> ArrayDiff:
    """Tolerance follows numpy.allclose: |a - e| <= atol + rtol * |e|; NaNs
    must match NaNs. Non-numeric arrays (strings) must be equal."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    shapes = {"actual_shape": actual.shape, "expected_shape": expected.shape}
    if actual.shape != expected.shape:
        return ArrayDiff(
            shape_ok=False,
            bit_exact=False,
            max_abs=_INF,
            max_rel=_INF,
            within_tolerance=False,
            max_ulp=_INF,
            **shapes,
        )
    if not (_numeric(actual) and _numeric(expected)):
        # Strings: object arrays hold pointers, so compare the elements, which
        # are bytes and compare exactly.
        equal = bool(np.array_equal(actual, expected))
        gap = 0.0 if equal else _INF
        return ArrayDiff(
            shape_ok=True,
            bit_exact=equal and actual.dtype == expected.dtype,
            max_abs=gap,
            max_rel=gap,
            within_tolerance=equal,
            max_ulp=gap,
            **shapes,
        )
    bit_exact = actual.dtype == expected.dtype and actual.tobytes() == expected.tobytes()
    a = actual.astype(np.float64)
    e = expected.astype(np.float64)
    nan_mismatch = bool(np.any(np.isnan(a) != np.isnan(e)))
    full_diff = np.where(np.isnan(a) | np.isnan(e), 0.0, np.abs(a - e))
    scale = np.where(np.isnan(e), 0.0, np.abs(e))
    significant = scale > atol
    max_rel = (
        float((full_diff[significant] / scale[significant]).max()) if significant.any() else 0.0
    )
    worst = (
        tuple(int(i) for i in np.unravel_index(np.argmax(full_diff), full_diff.shape))
        if full_diff.size
        else None
    )
    return ArrayDiff(
        shape_ok=True,
        bit_exact=bit_exact,
        max_abs=float(full_diff.max()) if full_diff.size else 0.0,
        max_rel=max_rel,
        within_tolerance=not nan_mismatch and bool(np.all(full_diff <= atol + rtol * scale)),
        max_ulp=ulp_distance(actual, expected),
        worst_index=worst,
        **shapes,
    )
