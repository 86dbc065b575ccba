"""The anchor benchmark: MLP, small CNN, MobileNetV2 and ResNet50 at batch 1
and 32, 1 and 2 intra-op threads (inter-op 1), compared in one run:

- p50 latency (rows.py, one process per thread count): tfreeze's default
  config, the single-threaded executor, caller-thread runs and both; Python
  session.run on the same .pb; ONNX Runtime (tf2onnx) raw and without its
  Python loop's own cost (onnx_loop.py); a Keras call; `tfreeze compile`'s
  code through a hook (compiled.py);
- `tfreeze tune`'s best config per model and batch, against ORT at the same
  intra-op threads;
- tfreeze's overhead over the bare C API (`overhead.cc`): both loops in one
  process, alternating blocks, with an A/A control run;
- cold start in fresh processes: start to first result, peak RSS;
- issue 12's targets with computed verdicts (targets.py).

    python benchmarks/run.py --overhead build/bench/benchmarks/overhead [--quick]
        [--models mlp,small_cnn] [--batches 1] [--threads 1]

Writes benchmarks/results/latest.json and latest.md; prints the full run's
estimated wall time first, from the phases earlier runs timed (work dir's
timings.json; `--quick` runs time them cheaply).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))  # the test models
sys.path.insert(0, str(HERE))

import compiled  # noqa: E402
import plan as planning  # noqa: E402
from report import markdown  # noqa: E402

MODELS = ("mlp", "small_cnn", "mobilenet_v2_160", "resnet50_128")
BATCHES = (1, 32)
THREADS = (1, 2)


def build(kind: str):
    import keras

    import models
    from tfreeze.examples.digits import build_digits_cnn

    keras.utils.set_random_seed(0)
    if kind == "mlp":
        return models.mlp()
    if kind == "small_cnn":
        return build_digits_cnn()
    if kind == "mobilenet_v2_160":
        return keras.applications.MobileNetV2(weights=None, input_shape=(160, 160, 3))
    return keras.applications.ResNet50(weights=None, input_shape=(128, 128, 3))


def prepare(kind: str, workdir: Path) -> dict:
    """The model frozen, saved as .keras (for the Keras runner) and as ONNX."""
    import onnx_loop

    import tfreeze

    source = build(kind)
    pb, keras_path = workdir / f"{kind}.pb", workdir / f"{kind}.keras"
    tfreeze.freeze(source, pb)
    source.save(keras_path)
    model = tfreeze.Model(pb)
    onnx = onnx_loop.convert(pb, model.input_names, model.output_names, workdir / f"{kind}.onnx")
    return {
        "kind": kind,
        "pb": str(pb),
        "keras": str(keras_path),
        "onnx": str(onnx),
        "inputs": model.input_names,
        "outputs": model.output_names,
    }


def latency_rows(entries: list[dict], args, plan, threads: int, phases: dict) -> list[dict]:
    spec = {"threads": threads, "plan": asdict(plan), "models": entries, "batches": args.batches}
    spec_path, out_path = (
        args.workdir / f"rows_t{threads}.json",
        args.workdir / f"rows_t{threads}.out",
    )
    spec_path.write_text(json.dumps(spec))
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(HERE / "rows.py"), str(spec_path), str(out_path)], check=True
    )
    rows = json.loads(out_path.read_text())
    inside = sum(r["phase"]["fixed_s"] + r["phase"]["timed_s"] for r in rows)
    phases[f"worker/t{threads}"] = planning.phase(
        time.perf_counter() - started - inside, 0, 1, plan
    )
    for row in rows:
        key = f"{row['model']}/b{row['batch']}/t{threads}/latency"
        figures = row.pop("phase")
        phases[key] = planning.phase(figures["fixed_s"], figures["timed_s"], row["runs"], plan)
        phases[key]["base_p50_us"] = row["base_p50_us"]
    return rows


def overhead(
    program: Path, entry: dict, feeds: dict, threads: int, runs: int, plan, control: bool
) -> dict:
    inputs = [f"{n}:0=" + "x".join(str(d) for d in feeds[n].shape) for n in entry["inputs"]]
    blocks, per_block = plan.overhead_shape(runs)
    command = [str(program), entry["pb"], str(threads), str(blocks), str(per_block)]
    command += [",".join(f"{name}:0" for name in entry["outputs"]), *inputs]
    env = {**os.environ, **({"OVERHEAD_CONTROL": "1"} if control else {})}
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return json.loads(done.stdout)


def ort_same_threads(entry: dict, feeds: dict, options: dict, rows: list, plan, runs: int) -> dict:
    """ORT's figures at the tuned config's intra-op threads: from the latency
    rows, or measured here when this run did not cover that thread count."""
    import onnx_loop

    batch = len(next(iter(feeds.values())))
    threads = options.get("intra_op_threads") or os.cpu_count() or 1
    for row in rows:
        if (row["model"], row["batch"], row["threads"]) == (entry["kind"], batch, threads):
            p50 = row["p50_us"]
            break
    else:
        p50 = onnx_loop.p50s(entry["onnx"], feeds, threads, plan.warmup_for(runs), runs)
    keys = ("onnxruntime", "onnxruntime empty loop")
    return {"ort_threads": threads, "ort_p50_us": {k: p50.get(k) for k in keys}}


def tuned_row(entry: dict, batch: int, row: dict, args, plan, phases: dict, rows: list) -> dict:
    """tfreeze tune's best and the overhead loops, for one model and batch."""
    import tfreeze
    from tfreeze.measure.tune import tune

    runs, key = row["runs"], f"{entry['kind']}/b{batch}"
    started = time.perf_counter()
    feeds = tfreeze.Model(entry["pb"]).random_feeds(batch_size=batch)
    loops = overhead(args.overhead, entry, feeds, row["threads"], runs, plan, control=False)
    control = overhead(args.overhead, entry, feeds, row["threads"], runs, plan, control=True)
    blocks, per_block = plan.overhead_shape(runs)
    timed = 2 * (2 * blocks + 2) * per_block * loops["bare_p50_us"] * 1e-6
    phases[f"{key}/overhead"] = planning.phase(
        time.perf_counter() - started - timed, timed, runs, plan
    )
    started, iterations = time.perf_counter(), plan.tune_iterations(runs)
    tuned = tune(entry["pb"], batch=batch, iterations=iterations)
    timed = len(tuned.trials) * (min(30, iterations) + iterations) * row["base_p50_us"] * 1e-6
    phases[f"{key}/tune"] = planning.phase(time.perf_counter() - started - timed, timed, runs, plan)
    for name in ("overhead", "tune"):
        phases[f"{key}/{name}"]["base_p50_us"] = row["base_p50_us"]
    failed = [t.error for t in tuned.trials if t.error]
    ort = ort_same_threads(entry, feeds, tuned.best.options, rows, plan, runs)
    print(
        f"  {key}: tuned {tuned.best.p50_us:.1f} ({tuned.best.label()}), "
        f"{len(failed)} of {len(tuned.trials)} trials failed, "
        f"overhead {loops['ratio']:.3f} (A/A {control['ratio']:.3f})",
        flush=True,
    )
    return {
        "model": entry["kind"],
        "batch": batch,
        # Every trial failing leaves an infinite p50: no figure, and why.
        "p50_us": tuned.best.p50_us if tuned.best.error is None else None,
        "errors": failed,
        "options": tuned.best.options,
        "environment": tuned.best.environment,
        "label": tuned.best.label(),
        "default_p50_us": tuned.default.p50_us if tuned.default.error is None else None,
        "overhead": {**loops, "aa_ratio": control["ratio"]},
        **ort,
    }


