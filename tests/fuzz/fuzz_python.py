"""Fuzz target for the Python entry points: tfreeze.inspect_file, tfreeze.Model
and Model.run (zero-filled feeds of the signature's shapes) on arbitrary bytes.

    python tests/fuzz/fuzz_python.py CORPUS_DIR... [atheris/libFuzzer flags]
    python tests/fuzz/fuzz_python.py --mutate SECONDS CORPUS_DIR...

With atheris installed, the first form runs coverage-guided fuzzing; --mutate
(and tests/test_fuzz.py) replays the corpus plus seeded random mutations
without it. Every input must end in a result or a tfreeze.Error; anything else
propagates and is a finding.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import tfreeze
from tfreeze.runtime import inspect_file

MAX_FEED_ELEMENTS = 1 << 16
_SCRATCH = Path(tempfile.mkdtemp(prefix="tfreeze-fuzz-"))


def _zero_feeds(model: tfreeze.Model) -> dict[str, np.ndarray] | None:
    feeds = {}
    for spec in model.inputs:
        if spec.optional:
            continue
        shape = tuple(1 if size is None else size for size in spec.shape)
        if any(size > MAX_FEED_ELEMENTS for size in shape) or np.prod(shape) > MAX_FEED_ELEMENTS:
            return None
        feeds[spec.name] = (
            np.zeros(shape, spec.dtype) if spec.dtype != object else np.full(shape, b"", object)
        )
    return feeds


def one_input(data: bytes) -> bool:
    """Runs one input; True if the model ran, False on a tfreeze.Error."""
    path = _SCRATCH / "input.pb"
    path.write_bytes(data)
    try:
        inspect_file(path)
        model = tfreeze.Model(path, intra_op_threads=1, inter_op_threads=1)
        feeds = _zero_feeds(model)
        if feeds is None:
            return False
        model.run(feeds)
        return True
    except tfreeze.Error:
        return False


def _mutate(pool: list[bytes], rng: random.Random) -> bytes:
    data = bytearray(rng.choice(pool))
    for _ in range(rng.randint(1, 8)):
        at = rng.randrange(len(data)) if data else 0
        kind = rng.randrange(4)
        if kind == 0 and data:
            data[at] ^= 1 << rng.randrange(8)
        elif kind == 1:
            data[at:at] = rng.randbytes(rng.randint(1, 4))
        elif kind == 2:
            del data[at : at + rng.randint(1, 8)]
        else:
            other = rng.choice(pool)
            start = rng.randrange(len(other)) if other else 0
            data[at:at] = other[start : start + rng.randint(1, 64)]
    return bytes(data)


def mutate_for(seconds: float, corpus: list[Path], seed: int = 1) -> dict[str, int]:
    """Replays every corpus file, then random mutations until `seconds` pass."""
    pool = [
        p.read_bytes() for d in corpus if d.is_dir() for p in sorted(d.iterdir()) if p.is_file()
    ]
    counts = {"executions": 0, "ran": 0, "typed_errors": 0}
    rng = random.Random(seed)
    deadline = time.monotonic() + seconds
    for data in pool + [b""]:
        counts["ran" if one_input(data) else "typed_errors"] += 1
        counts["executions"] += 1
    while pool and time.monotonic() < deadline:
        counts["ran" if one_input(_mutate(pool, rng)) else "typed_errors"] += 1
        counts["executions"] += 1
    return counts


def main(argv: list[str]) -> None:
    if len(argv) > 2 and argv[1] == "--mutate":
        print(mutate_for(float(argv[2]), [Path(a) for a in argv[3:]]))
        return
    import atheris  # only for coverage-guided runs (`make fuzz`)

    atheris.instrument_all()  # coverage of the Python code; the C++ stays uninstrumented
    atheris.Setup(argv, lambda data: one_input(bytes(data)))
    atheris.Fuzz()


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main(sys.argv)
