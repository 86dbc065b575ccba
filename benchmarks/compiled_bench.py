"""The "compiled" column's latency hook (compiled.py): compiles a model with
`tfreeze compile` once per run (batches 1 and 32, into the run's workdir),
then runs its generated benchmark and prints that JSON.

    python benchmarks/compiled_bench.py PB MODEL BATCH THREADS WORKDIR

Only the small models are compiled: the compiled targets are set for them, and
XLA's convolutions for MobileNetV2 and ResNet50 would add minutes to a run.
Compiled code runs in one thread, so a 2-thread row has no compiled figure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

COMPILED_MODELS = ("mlp", "small_cnn")
BATCHES = "1,32"


def compiled_directory(pb: str, model: str, workdir: Path) -> Path:
    directory = workdir / "compiled" / model
    report = directory / "tfreeze-compiled.json"
    # Each run freezes its models anew: compile again when the .pb is newer.
    if not report.exists() or report.stat().st_mtime < Path(pb).stat().st_mtime:
        tfreeze = Path(sys.executable).parent / "tfreeze"
        command = [str(tfreeze), "compile", pb, "-o", str(directory), "--batch", BATCHES]
        subprocess.run([*command, "--name", model], check=True, stdout=subprocess.DEVNULL)
    return directory


def main(pb: str, model: str, batch: str, threads: str, workdir: str) -> int:
    if model not in COMPILED_MODELS:
        print(f"not compiled: only {', '.join(COMPILED_MODELS)} are", file=sys.stderr)
        return 2
    if threads != "1":
        print("compiled code runs in one thread", file=sys.stderr)
        return 2
    bench = compiled_directory(pb, model, Path(workdir)) / "bin" / f"{model}-bench"
    command = [str(bench), "--batch", batch, "--iterations", "3000", "--warmup", "200", "--json"]
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0"}  # silences absl's host library
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stderr.strip(), file=sys.stderr)
        return done.returncode
    print(json.dumps(json.loads(done.stdout)))  # one line: the hook reads the last
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