def cold(entry: dict, args, plan, phases: dict) -> dict:
    from tfreeze.measure.bench import cold_start

    started = time.perf_counter()
    figures = cold_start(entry["pb"], 1)
    fields = {
        "pb": entry["pb"],
        "model": entry["kind"],
        "batch": 1,
        "threads": 1,
        "workdir": args.workdir,
    }
    figures["compiled"] = compiled.compiled_start(args.compiled_start, **fields)
    phases[f"{entry['kind']}/cold"] = planning.phase(time.perf_counter() - started, 0, 1, plan)
    return figures


def phase_keys(models: list[str], batches: list[int], threads: list[int]) -> list[str]:
    keys = [f"worker/t{t}" for t in threads]
    for kind in models:
        keys += [f"{kind}/prepare", f"{kind}/cold"]
        for batch in batches:
            keys += [f"{kind}/b{batch}/overhead", f"{kind}/b{batch}/tune"]
            keys += [f"{kind}/b{batch}/t{t}/latency" for t in threads]
    return keys


def print_estimates(args, plan) -> None:
    timings = planning.load_timings(args.workdir / "timings.json")
    for label, scope, chosen in (
        (
            "full run (all models, batches 1,32, threads 1,2)",
            (list(MODELS), list(BATCHES), list(THREADS)),
            planning.FULL,
        ),
        ("this run", (args.models, args.batches, args.threads), plan),
    ):
        keys = phase_keys(*scope)
        seconds, missing = planning.estimate(timings, keys, chosen)
        note = (
            f"; no earlier timing for {len(missing)} of {len(keys)} phases "
            "(a --quick run over them times them)"
            if missing
            else ""
        )
        note += planning.load_note(timings, keys)
        print(f"estimated wall time, {label}: {seconds / 60:.1f} min{note}", flush=True)


