"""tfreeze.testing and its pytest plugin, as users meet them."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import models
from tfreeze.compare import compare_arrays, ulp_distance
from tfreeze.testing import ParityError, assert_parity

pytest_plugins = ["pytester"]


def test_assert_parity_returns_the_report(frozen):
    item = frozen("cnn")
    report = assert_parity(item.model, item.path, batch_size=3)
    assert report.passed and report.batch_size == 3
    (output,) = report.outputs
    assert output.cpp_vs_python.bit_exact and output.cpp_vs_python.max_ulp == 0
    assert output.cpp_vs_source.max_ulp < 100


def test_assert_parity_with_given_inputs(frozen):
    item = frozen("mlp")
    x = np.linspace(-1, 1, 24, dtype=np.float32).reshape(2, 12)
    assert assert_parity(item.model, item.path, inputs={"features": x}).batch_size == 2


def test_a_different_model_raises_parity_error_with_a_readable_report(frozen):
    item = frozen("mlp")
    keras.utils.set_random_seed(7)
    other = models.mlp()
    with pytest.raises(ParityError) as caught:
        assert_parity(other, item.path)
    text = str(caught.value)
    assert text.startswith("parity FAIL (batch 2, rtol 1e-05, atol 1e-06)")
    assert "C++ vs Python .pb (bit-exact)" in text and "C++ vs source" in text
    assert "max ULP" in text and "worst at" in text
    assert not caught.value.report.passed


def test_ulp_distance_counts_representable_floats():
    one = np.float32(1.0)
    assert ulp_distance(np.array([one]), np.array([np.nextafter(one, np.float32(2))])) == 1
    assert ulp_distance(np.float32([-1e-45]), np.float32([1e-45])) == 2  # across zero
    assert ulp_distance(np.float32([0.0]), np.float32([-0.0])) == 0
    assert ulp_distance(np.float32([np.nan]), np.float32([1.0])) == float("inf")


def test_worst_index_points_at_the_largest_difference():
    actual = np.zeros((2, 3), np.float32)
    expected = actual.copy()
    expected[1, 2] = 0.5
    expected[0, 0] = 0.1
    diff = compare_arrays(actual, expected, rtol=1e-5, atol=1e-6)
    assert diff.worst_index == (1, 2) and diff.max_abs == pytest.approx(0.5)


def test_pytest_plugin_prints_the_report_and_offers_a_fixture(pytester, frozen):
    item = frozen("mlp")
    keras.utils.set_random_seed(9)
    models.mlp().save(pytester.path / "other.keras")
    pytester.makepyfile(
        f"""
        def test_parity(tfreeze_parity):
            tfreeze_parity("other.keras", {str(item.path)!r})
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*tfreeze parity report*", "*C++ vs source*FAIL*"])
