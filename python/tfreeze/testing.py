"""Parity assertions for your own test suite.

    from tfreeze.testing import assert_parity

    def test_my_model_runs_the_same_in_cpp(tmp_path):
        tfreeze.freeze(model, tmp_path / "model.pb")
        assert_parity(model, tmp_path / "model.pb", rtol=1e-5, atol=1e-6)

Three runs of the same inputs are compared: the C++ runtime, Python
TensorFlow's run of the same .pb (must be bit-exact: same graph, same kernels,
same thread settings) and the source model's own prediction (within
tolerance). On failure, ParityError carries the report; with the tfreeze
pytest plugin (installed with tfreeze, ``-p tfreeze.pytest_plugin``), the report
is printed as a table under the failing test.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from tfreeze.measure.parity import ParityReport, check_parity

__all__ = ["ParityError", "assert_parity", "format_report"]


class ParityError(AssertionError):
    """C++ outputs differ from Python's run of the .pb or from the source model."""

    def __init__(self, report: ParityReport) -> None:
        super().__init__(format_report(report))
        self.report = report


def assert_parity(
    source: Any,
    pb_path: str | os.PathLike[str],
    inputs: dict[str, np.ndarray] | None = None,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    batch_size: int = 2,
    seed: int = 0,
    threads: int = 1,
) -> ParityReport:
    """Raises ParityError unless C++ == Python-.pb bit for bit and C++ is
    within rtol/atol of ``source`` (a Keras model or .keras path; None to skip).
    ``inputs`` default to seeded random arrays of the signature's dtypes and
    shapes (open dims: ``batch_size``). Returns the report when it passes."""
    report = check_parity(
        source,
        pb_path,
        inputs=inputs,
        batch_size=batch_size,
        seed=seed,
        rtol=rtol,
        atol=atol,
        threads=threads,
    )
    if not report.passed:
        raise ParityError(report)
    return report


def _cell(value: float) -> str:
    return "inf" if value == float("inf") else f"{value:.3g}"


def format_report(report: ParityReport) -> str:
    """A plain-text table: one row per output and comparison."""
    header = (
        f"parity {'PASS' if report.passed else 'FAIL'} (batch {report.batch_size}, "
        f"rtol {report.rtol:g}, atol {report.atol:g})"
    )
    rows = [("output", "comparison", "result", "max abs", "max rel", "max ULP", "worst at")]
    for output in report.outputs:
        pairs = [
            ("C++ vs Python .pb (bit-exact)", output.cpp_vs_python, output.cpp_vs_python.bit_exact)
        ]
        if output.cpp_vs_source is not None:
            pairs.append(
                ("C++ vs source", output.cpp_vs_source, output.cpp_vs_source.within_tolerance)
            )
        for label, diff, ok in pairs:
            result = "ok" if ok else ("SHAPE " if not diff.shape_ok else "") + "FAIL"
            where = (
                str(diff.worst_index)
                if diff.worst_index is not None
                else (f"{diff.actual_shape} vs {diff.expected_shape}")
            )
            rows.append(
                (
                    output.name,
                    label,
                    result,
                    _cell(diff.max_abs),
                    _cell(diff.max_rel),
                    _cell(diff.max_ulp),
                    where,
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    return "\n".join([header, *lines])