def measure_all(args, plan, phases: dict) -> dict:
    entries = []
    for kind in args.models:
        started = time.perf_counter()
        entries.append(prepare(kind, args.workdir))
        phases[f"{kind}/prepare"] = planning.phase(time.perf_counter() - started, 0, 1, plan)
    rows = [row for t in args.threads for row in latency_rows(entries, args, plan, t, phases)]
    for row in rows:
        entry = next(e for e in entries if e["kind"] == row["model"])
        fields = {
            "pb": entry["pb"],
            "model": row["model"],
            "batch": row["batch"],
            "threads": row["threads"],
        }
        row["compiled"] = compiled.compiled_p50(args.compiled_bench, workdir=args.workdir, **fields)
    tuned = []
    for entry in entries:
        for batch in args.batches:
            # Overhead loops at the first thread count; tune searches threads itself.
            row = next(r for r in rows if (r["model"], r["batch"]) == (entry["kind"], batch))
            tuned.append(tuned_row(entry, batch, row, args, plan, phases, rows))
    cold_figures = {entry["kind"]: cold(entry, args, plan, phases) for entry in entries}
    return {"rows": rows, "tuned": tuned, "cold_start": cold_figures}


def choices(text: str, valid: tuple, convert=str) -> list:
    chosen = [convert(item) for item in text.split(",") if item]
    wrong = [item for item in chosen if item not in valid]
    if wrong or not chosen:
        raise argparse.ArgumentTypeError(f"{text!r}: choose from {','.join(map(str, valid))}")
    return chosen


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--overhead", type=Path, required=True, help="the overhead executable")
    parser.add_argument("--workdir", type=Path, default=ROOT / "build" / "bench")
    parser.add_argument("--results", type=Path, default=HERE / "results")
    parser.add_argument("--models", type=lambda t: choices(t, MODELS), default=list(MODELS))
    parser.add_argument("--batches", type=lambda t: choices(t, BATCHES, int), default=list(BATCHES))
    parser.add_argument("--threads", type=lambda t: choices(t, THREADS, int), default=list(THREADS))
    parser.add_argument(
        "--quick", action="store_true", help="a few runs per figure: checks, not results"
    )
    parser.add_argument("--estimate-only", action="store_true", help="print the estimates and stop")
    parser.add_argument(
        "--compiled-bench", metavar="CMD_TEMPLATE", help="see benchmarks/compiled.py"
    )
    parser.add_argument(
        "--compiled-start", metavar="CMD_TEMPLATE", help="see benchmarks/compiled.py"
    )
    return parser.parse_args()


def main() -> None:
    args = arguments()
    plan = planning.QUICK if args.quick else planning.FULL
    args.workdir.mkdir(parents=True, exist_ok=True)
    print_estimates(args, plan)
    if args.estimate_only:
        return
    if not args.overhead.exists():
        raise SystemExit(f"{args.overhead}: no such executable; build it with `make bench` first")
    args.results.mkdir(parents=True, exist_ok=True)
    started, phases = time.perf_counter(), {}
    results = measure_all(args, plan, phases)
    import tensorflow as tf

    results["machine"] = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, TensorFlow {tf.__version__}"
    )
    results["plan_name"] = "quick (few runs: not results)" if args.quick else "full"
    results["plan"] = asdict(plan)
    results["wall_s"] = round(time.perf_counter() - started, 1)
    planning.record(args.workdir / "timings.json", phases)
    (args.results / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.results / "latest.md").write_text(markdown(results))
    print(markdown(results))
    print(f"wall time: {results['wall_s'] / 60:.1f} min")


if __name__ == "__main__":
    main()
