"""The zoo: every model freezes, self-verifies, and runs from C++ bit-exactly
like Python TensorFlow's run of the same .pb and within tolerance of Keras."""

from __future__ import annotations

import keras
import pytest
from zoo import APPLICATIONS, ZOO

import tfreeze
from tfreeze.testing import assert_parity

RTOL, ATOL = 1e-5, 1e-6


@pytest.fixture(scope="session")
def zoo_frozen(tmp_path_factory):
    cache = {}

    def get(name: str):
        if name not in cache:
            keras.utils.set_random_seed(0)
            model = ZOO[name]()
            path = tmp_path_factory.mktemp("zoo") / f"{name}.pb"
            tfreeze.freeze(model, path, rtol=RTOL, atol=ATOL)
            cache[name] = (model, path)
        return cache[name]

    return get


def test_the_zoo_is_big_enough():
    assert len(ZOO) >= 30


@pytest.mark.parametrize("name", [n for n in ZOO if n not in APPLICATIONS])
def test_layer_zoo_parity(zoo_frozen, name):
    model, path = zoo_frozen(name)
    for batch_size in (1, 4):
        assert_parity(model, path, batch_size=batch_size, seed=batch_size, rtol=RTOL, atol=ATOL)
    assert tfreeze.Model(path).verify()["passed"]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(APPLICATIONS))
def test_application_zoo_parity(zoo_frozen, name):
    model, path = zoo_frozen(name)
    assert_parity(model, path, batch_size=2, rtol=RTOL, atol=ATOL)
    assert tfreeze.Model(path).verify()["passed"]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ZOO))
def test_bench_compares_and_plots_every_zoo_model(zoo_frozen, name, tmp_path):
    from tfreeze.measure import bench

    model, path = zoo_frozen(name)
    rows = bench.run_bench(
        str(path),
        batches=[1],
        threads=[1],
        runners=["tfreeze", "python", "onnxruntime", "keras"],
        source=model,
        warmup=1,
        iterations=3,
    )
    assert [r.runner for r in rows] == ["tfreeze", "python", "onnxruntime", "keras"]
    assert rows[0].error is None and rows[0].stats["iterations"] == 3
    for row in rows[1:]:  # a comparison may be impossible (tf2onnx lacks an op): then it says so
        assert (row.error is None and row.stats["p50_us"] > 0) or row.error
    bench.plot(rows, str(tmp_path / "plot.png"))
    assert (tmp_path / "plot.png").stat().st_size > 10_000
