"""What one large :predict request costs `tfreeze serve` in memory, and whether it gives it back.

Freezes a small MLP (4 float inputs -> --hidden relu units -> 3 outputs), starts
tfreeze-serve on a free 127.0.0.1 port and measures its resident memory
(/proc/PID/status):

- idle: after loading and one small request;
- peak: the high-water mark (VmHWM, reset through /proc/PID/clear_refs just
  before) during one row-format request of --rows instances, ~18 bytes of JSON
  each (3.5M rows: a 63 MB body, under the default 64 MiB limit), or during
  --concurrent such requests at once; VmRSS is also sampled every 5 ms as a
  cross-check;
- after: once --small more small requests have been answered.

It also checks the large reply against tfreeze.Model, and measures what the
model's own run of that batch costs in a process of its own (TensorFlow's
intermediate tensors, which no server can avoid).

    python benchmarks/serve_memory.py [--rows 3500000] [--hidden 4] [--concurrent 1]
                                      [--server PATH] [--json] [-- SERVER OPTIONS]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import tfreeze  # noqa: E402
from tfreeze.cli.serve import server_path  # noqa: E402

HOST = "127.0.0.1"
BLOCK = 1000  # distinct rows; the body repeats them
MB = 1e6


def freeze_mlp(path: Path, hidden: int) -> None:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,), name="features")
    x = keras.layers.Dense(hidden, activation="relu")(inputs)
    outputs = keras.layers.Dense(3, name="scores")(x)
    tfreeze.freeze(keras.Model(inputs, outputs, name="mlp4"), path)


def block_rows() -> np.ndarray:
    """Values 0.0-9.9: 3 characters each, so a row is 18 bytes of JSON."""
    tenths = np.random.default_rng(0).integers(0, 100, size=(BLOCK, 4))
    return (tenths / 10).astype(np.float32)


def request_body(rows: int, block: np.ndarray) -> bytes:
    texts = ["[" + ",".join(f"{v:.1f}" for v in row) + "]" for row in block]
    whole, rest = divmod(rows, BLOCK)
    body = ",".join([",".join(texts)] * whole + texts[:rest])
    return ('{"instances":[' + body + "]}").encode()


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


class Sampler(threading.Thread):
    """The largest VmRSS seen, read every 5 ms."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.running = pid, 0, True

    def run(self) -> None:
        while self.running:
            self.peak_kb = max(self.peak_kb, status_kb(self.pid, "VmRSS"))
            time.sleep(0.005)


def start_server(server: str, pb: Path, extra: list[str]) -> tuple[subprocess.Popen, int]:
    command = [server, str(pb), "--host", HOST, "--port", "0", "--json", *extra]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=30)
        raise SystemExit("serve_memory: the server did not start")
    return process, json.loads(line)["port"]


def post(connection: http.client.HTTPConnection, body: bytes) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"}
    connection.request("POST", "/v1/models/mlp4:predict", body, headers)
    response = connection.getresponse()
    return response.status, response.read()


