"""What a large feed costs in memory: the copy of a misaligned array.

TensorFlow takes tensor memory only when it is aligned to 64 bytes; numpy
aligns to 16, so tfreeze copies an ordinary array once before the run. This
measures, each case in a fresh process, the peak resident memory (VmHWM)
above the process's resident memory just before `Model.run`, for one
--megabytes feed into a model that reduces it to one number (so the run
itself allocates almost nothing):

- numpy: `np.random.standard_normal(...)` as users build it (misaligned);
- aligned: the same values in `tfreeze.empty_aligned(...)`.

    python benchmarks/feed_copies.py [--megabytes 800] [--rounds 3] [--output FILE]

Writes JSON (medians over --rounds alternated rounds) to --output
(benchmarks/results/feed_copies.json).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

RESULTS = Path(__file__).resolve().parent / "results" / "feed_copies.json"

CHILD = textwrap.dedent(
    """
    import sys, time, numpy as np, tfreeze
    path, case, megabytes = sys.argv[1], sys.argv[2], int(sys.argv[3])
    def status_kb(field):
        with open("/proc/self/status") as status:
            return next(int(l.split()[1]) for l in status if l.startswith(field + ":"))
    model = tfreeze.Model(path)
    rows = (megabytes << 20) // 4 // 256
    values = np.random.default_rng(0).standard_normal((rows, 256), dtype=np.float32)
    if case == "aligned":
        feed = tfreeze.empty_aligned(values.shape, np.float32)
        feed[...] = values
        del values
    else:
        feed = values
    model.run(feed[:1])
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # resets VmHWM to the current resident size
    before = status_kb("VmRSS")
    start = time.perf_counter()
    model.run(feed)
    seconds = time.perf_counter() - start
    print(status_kb("VmHWM") - before, seconds, tfreeze.is_aligned(feed))
    """
)


def freeze_sum(path: Path) -> None:
    import tensorflow as tf

    import tfreeze

    @tf.function(input_signature=[tf.TensorSpec([None, 256], tf.float32, name="x")])
    def total(x):
        return {"total": tf.reduce_sum(x)}

    tfreeze.freeze(total, path)


def measure(path: Path, case: str, megabytes: int) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), case, str(megabytes)],
        capture_output=True,
        text=True,
        check=True,
    )
    extra_kb, seconds, aligned = result.stdout.split()
    return {"extra_mb": int(extra_kb) / 1024, "run_ms": float(seconds) * 1e3, "aligned": aligned}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=800)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        path = Path(workdir) / "sum.pb"
        freeze_sum(path)
        samples: dict[str, list[dict[str, float]]] = {"numpy": [], "aligned": []}
        for _ in range(args.rounds):
            for case in samples:
                samples[case].append(measure(path, case, args.megabytes))
    summary = {
        case: {
            "aligned": runs[0]["aligned"] == "True",
            "peak_above_before_mb": statistics.median(r["extra_mb"] for r in runs),
            "run_ms": statistics.median(r["run_ms"] for r in runs),
        }
        for case, runs in samples.items()
    }
    report = {"feed_mb": args.megabytes, "rounds": args.rounds, "cases": summary}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
