"""Per-call latency of Model(path, isolated=True) against the same model
in-process: MLP and the demo CNN, batch 1 and 32, one intra- and one inter-op
thread, p50 of `model.run` timed from Python in alternating blocks (both sides
pay the same Python cost; the difference is the worker round trip: feeds and
outputs copied through a Unix socket, two context switches).

    python benchmarks/isolation.py [--iterations 2000]

Prints a markdown table and writes benchmarks/results/isolation.json. The
models are frozen in a separate process: TensorFlow's Python package loaded in
the measuring process slowed the in-process runs 2-4x here.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the test models

import numpy as np  # noqa: E402

import tfreeze  # noqa: E402

BLOCKS = 10
MODELS = ("mlp", "digits_cnn")


def freeze_all(directory: Path) -> None:
    import models
    from tfreeze.examples.digits import build_digits_cnn

    for name, build in zip(MODELS, (models.mlp, build_digits_cnn), strict=True):
        tfreeze.freeze(build(), directory / f"{name}.pb")


def p50_us(model: tfreeze.Model, feeds: dict, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        model.run(feeds)
        samples.append((time.perf_counter() - start) * 1e6)
    return samples


def compare(path: Path, batch: int, iterations: int) -> dict:
    options = {"intra_op_threads": 1, "inter_op_threads": 1}
    local = tfreeze.Model(path, **options)
    isolated = tfreeze.Model(path, isolated=True, **options)
    feeds = local.random_feeds(batch_size=batch)
    for name, value in local.run(feeds).items():  # same answers, bit for bit
        np.testing.assert_array_equal(isolated.run(feeds)[name], value)
    samples: dict[str, list[float]] = {"in_process": [], "isolated": []}
    for _ in range(BLOCKS):
        for label, model in (("in_process", local), ("isolated", isolated)):
            p50_us(model, feeds, 20)  # warm the caches after the other side ran
            samples[label] += p50_us(model, feeds, iterations // BLOCKS)
    isolated.close()
    result = {label: float(np.median(values)) for label, values in samples.items()}
    result["overhead_us"] = result["isolated"] - result["in_process"]
    result["bytes_per_call"] = sum(v.nbytes for v in feeds.values()) + sum(
        v.nbytes for v in local.run(feeds).values()
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--freeze-into", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.freeze_into:
        freeze_all(args.freeze_into)
        return
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run([sys.executable, __file__, "--freeze-into", scratch], check=True)
        for name in MODELS:
            path = Path(scratch) / f"{name}.pb"
            for batch in (1, 32):
                result = compare(path, batch, args.iterations)
                rows.append({"model": name, "batch": batch, **result})
    print("| model | batch | in-process p50 (µs) | isolated p50 (µs) | added (µs) | bytes/call |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(
            f"| {r['model']} | {r['batch']} | {r['in_process']:.1f} | {r['isolated']:.1f} "
            f"| {r['overhead_us']:.1f} | {r['bytes_per_call']} |"
        )
    out = ROOT / "benchmarks" / "results" / "isolation.json"
    out.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
