"""close() and the feed checks the bad-input catalog does not reach (issue 26
item 6; the catalog, tests/test_bad_input_catalog.py, has the feeds a careless
caller gives: non-str keys, None, bytes, object arrays, ragged lists)."""

from __future__ import annotations

import threading
import weakref

import numpy as np
import pytest

import tfreeze


@pytest.fixture
def mlp(frozen):
    return tfreeze.Model(frozen("mlp").path)


def test_a_native_feed_keyed_by_a_non_string_is_typed_too(mlp):
    """The C++ side checks keys as well, for callers of tfreeze._core."""
    with pytest.raises(tfreeze.UnknownNameError, match="got bytes"):
        mlp._native.run({b"features": np.zeros((1, 12), np.float32)}, [])


def test_run_none_instead_of_a_dict(mlp):
    with pytest.raises(tfreeze.InputError, match="got None"):
        mlp.run(None)


def test_close_releases_the_session_and_later_calls_say_closed(mlp):
    native = weakref.ref(mlp._native)
    mlp.close()
    assert native() is None  # the C++ Model and its session are gone
    assert mlp.closed
    for call in (
        lambda: mlp.run(np.zeros((1, 12), np.float32)),
        lambda: mlp.benchmark(iterations=1),
        mlp.verify,
        lambda: mlp.executor,
    ):
        with pytest.raises(tfreeze.ModelClosedError, match="closed"):
            call()
    mlp.close()  # twice is fine


def test_leaving_the_with_block_closes(frozen):
    with tfreeze.Model(frozen("mlp").path) as model:
        model.run(np.zeros((1, 12), np.float32))
    with pytest.raises(tfreeze.ModelClosedError):
        model.run(np.zeros((1, 12), np.float32))


def test_isolated_close_raises_the_same_error(frozen):
    model = tfreeze.Model(frozen("mlp").path, isolated=True)
    model.run(np.zeros((1, 12), np.float32))
    model.close()
    assert model.worker_pid is None
    with pytest.raises(tfreeze.ModelClosedError):
        model.run(np.zeros((1, 12), np.float32))


def test_close_while_other_threads_run_lets_their_calls_finish(frozen):
    model = tfreeze.Model(frozen("mlp").path)
    feed = np.ones((256, 12), np.float32)
    expected = model.run(feed)["scores"]
    outcomes: list[str] = []
    started = threading.Barrier(5)

    def keep_running() -> None:
        started.wait()
        while True:
            try:
                np.testing.assert_array_equal(model.run(feed)["scores"], expected)
            except tfreeze.ModelClosedError:
                outcomes.append("closed")
                return

    threads = [threading.Thread(target=keep_running) for _ in range(4)]
    for thread in threads:
        thread.start()
    started.wait()
    model.close()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes == ["closed"] * 4
