"""tfreeze serve's memory: a large request holds about its decoded values, gives
the memory back, and the caps on one request and on all in flight answer 413 and 503.

The figures for a 63 MB request are benchmarks/serve_memory.py's (docs/serving.md).
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from pathlib import Path

import pytest
from test_serve import HOST, _serve_error, server_command, start

PREDICT = "/v1/models/identity:predict"
ROW = b"[0.5,1.0,2.5,9.9]"  # the identity model answers each row as it came

linux_only = pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(), reason="reads /proc/PID/status"
)


def rows(count: int) -> bytes:
    return b"[" + b",".join([ROW] * count) + b"]"


def resident_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def post(port: int, body: bytes) -> tuple[int, bytes, http.client.HTTPResponse]:
    connection = http.client.HTTPConnection(HOST, port, timeout=120)
    try:
        connection.request("POST", PREDICT, body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read(), response
    finally:
        connection.close()


@linux_only
def test_a_large_request_holds_about_its_values_and_gives_the_memory_back(frozen, tmp_path):
    server = start(server_command(frozen("identity").path), tmp_path, "large")
    pid = server.process.pid
    try:
        assert post(server.port, b'{"instances": [[1, 2, 3, 4]]}')[0] == 200
        time.sleep(0.5)
        idle_kb = resident_kb(pid)
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM starts again from VmRSS
        values = rows(1_000_000)
        body = b'{"instances":' + values + b"}"  # 18 MB
        status, reply, response = post(server.port, body)
        peak_kb = resident_kb(pid, "VmHWM")
        assert status == 200
        assert reply == b'{"predictions":' + values + b"}"
        assert response.getheader("Transfer-Encoding") == "chunked"  # written as it was made
        # As a DOM, with the reply built whole, it took 13-19x the body.
        assert (peak_kb - idle_kb) * 1024 <= 3 * len(body), (idle_kb, peak_kb)
        for _ in range(50):
            assert post(server.port, b'{"instances": [[1, 2, 3, 4]]}')[0] == 200
        time.sleep(0.5)
        assert resident_kb(pid) <= 1.10 * idle_kb, (idle_kb, resident_kb(pid))
    finally:
        server.stop()


def test_decoded_values_over_max_request_memory_are_413(frozen, tmp_path):
    command = server_command(frozen("identity").path, "--max-request-memory", "1000000")
    server = start(command, tmp_path, "per-request")
    try:
        body = b'{"instances":' + rows(40_000) + b"}"  # 0.7 MB, and 0.64 MB of float32 values
        status, reply, _ = post(server.port, body)
        assert status == 413
        assert "--max-request-memory" in json.loads(reply)["error"]
        assert post(server.port, b'{"instances":' + rows(10) + b"}")[0] == 200
    finally:
        server.stop()


def padded(size: int) -> bytes:
    """A small request made `size` bytes long with whitespace."""
    body = b'{"instances": [[1, 2, 3, 4]]}'
    return body + b" " * (size - len(body))


def test_memory_in_flight_is_capped_with_503_and_retry_after(frozen, tmp_path):
    limits = ["--max-request-memory", "1000000", "--max-memory-in-flight", "1000000"]
    server = start(server_command(frozen("identity").path, *limits), tmp_path, "in-flight")
    try:
        first = padded(700_000)
        head = (
            f"POST {PREDICT} HTTP/1.1\r\nHost: {HOST}\r\n"
            f"Content-Length: {len(first)}\r\nConnection: close\r\n\r\n"
        ).encode()
        with socket.create_connection((HOST, server.port), timeout=30) as slow:
            slow.sendall(head + first[:10])  # its body's 700 KB are counted from here
            time.sleep(1.0)  # time for the server to read the head, even on a busy machine
            status, reply, response = post(server.port, padded(400_000))
            assert status == 503
            assert "--max-memory-in-flight" in json.loads(reply)["error"]
            assert response.getheader("Retry-After") == "1"
            slow.sendall(first[10:])
            answer = b""
            while chunk := slow.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200")
        assert post(server.port, padded(400_000))[0] == 200  # the memory came back
    finally:
        server.stop()


def test_http_1_0_gets_a_large_reply_whole(frozen, tmp_path):
    server = start(server_command(frozen("identity").path), tmp_path, "http10")
    try:
        values = rows(100_000)  # 1.6 MB of outputs: streamed to HTTP/1.1 clients
        body = b'{"instances":' + values + b"}"
        head = f"POST {PREDICT} HTTP/1.0\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        with socket.create_connection((HOST, server.port), timeout=60) as client:
            client.sendall(head + body)
            answer = b""
            while chunk := client.recv(1 << 20):
                answer += chunk
        headers, reply = answer.split(b"\r\n\r\n", 1)
        assert headers.startswith(b"HTTP/1.1 200")
        assert b"chunked" not in headers.lower()  # HTTP/1.0 has no chunked encoding
        assert reply == b'{"predictions":' + values + b"}"
    finally:
        server.stop()


def test_memory_limits_that_could_serve_no_large_request_are_refused_at_start(frozen):
    pb = str(frozen("identity").path)
    code, lines = _serve_error(
        [pb, "--max-request-memory", "2000", "--max-memory-in-flight", "1000"]
    )
    assert code == 2 and len(lines) == 1
    assert "--max-memory-in-flight" in lines[0] and "--max-request-memory" in lines[0]
