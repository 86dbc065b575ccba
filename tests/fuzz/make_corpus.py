"""Writes the seed corpus for the fuzz targets: the test models, frozen.

    python tests/fuzz/make_corpus.py build/fuzz/corpus

Writes DIR/load/<model>.pb, one frozen file per small test model of
tests/models.py, and the crafted files of tests/crafted.py (the load target's
seeds; the feed target builds its own). `make_corpus.py --crafted DIR` writes
only the crafted ones (how tests/fuzz/regressions/load got them).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import crafted  # noqa: E402  (tests/crafted.py)
import models  # noqa: E402  (tests/models.py)
import tfreeze  # noqa: E402

SMALL_MODELS = ("mlp", "cnn", "two_in_two_out", "lstm", "text", "identity")


def main(out: Path) -> None:
    load_dir = out / "load"
    load_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        for name in SMALL_MODELS:
            target = load_dir / f"{name}.pb"
            tfreeze.freeze(
                models.BUILDERS.get(name, getattr(models, name))(), Path(scratch) / f"{name}.pb"
            )
            target.write_bytes((Path(scratch) / f"{name}.pb").read_bytes())
            print(f"{target}: {target.stat().st_size} bytes")
    # Files crafted past earlier checks: duplicated fields, shapes through
    # pass-through ops, constants claiming gigabytes. Mutating them finds the
    # next differential.
    write_crafted(load_dir)


def write_crafted(directory: Path) -> None:
    (directory / "print-to-file-twice.pb").write_bytes(
        crafted.print_to_file_twice(Path("/nonexistent/printed.txt"))
    )
    for name, (build, _) in crafted.CRAFTED_GRAPHS.items():
        (directory / f"{name}.pb").write_bytes(build())
    # A constant TensorFlow fills in that loads (tf.zeros, folded): mutating its
    # shape finds claims the size check misses.
    zeros = crafted.broadcast_constant(1000 * 1000, values=(0.0,))
    (directory / "const-broadcast-zeros.pb").write_bytes(zeros)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--crafted"]:
        write_crafted(Path(sys.argv[2]))
    else:
        main(Path(sys.argv[1] if len(sys.argv) > 1 else "build/fuzz/corpus"))
