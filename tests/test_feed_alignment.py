"""Feeds TensorFlow cannot take in place (issue 26 item 3): numpy aligns large
buffers to 16 bytes, TensorFlow wants 64. tfreeze copies such a feed itself,
with the allocation checked, so running out of memory is a typed error naming
the input instead of a segfault inside TensorFlow's unchecked copy; aligned
arrays (tfreeze.empty_aligned, or a Model's own outputs) go in without a copy."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tfreeze
from tfreeze._native import _core


def misaligned(shape: tuple[int, ...], dtype: type, offset: int) -> np.ndarray:
    """An array whose data starts `offset` bytes past a 64-byte boundary."""
    itemsize = np.dtype(dtype).itemsize
    raw = tfreeze.empty_aligned(int(np.prod(shape)) * itemsize + 64, np.uint8)
    return raw[offset : offset + int(np.prod(shape)) * itemsize].view(dtype).reshape(shape)


def test_empty_aligned_gives_what_tensorflow_takes_in_place():
    array = tfreeze.empty_aligned((3, 5), np.float64)
    assert array.shape == (3, 5) and array.dtype == np.float64
    assert array.ctypes.data % _core.tensor_alignment() == 0
    assert tfreeze.is_aligned(array)
    array[...] = 7.0  # writable
    assert not tfreeze.is_aligned(misaligned((3, 5), np.float64, 16))
    assert not tfreeze.is_aligned(array.T)  # not C-ordered


def test_tensorflow_wants_64_byte_alignment():
    # numpy promises 16; where a buffer lands past that is up to malloc.
    assert _core.tensor_alignment() == 64


def test_empty_aligned_refuses_strings():
    with pytest.raises(tfreeze.DTypeError, match="string"):
        tfreeze.empty_aligned(4, object)


@pytest.mark.parametrize("offset", [4, 16, 32, 48])
def test_misaligned_feeds_give_the_aligned_results(frozen, offset):
    model = tfreeze.Model(frozen("mlp").path)
    source = np.random.default_rng(offset).standard_normal((9, 12)).astype(np.float32)
    shifted = misaligned(source.shape, np.float32, offset)
    shifted[...] = source
    aligned = tfreeze.empty_aligned(source.shape, np.float32)
    aligned[...] = source
    np.testing.assert_array_equal(
        model.run(shifted)["scores"], model.run(aligned)["scores"], strict=True
    )


def test_an_output_fed_back_is_aligned(frozen):
    model = tfreeze.Model(frozen("mlp").path)
    out = model.run(np.zeros((2, 12), np.float32))["scores"]
    assert tfreeze.is_aligned(out)


# The copy of a misaligned 1.5 GB feed cannot be allocated under an address
# space limit that leaves it 0.5 GB: before, TensorFlow's own copy wrote through
# the null pointer its allocator returned (SIGSEGV).
_OUT_OF_MEMORY = textwrap.dedent(
    """
    import resource, sys, numpy as np, tfreeze
    model = tfreeze.Model(sys.argv[1])
    model.run(np.zeros((1, 12), np.float32))
    rows = (3 << 29) // 48  # 1.5 GB of float32 rows of 12
    raw = np.zeros(rows * 48 + 128, np.uint8)
    start = (16 - raw.ctypes.data) % 64
    feed = raw[start : start + rows * 48].view(np.float32).reshape(rows, 12)
    assert feed.ctypes.data % 64 == 16
    with open("/proc/self/status") as status:
        vm_kb = next(int(l.split()[1]) for l in status if l.startswith("VmSize:"))
    limit = (vm_kb << 10) + (1 << 29)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        model.run(feed)
    except tfreeze.RunError as error:
        print(type(error).__name__, error.code, error, sep="|")
    """
)


def test_a_misaligned_feed_too_large_to_copy_is_a_typed_error(frozen):
    result = subprocess.run(
        [sys.executable, "-c", _OUT_OF_MEMORY, str(frozen("mlp").path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    kind, code, message = result.stdout.strip().split("|")
    assert kind == "OutOfMemoryError" and code == "RESOURCE_EXHAUSTED"
    assert message.startswith('input "features": could not allocate 1610612736 bytes')
    assert "\n" not in message
