"""Writes the seed corpus for the fuzz targets: the test models, frozen.

    python tests/fuzz/make_corpus.py build/fuzz/corpus

Writes DIR/load/<model>.pb, one frozen file per small test model of
tests/models.py (the load target's seeds; the feed target builds its own).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "build/fuzz/corpus"))
