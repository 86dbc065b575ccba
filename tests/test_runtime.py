"""The Python face of the C++ runtime: loading, feeding, zero copy, threads, GIL."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import numpy as np

import models
import tfreeze


def test_import_tfreeze_and_run_without_importing_tensorflow(frozen):
    path = frozen("mlp").path
    script = (
        "import sys, numpy as np, tfreeze\n"
        f"m = tfreeze.Model({str(path)!r})\n"
        "out = m.run(np.zeros((1, 12), np.float32))\n"
        "assert out['scores'].shape == (1, 3)\n"
        "print(sorted(k for k in sys.modules if k.split('.')[0] in ('tensorflow', 'keras')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_from_bytes_equals_from_file(frozen):
    path = frozen("mlp").path
    x = np.ones((2, 12), np.float32)
    from_file = tfreeze.Model(path).run(x)["scores"]
    from_bytes = tfreeze.Model.from_bytes(path.read_bytes()).run(x)["scores"]
    np.testing.assert_array_equal(from_file, from_bytes)


def test_python_lists_take_the_signature_dtype(frozen):
    model = tfreeze.Model(frozen("mlp").path)
    from_list = model.run([[0.5] * 12])["scores"]
    from_array = model.run(np.full((1, 12), 0.5, np.float32))["scores"]
    np.testing.assert_array_equal(from_list, from_array)


def test_non_contiguous_and_byte_swapped_feeds_are_handled(frozen):
    model = tfreeze.Model(frozen("mlp").path)
    base = np.random.default_rng(0).standard_normal((4, 24)).astype(np.float32)
    strided = base[:, ::2]
    assert not strided.flags.c_contiguous
    expected = model.run(np.ascontiguousarray(strided))["scores"]
    np.testing.assert_array_equal(model.run(strided)["scores"], expected)
    swapped = np.ascontiguousarray(strided).astype(">f4")
    np.testing.assert_array_equal(model.run(swapped)["scores"], expected)


def test_outputs_are_zero_copy_views_of_tensorflow_memory(frozen):
    out = tfreeze.Model(frozen("cnn").path).run(np.zeros((2, 16, 16, 3), np.float32))["logits"]
    assert not out.flags.owndata and out.base is not None  # owned by a capsule
    out[0, 0] = 42.0  # writable, and ours alone
    assert out[0, 0] == 42.0


def test_an_output_aliasing_the_input_is_copied(tmp_path):
    tfreeze.freeze(models.identity(), tmp_path / "identity.pb")
    model = tfreeze.Model(tmp_path / "identity.pb")
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    out = model.run(x)["same"]
    x[:] = -1
    np.testing.assert_array_equal(out, np.arange(8, dtype=np.float32).reshape(2, 4))


def test_fetch_subset_in_requested_order(frozen):
    model = tfreeze.Model(frozen("two_in_two_out").path)
    out = model.run(model.random_feeds(), fetches=["alpha"])
    assert list(out) == ["alpha"]


def test_concurrent_runs_from_python_threads_match_serial(frozen):
    model = tfreeze.Model(frozen("cnn").path)
    feeds = model.random_feeds(batch_size=3)
    expected = model.run(feeds)["logits"]
    failures: list[str] = []

    def worker() -> None:
        for _ in range(50):
            if not np.array_equal(model.run(feeds)["logits"], expected):
                failures.append("mismatch")

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_gil_is_released_while_cpp_runs(frozen):
    """While one thread is inside a long C++ benchmark, Python keeps running."""
    model = tfreeze.Model(frozen("lstm").path, intra_op_threads=1, inter_op_threads=1)
    feeds = model.random_feeds(batch_size=32)
    started, done = threading.Event(), threading.Event()

    def bench() -> None:
        started.set()
        model.benchmark(feeds, warmup=0, iterations=100_000, max_seconds=1.0)
        done.set()

    thread = threading.Thread(target=bench)
    thread.start()
    started.wait()
    began = last = time.perf_counter()
    longest_pause = 0.0
    while not done.is_set():
        now = time.perf_counter()
        longest_pause, last = max(longest_pause, now - last), now
    thread.join()
    # Holding the GIL would stall this loop for the whole one-second run.
    assert last - began > 0.5
    assert longest_pause < 0.25


def test_benchmark_stats(frozen):
    stats = tfreeze.Model(frozen("mlp").path).benchmark(batch_size=4, warmup=2, iterations=30)
    assert stats["iterations"] == 30 and len(stats["samples_us"]) == 30
    assert 0 < stats["min_us"] <= stats["p50_us"] <= stats["p90_us"] <= stats["p99_us"]
    assert stats["p99_us"] <= stats["max_us"]


def test_repr_shows_the_signature(frozen):
    text = repr(tfreeze.Model(frozen("mlp").path))
    assert text == "Model(inputs=[features: float32[None, 12]], outputs=[scores: float32[None, 3]])"


NON_FLOAT = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "bool"]
FLOAT = ["float16", "bfloat16", "float64", "float32"]


def test_every_dtype_goes_in_and_out(tmp_path):
    """Keras Identity keeps integer and bool dtypes and casts floats to float32."""
    import keras

    inputs = {d: keras.Input((3,), dtype=d, name=f"in_{d}") for d in NON_FLOAT + FLOAT}
    outputs = {f"out_{d}": keras.layers.Identity(name=f"id_{d}")(t) for d, t in inputs.items()}
    tfreeze.freeze(keras.Model(inputs, outputs), tmp_path / "dtypes.pb")
    model = tfreeze.Model(tmp_path / "dtypes.pb")
    feeds = model.random_feeds(batch_size=2, seed=3)
    out = model.run(feeds)
    for dtype in NON_FLOAT:
        assert feeds[dtype].dtype == np.dtype(dtype)
        np.testing.assert_array_equal(out[f"out_{dtype}"], feeds[dtype], strict=True)
    for dtype in FLOAT:
        assert str(feeds[dtype].dtype) == dtype
        expected = feeds[dtype].astype(np.float32)
        np.testing.assert_array_equal(out[f"out_{dtype}"], expected, strict=True)


def test_string_input_and_output(tmp_path):
    import keras

    text = keras.Input((), dtype="string", name="text")
    model = keras.Model(text, keras.layers.Identity(name="echo")(text))
    tfreeze.freeze(model, tmp_path / "echo.pb")
    loaded = tfreeze.Model(tmp_path / "echo.pb")
    assert loaded.inputs[0].dtype_name == "string"
    out = loaded.run(np.array(["héllo", "", "x" * 100]))["echo"]
    assert out.dtype == object
    assert out.tolist() == ["héllo".encode(), b"", b"x" * 100]