def large_requests(port: int, body: bytes, count: int) -> list[tuple[int, bytes]]:
    """`count` requests at once, each on a connection of its own."""

    def one(_: int) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(HOST, port, timeout=600)
        try:
            return post(connection, body)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def model_run_cost_mb(pb: Path, rows: int) -> float:
    """Peak RSS growth of tfreeze.Model.run on the batch, input already in memory."""
    script = f"""
import numpy as np, tfreeze, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
from serve_memory import block_rows, status_kb
import os
model = tfreeze.Model({str(pb)!r})
x = np.resize(block_rows(), ({rows}, 4))
model.run({{"features": x[:10]}})
before = status_kb(os.getpid(), "VmRSS")
open(f"/proc/{{os.getpid()}}/clear_refs", "w").write("5")
model.run({{"features": x}})
print((status_kb(os.getpid(), "VmHWM") - before) * 1024)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1]) / MB


def check_reply(pb: Path, rows: int, block: np.ndarray, reply: bytes) -> float:
    got = np.array(json.loads(reply)["predictions"], dtype=np.float32)
    want = tfreeze.Model(str(pb)).run({"features": np.resize(block, (rows, 4))})["scores"]
    assert got.shape == want.shape, (got.shape, want.shape)
    return float(np.max(np.abs(got - want)))


def run(args: argparse.Namespace) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="serve_memory_"))
    pb = workdir / "mlp4.pb"
    freeze_mlp(pb, args.hidden)
    block = block_rows()
    body = request_body(args.rows, block)
    small = request_body(1, block)
    process, port = start_server(args.server or str(server_path()), pb, args.server_args)
    pid = process.pid
    try:
        connection = http.client.HTTPConnection(HOST, port, timeout=600)
        assert post(connection, small)[0] == 200
        time.sleep(1.0)
        idle_kb = status_kb(pid, "VmRSS")
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
        sampler = Sampler(pid)
        sampler.start()
        started = time.perf_counter()
        replies = large_requests(port, body, args.concurrent)
        seconds = time.perf_counter() - started
        sampler.running = False
        sampler.join()
        peak_kb = max(status_kb(pid, "VmHWM"), sampler.peak_kb)
        statuses = sorted(status for status, _ in replies)
        answered = [reply for status, reply in replies if status == 200]
        if not answered:
            raise SystemExit(f"serve_memory: no large request answered: {replies[0][1][:300]!r}")
        reply_bytes = len(answered[0])
        error = None if args.no_check else check_reply(pb, args.rows, block, answered[0])
        del replies, answered
        connection.close()  # idle longer than --request-timeout, the server may have closed it
        connection = http.client.HTTPConnection(HOST, port, timeout=600)
        for _ in range(args.small):
            assert post(connection, small)[0] == 200
        connection.close()
        time.sleep(1.0)
        after_kb = status_kb(pid, "VmRSS")
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
    idle, peak, after = idle_kb * 1024 / MB, peak_kb * 1024 / MB, after_kb * 1024 / MB
    result = {
        "rows": args.rows,
        "hidden": args.hidden,
        "body_mb": round(len(body) / MB, 1),
        "reply_mb": round(reply_bytes / MB, 1),
        "statuses": statuses,
        "seconds": round(seconds, 2),
        "idle_mb": round(idle, 1),
        "peak_mb": round(peak, 1),
        "peak_over_idle_x_body": round((peak - idle) / (len(body) / MB), 2),
        "after_small_mb": round(after, 1),
        "after_over_idle_pct": round(100 * (after - idle) / idle, 1),
        "max_abs_error": error,
        "server_exit_code": code,
    }
    if not args.no_model_cost:
        result["model_run_mb"] = round(model_run_cost_mb(pb, args.rows), 1)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=3_500_000)
    parser.add_argument("--hidden", type=int, default=4, help="units of the MLP's hidden layer")
    parser.add_argument("--small", type=int, default=200, help="small requests after the large")
    parser.add_argument("--concurrent", type=int, default=1, help="large requests at once")
    parser.add_argument("--server", help="a tfreeze-serve to measure (default: the package's)")
    parser.add_argument("--no-check", action="store_true", help="skip checking the large reply")
    parser.add_argument("--no-model-cost", action="store_true", help="skip the model-only run")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("server_args", nargs="*", help="more tfreeze-serve options, after --")
    args = parser.parse_args()
    result = run(args)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{args.concurrent} x {result['rows']} rows, a {result['body_mb']} MB body, a "
            f"{result['reply_mb']} MB reply, statuses {result['statuses']} in "
            f"{result['seconds']} s: idle {result['idle_mb']} MB, peak "
            f"{result['peak_mb']} MB ({result['peak_over_idle_x_body']}x the body above idle), "
            f"after {args.small} small requests {result['after_small_mb']} MB "
            f"({result['after_over_idle_pct']:+}% of idle); the model's own run: "
            f"{result.get('model_run_mb', '?')} MB"
        )
    return 0 if result["server_exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
