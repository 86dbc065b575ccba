"""A bounded load test of `tfreeze serve` on loopback: throughput and latency.

Freezes a test model, starts tfreeze-serve on a free 127.0.0.1 port, sends a
fixed number of :predict requests (row format, as TF Serving clients do) from
a few client threads with keep-alive connections, checks every answer, prints
requests/s and p50/p99 latency, and stops the server. Stops by itself: after
--requests requests or --max-seconds, whichever comes first.

    python benchmarks/serve_load.py [--model mlp|cnn] [--requests 2000] [--concurrency 4]

The clients run in this Python process on the same machine as the server, so
the figures include the client's own cost (JSON encoding, http.client).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the test models

import keras  # noqa: E402
import numpy as np  # noqa: E402

import models  # noqa: E402
import tfreeze  # noqa: E402
from tfreeze.cli.serve import server_path  # noqa: E402

HOST = "127.0.0.1"


def start_server(pb: Path, threads: int) -> tuple[subprocess.Popen, int]:
    command = [str(server_path()), str(pb), "--host", HOST, "--port", "0", "--json"]
    command += ["--http-threads", str(threads)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=30)
        raise SystemExit("serve_load: the server did not start")
    return process, json.loads(line)["port"]


def client(port: int, path: str, body: bytes, stop_at: float, counter, latencies, errors):
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    headers = {"Content-Type": "application/json"}
    while time.monotonic() < stop_at and counter():
        started = time.perf_counter()
        connection.request("POST", path, body, headers)
        response = connection.getresponse()
        reply = response.read()
        latencies.append(time.perf_counter() - started)
        if response.status != 200 or b"predictions" not in reply:
            errors.append(reply[:200])
    connection.close()


def run(args: argparse.Namespace) -> dict:
    keras.utils.set_random_seed(0)
    workdir = Path(tempfile.mkdtemp(prefix="serve_load_"))
    pb = workdir / f"{args.model}.pb"
    source = getattr(models, args.model)()
    tfreeze.freeze(source, pb)
    shape = [1, *source.inputs[0].shape[1:]]
    rows = np.random.default_rng(0).normal(size=shape).astype(np.float32).tolist()
    body = json.dumps({"instances": rows}).encode()
    path = f"/v1/models/{args.model}:predict"

    process, port = start_server(pb, args.concurrency)
    try:
        lock = threading.Lock()

        def budget(count: int):
            remaining = [count]

            def take() -> bool:
                with lock:
                    remaining[0] -= 1
                    return remaining[0] >= 0

            return take

        warm_up: list[bytes] = []  # the first runs build TensorFlow's kernels
        client(port, path, body, time.monotonic() + 30, budget(20), [], warm_up)
        take = budget(args.requests)

        latencies: list[float] = []
        errors: list[bytes] = []
        stop_at = time.monotonic() + args.max_seconds
        work = (port, path, body, stop_at, take, latencies, errors)
        threads = [threading.Thread(target=client, args=work) for _ in range(args.concurrency)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    ms = sorted(1000 * t for t in latencies)
    return {
        "model": args.model,
        "input_shape": shape,
        "requests": len(ms),
        "errors": len(errors),
        "concurrency": args.concurrency,
        "seconds": round(elapsed, 2),
        "requests_per_s": round(len(ms) / elapsed, 1),
        "p50_ms": round(statistics.median(ms), 3),
        "p99_ms": round(ms[min(len(ms) - 1, int(0.99 * len(ms)))], 3),
        "server_exit_code": code,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="cnn", choices=["mlp", "cnn"])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--max-seconds", type=float, default=60)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{result['model']} {result['input_shape']}: {result['requests']} requests "
            f"({result['errors']} errors) from {result['concurrency']} clients in "
            f"{result['seconds']} s: {result['requests_per_s']} requests/s, "
            f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms"
        )
    return 1 if result["errors"] or result["server_exit_code"] != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
