"""tfreeze serve: a client written for TF Serving's REST API works unchanged.

Each server listens on a free loopback port (--port 0, announced as JSON on its
first line), runs for one module and is always stopped in teardown. The program
is the package's, or $TFREEZE_TEST_SERVE (a development build's tfreeze-serve).
"""

from __future__ import annotations

import base64
import http.client
import json
import math
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import tfreeze
from tfreeze.cli import serve as serve_command

START_TIMEOUT = 60  # seconds for TensorFlow to load the model
HOST = "127.0.0.1"


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    name: str
    stderr: Path

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=10)


def _first_line(process: subprocess.Popen, timeout: float) -> str:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return ""


def start(command: list[str], tmp_path: Path, name: str) -> Server:
    stderr = tmp_path / f"{name}-stderr.txt"
    with stderr.open("w") as errors:
        process = subprocess.Popen(
            [*command, "--host", HOST, "--port", "0", "--json"],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    line = _first_line(process, START_TIMEOUT)
    if not line:
        process.kill()
        process.wait(timeout=10)
        pytest.fail(f"the server did not start: {stderr.read_text()}")
    announced = json.loads(line)
    return Server(process, announced["port"], announced["model"], stderr)


def server_program() -> Path:
    return Path(os.environ.get("TFREEZE_TEST_SERVE") or serve_command.server_path())


def server_command(pb: Path, *options: str) -> list[str]:
    return [str(server_program()), str(pb), *options]


@pytest.fixture(scope="module")
def identity_server(frozen, tmp_path_factory) -> Iterator[Server]:
    # Through the Python CLI, as a user starts it (which runs the package's program).
    pb = frozen("identity").path
    cli = [sys.executable, "-m", "tfreeze", "serve"]
    program = [str(server_program())] if os.environ.get("TFREEZE_TEST_SERVE") else cli
    command = [*program, str(pb), "--max-request-bytes", "4096"]
    server = start(command, tmp_path_factory.mktemp("serve"), "identity")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def two_server(frozen, tmp_path_factory) -> Iterator[Server]:
    pb = frozen("two_in_two_out").path
    server = start(server_command(pb, "--name", "two"), tmp_path_factory.mktemp("serve"), "two")
    yield server
    server.stop()


def call(server: Server, path: str, body: object | bytes | None = None) -> tuple[int, object]:
    """GET (no body) or POST, as TF Serving's examples do; (status, parsed JSON)."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(server.url(path), data=data)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_status_and_metadata_have_tf_serving_shape(identity_server):
    status, reply = call(identity_server, "/v1/models/identity")
    assert status == 200
    (version,) = reply["model_version_status"]
    assert version["version"] == "1" and version["state"] == "AVAILABLE"
    assert version["status"]["error_code"] == "OK"

    status, meta = call(identity_server, "/v1/models/identity/versions/1/metadata")
    assert status == 200
    assert meta["model_spec"]["name"] == "identity"
    signature = meta["metadata"]["signature_def"]["signature_def"]["serving_default"]
    value = signature["inputs"]["value"]
    assert value["dtype"] == "DT_FLOAT"
    assert [d["size"] for d in value["tensor_shape"]["dim"]] == ["-1", "4"]
    assert list(signature["outputs"]) == ["same"]
    assert call(identity_server, "/healthz") == (200, {"status": "ok"})


def test_row_and_columnar_predict_with_one_output(identity_server):
    rows = [[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 0.1, 7.0]]
    status, reply = call(identity_server, "/v1/models/identity:predict", {"instances": rows})
    assert (status, reply) == (200, {"predictions": rows})  # one output: a plain list
    status, reply = call(
        identity_server, "/v1/models/identity/versions/1:predict", {"inputs": {"value": rows}}
    )
    assert (status, reply) == (200, {"outputs": rows})


def test_nan_and_infinity_tokens_round_trip(identity_server):
    body = b'{"instances": [[NaN, Infinity, -Infinity, 1.5]]}'
    request = urllib.request.Request(identity_server.url("/v1/models/identity:predict"), body)
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    assert "NaN" in text and "-Infinity" in text  # TF Serving's tokens, not null
    (row,) = json.loads(text)["predictions"]  # Python's json reads them
    assert math.isnan(row[0]) and row[1] == math.inf and row[2] == -math.inf and row[3] == 1.5


def test_errors_are_json_with_tf_serving_codes(identity_server):
    predict = "/v1/models/identity:predict"
    cases = [
        (predict, b"{not json", 400, "JSON Parse error"),
        (predict, {"instances": [[1.0, 2.0]]}, 400, "[?,4]"),
        (predict, {"instances": [[1, 2, 3, 4], [1, 2]]}, 400, "instance 1"),
        (predict, {"inputs": {"nope": [[1, 2, 3, 4]]}}, 400, "inputs are: value"),
        (predict, {"instances": [["a", 2, 3, 4]]}, 400, "is not a number"),
        (predict, {"signature_name": "other", "instances": [[1, 2, 3, 4]]}, 400, "other"),
        (predict, {"rows": []}, 400, "'instances'"),
        ("/v1/models/nope:predict", {"instances": [[1, 2, 3, 4]]}, 404, "nope"),
        ("/v1/models/identity/versions/7:predict", {"inputs": [[1, 2, 3, 4]]}, 404, "7"),
        ("/v1/models/nope", None, 404, "nope"),
    ]
    for path, body, code, fragment in cases:
        status, reply = call(identity_server, path, body)
        assert status == code, (path, body, reply)
        assert fragment in reply["error"], (path, body, reply)


def test_too_large_body_is_413(identity_server):
    rows = [[1.0, 2.0, 3.0, 4.0]] * 400  # ~8 KB, over --max-request-bytes 4096
    status, reply = call(identity_server, "/v1/models/identity:predict", {"instances": rows})
    assert status == 413
    assert "--max-request-bytes" in reply["error"]


def expected(frozen, tokens: np.ndarray, extra: np.ndarray) -> dict[str, np.ndarray]:
    model = tfreeze.Model(frozen("two_in_two_out").path)
    return model.run({"tokens": tokens.astype(np.float32), "extra": extra.astype(np.float32)})


def test_several_inputs_and_outputs_in_both_formats(two_server, frozen):
    rng = np.random.default_rng(0)
    tokens, extra = rng.normal(size=(3, 6)), rng.normal(size=(3, 4))
    want = expected(frozen, tokens, extra)

    pairs = zip(tokens, extra, strict=True)
    instances = [{"tokens": t.tolist(), "extra": e.tolist()} for t, e in pairs]
    status, reply = call(two_server, "/v1/models/two:predict", {"instances": instances})
    assert status == 200
    predictions = reply["predictions"]  # several outputs: one object per instance
    assert [sorted(p) for p in predictions] == [["alpha", "zeta"]] * 3
    for name in ("zeta", "alpha"):
        got = np.array([p[name] for p in predictions], dtype=np.float32)
        np.testing.assert_allclose(got, want[name], rtol=1e-6, atol=1e-6)

    columns = {"inputs": {"tokens": tokens.tolist(), "extra": extra.tolist()}}
    status, reply = call(two_server, "/v1/models/two:predict", columns)
    assert status == 200 and sorted(reply["outputs"]) == ["alpha", "zeta"]
    for name in ("zeta", "alpha"):
        np.testing.assert_allclose(reply["outputs"][name], want[name], rtol=1e-6, atol=1e-6)

    status, reply = call(two_server, "/v1/models/two:predict", {"instances": tokens.tolist()})
    assert status == 400 and "several inputs" in reply["error"]


def test_a_large_body_labelled_as_a_form_like_curl_d_is_read_as_json(two_server, frozen):
    # urllib, like `curl -d`, sends application/x-www-form-urlencoded; cpp-httplib
    # refuses such bodies over 8 KB unless the server reads them itself.
    rng = np.random.default_rng(2)
    tokens, extra = rng.normal(size=(500, 6)), rng.normal(size=(500, 4))
    body = json.dumps({"inputs": {"tokens": tokens.tolist(), "extra": extra.tolist()}}).encode()
    assert len(body) > 8192
    status, reply = call(two_server, "/v1/models/two:predict", body)
    assert status == 200, reply
    want = expected(frozen, tokens, extra)
    np.testing.assert_allclose(reply["outputs"]["alpha"], want["alpha"], rtol=1e-6, atol=1e-6)


def test_concurrent_requests_each_get_their_own_answer(two_server, frozen):
    rng = np.random.default_rng(1)
    batches = [(rng.normal(size=(2, 6)), rng.normal(size=(2, 4))) for _ in range(24)]

    def ask(batch):
        tokens, extra = batch
        body = {"inputs": {"tokens": tokens.tolist(), "extra": extra.tolist()}}
        return call(two_server, "/v1/models/two:predict", body)

    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(ask, batches))
    for (tokens, extra), (status, reply) in zip(batches, replies, strict=True):
        assert status == 200
        want = expected(frozen, tokens, extra)
        np.testing.assert_allclose(reply["outputs"]["zeta"], want["zeta"], rtol=1e-6, atol=1e-6)


def test_binary_strings_as_b64_like_a_resnet_client(frozen, tmp_path):
    model = frozen("text")
    words = [b"the cat sat", b"a dog", "caf\u00e9".encode()]
    want = tfreeze.Model(model.path).run({"text": np.array([[w] for w in words], dtype=object)})
    server = start(server_command(model.path, "--name", "text"), tmp_path, "text")
    try:
        b64 = [[{"b64": base64.b64encode(w).decode()}] for w in words]
        status, reply = call(server, "/v1/models/text:predict", {"instances": b64})
        assert status == 200
        np.testing.assert_allclose(reply["predictions"], want["pooled"], rtol=1e-6, atol=1e-6)
        plain = {"inputs": [[w.decode()] for w in words]}
        status, reply = call(server, "/v1/models/text:predict", plain)
        assert status == 200
        np.testing.assert_allclose(reply["outputs"], want["pooled"], rtol=1e-6, atol=1e-6)
        status, reply = call(server, "/v1/models/text:predict", {"instances": [[{"b64": "*"}]]})
        assert status == 400 and "base64" in reply["error"]
    finally:
        server.stop()


def test_sigterm_finishes_the_request_in_flight_then_exits_0(frozen, tmp_path):
    server = start(server_command(frozen("identity").path), tmp_path, "sigterm")
    try:
        body = b'{"instances": [[1, 2, 3, 4]]}'
        head = (
            f"POST /v1/models/identity:predict HTTP/1.1\r\nHost: {HOST}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        with socket.create_connection((HOST, server.port), timeout=30) as client:
            client.sendall(head + body[:10])  # the request is now in flight
            time.sleep(1.0)  # time for the server to accept it, even on a busy machine
            server.process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            client.sendall(body[10:])
            answer = b""
            while chunk := client.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200")
        reply = json.loads(answer.split(b"\r\n\r\n", 1)[1])
        assert reply == {"predictions": [[1.0, 2.0, 3.0, 4.0]]}
        assert server.process.wait(timeout=20) == 0
        assert "stopped" in server.stderr.read_text()
    finally:
        server.stop()


def _serve_error(arguments: list[str]) -> tuple[int, list[str]]:
    result = subprocess.run(
        [str(server_program()), *arguments],
        capture_output=True,
        text=True,
        timeout=60,
    )
    ours = [line for line in result.stderr.splitlines() if line.startswith("tfreeze-serve")]
    assert "Traceback" not in result.stderr and "terminate called" not in result.stderr
    return result.returncode, ours


def test_startup_errors_are_one_line_and_exit_2(frozen, tmp_path):
    pb = str(frozen("identity").path)
    code, lines = _serve_error([str(tmp_path / "missing.pb")])
    assert code == 2 and len(lines) == 1 and "missing.pb" in lines[0]
    code, lines = _serve_error([pb, "--port", "70000"])
    assert code == 2 and len(lines) == 1 and "--port" in lines[0]
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, lines = _serve_error([pb, "--host", HOST, "--port", str(port)])
    assert code == 2 and len(lines) == 1 and f"{port}" in lines[0] and "in use" in lines[0]


def test_missing_server_program_is_one_actionable_line(monkeypatch, capsys):
    from tfreeze.cli import main

    monkeypatch.setattr(serve_command, "_PROGRAM", "tfreeze-serve-not-built")
    assert main(["serve", "model.pb"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "libcpp-httplib-dev" in line and "make setup" in line


def test_unsafe_ops_are_refused_at_start_unless_allowed(tmp_path):
    from test_safety import writer_function

    target = tmp_path / "written.txt"
    pb = tmp_path / "writer.pb"
    tfreeze.freeze(writer_function(str(target)), str(pb))
    code, lines = _serve_error([str(pb)])
    assert code == 2 and len(lines) == 1 and "--allow-unsafe-ops WriteFile" in lines[0]

    server = start(server_command(pb, "--allow-unsafe-ops", "WriteFile"), tmp_path, "writer")
    try:
        status, reply = call(server, "/v1/models/writer:predict", {"instances": [[1, 2, 3]]})
        assert (status, reply) == (200, {"predictions": [[2.0, 4.0, 6.0]]})
        assert target.read_text() == "written by a model"
    finally:
        server.stop()


def test_fifty_keep_alive_clients_get_every_reply(frozen, tmp_path):
    # 50 clients connecting at once overflowed cpp-httplib's listen backlog of 5
    # into SYN cookies, and about 1 request in 5,000 was reset; each client here
    # also reconnects every 5 requests (httplib's keep-alive count).
    server = start(server_command(frozen("identity").path), tmp_path, "keep-alive")
    clients, requests = 50, 100
    body = json.dumps({"instances": [[1.0, 2.0, 3.0, 4.0]]}).encode()
    all_connected = threading.Barrier(clients)

    def client(index: int) -> list[object]:
        connection = http.client.HTTPConnection(HOST, server.port, timeout=30)
        all_connected.wait(timeout=30)
        answers = []
        try:
            for _ in range(requests):
                try:
                    connection.request("POST", "/v1/models/identity:predict", body)
                    response = connection.getresponse()
                    answers.append((response.status, response.read()))
                except OSError as error:  # a reset: the failure this test is for
                    answers.append(repr(error))
                    connection.close()
        finally:
            connection.close()
        return answers

    try:
        with ThreadPoolExecutor(max_workers=clients) as pool:
            answers = [a for answers in pool.map(client, range(clients)) for a in answers]
        want = (200, b'{"predictions":[[1.0,2.0,3.0,4.0]]}')
        failures = [a for a in answers if a != want]
        assert len(answers) == clients * requests
        assert not failures, f"{len(failures)} of {len(answers)}: {failures[:3]}"
    finally:
        server.stop()


def test_listen_backlog_takes_a_burst_of_connections(frozen, tmp_path):
    ss = shutil.which("ss")
    if ss is None:
        pytest.skip("needs ss (iproute2) to read the listen backlog")
    server = start(server_command(frozen("identity").path), tmp_path, "backlog")
    try:
        listing = subprocess.run(
            [ss, "-Hltn", f"sport = :{server.port}"], capture_output=True, text=True, check=True
        ).stdout.split()
        backlog = int(listing[2])  # LISTEN Recv-Q Send-Q ...: Send-Q is the backlog
        assert backlog >= 128, listing  # httplib's own is 5
    finally:
        server.stop()
