"""tfreeze serve's shutdown: SIGTERM closes idle keep-alive connections at once,
gives requests in flight --drain-timeout to finish and then exits even when a
request never ends; idle connections give their thread back after --keep-alive-timeout.

The figures (exit 30 s after SIGTERM with one idle client before, well under
a second now) are in docs/serving.md, "Shutdown".
"""

from __future__ import annotations

import json
import re
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import tensorflow as tf
from test_serve import HOST, Server, _serve_error, server_command, start

import tfreeze

STATUS = "/v1/models/{name}"
PREDICT = "/v1/models/{name}:predict"


@pytest.fixture(scope="module")
def endless(tmp_path_factory) -> Path:
    """A model whose While loop adds max(n) to i from 0 while i >= 0: n < 0 ends
    after one step, n >= 0 never ends (in float32, i stops growing at 2**24)."""

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="n")])
    def loop(n):
        step = tf.reduce_max(n)
        (i,) = tf.while_loop(lambda i: i >= 0.0, lambda i: [i + step], [tf.constant(0.0)])
        return {"i": tf.fill(tf.shape(n), i)}

    path = tmp_path_factory.mktemp("endless") / "endless.pb"
    tfreeze.freeze(loop, str(path), verify=False)  # verifying would run it
    return path


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Servers a test started, killed at its end whatever happened."""
    started: list[Server] = []
    yield started
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=10)


def serve(servers: list[Server], pb: Path, tmp_path: Path, *options: str) -> Server:
    server = start(server_command(pb, *options), tmp_path, f"{pb.stem}-{len(servers)}")
    servers.append(server)
    return server


def request(method: str, path: str, body: bytes = b"", *, close: bool = False) -> bytes:
    connection = "Connection: close\r\n" if close else ""
    return (
        f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: {len(body)}\r\n"
        f"Content-Type: application/json\r\n{connection}\r\n"
    ).encode() + body


def read_reply(client: socket.socket) -> tuple[bytes, bytes]:
    """One reply with a Content-Length off a connection that stays open."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += client.recv(65536) or pytest.fail(f"closed before a reply: {data!r}")
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"content-length: *(\d+)", head.lower())[1])
    while len(body) < length:
        body += client.recv(65536) or pytest.fail("closed mid-reply")
    return head, body


def idle_client(server: Server) -> socket.socket:
    """A keep-alive connection that was answered once and now sends nothing."""
    client = socket.create_connection((HOST, server.port), timeout=30)
    client.sendall(request("GET", STATUS.format(name=server.name)))
    head, _ = read_reply(client)
    assert head.startswith(b"HTTP/1.1 200") and b"connection: close" not in head.lower()
    time.sleep(0.3)  # until the server waits for its next request
    return client


def closed_within(client: socket.socket, seconds: float) -> bool:
    client.settimeout(seconds)
    try:
        return client.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def stop_and_time(server: Server, timeout: float = 40) -> tuple[int, float]:
    begun = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    code = server.process.wait(timeout=timeout)
    return code, time.monotonic() - begun


def test_an_idle_keep_alive_client_does_not_hold_up_the_exit(frozen, servers, tmp_path):
    # It did, by the 30 s keep-alive timeout: Kubernetes' whole grace period.
    server = serve(servers, frozen("identity").path, tmp_path)
    with idle_client(server) as client:
        code, seconds = stop_and_time(server)
        assert closed_within(client, 1)
    assert code == 0 and seconds < 5, seconds
    assert "stopped" in server.stderr.read_text()


def test_a_request_that_never_ends_is_cut_off_after_the_drain_timeout(endless, servers, tmp_path):
    server = serve(servers, endless, tmp_path, "--drain-timeout", "1")
    with socket.create_connection((HOST, server.port), timeout=30) as client:
        client.sendall(request("POST", PREDICT.format(name="endless"), b'{"instances": [0]}'))
        time.sleep(1.0)  # time for the server to start the run, even on a busy machine
        code, seconds = stop_and_time(server)
        assert closed_within(client, 1)
    stderr = server.stderr.read_text()
    assert code == 1 and 0.9 < seconds < 5, (code, seconds, stderr)
    assert "cut off 1 request in flight" in stderr and "--drain-timeout 1" in stderr


def test_a_request_in_flight_is_answered_while_idle_clients_are_closed(frozen, servers, tmp_path):
    server = serve(servers, frozen("identity").path, tmp_path, "--drain-timeout", "20")
    body = b'{"instances": [[1, 2, 3, 4]]}'
    predict = request("POST", PREDICT.format(name="identity"), body, close=True)
    with (
        idle_client(server) as idle,
        socket.create_connection((HOST, server.port), timeout=30) as busy,
    ):
        busy.sendall(predict[:-10])  # the head and part of the body: in flight
        time.sleep(1.0)  # time for the server to read the head, even on a busy machine
        begun = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        assert closed_within(idle, 2)
        time.sleep(1.0)
        assert server.process.poll() is None  # still draining
        busy.sendall(predict[-10:])
        answer = b""
        while chunk := busy.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200")
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1]) == {"predictions": [[1.0, 2.0, 3.0, 4.0]]}
    assert server.process.wait(timeout=20) == 0
    assert time.monotonic() - begun < 5


def test_a_second_sigterm_exits_at_once(endless, servers, tmp_path):
    server = serve(servers, endless, tmp_path, "--drain-timeout", "60")
    with socket.create_connection((HOST, server.port), timeout=30) as client:
        client.sendall(request("POST", PREDICT.format(name="endless"), b'{"instances": [0]}'))
        time.sleep(1.0)
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        code, seconds = stop_and_time(server)
    assert code == 1 and seconds < 3, (code, seconds)


def test_an_idle_keep_alive_client_gives_its_thread_back(frozen, servers, tmp_path):
    # With one HTTP thread, an idle client held it for the 30 s request timeout.
    options = ("--http-threads", "1", "--keep-alive-timeout", "1")
    server = serve(servers, frozen("identity").path, tmp_path, *options)
    with idle_client(server) as idle:
        begun = time.monotonic()
        with socket.create_connection((HOST, server.port), timeout=30) as other:
            other.sendall(request("GET", STATUS.format(name="identity"), close=True))
            head, _ = read_reply(other)
        assert head.startswith(b"HTTP/1.1 200") and time.monotonic() - begun < 4
        assert closed_within(idle, 1)  # closed by the server after 1 s idle


def test_keep_alive_timeout_0_closes_after_every_reply(frozen, servers, tmp_path):
    server = serve(servers, frozen("identity").path, tmp_path, "--keep-alive-timeout", "0")
    with socket.create_connection((HOST, server.port), timeout=30) as client:
        client.sendall(request("GET", STATUS.format(name="identity")))
        head, _ = read_reply(client)
        assert b"connection: close" in head.lower()
        assert closed_within(client, 2)


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--drain-timeout", "-1"),
        ("--drain-timeout", "3601"),
        ("--drain-timeout", "soon"),
        ("--keep-alive-timeout", "-1"),
        ("--keep-alive-timeout", "3601"),
        ("--keep-alive-timeout", "1.5"),
    ],
)
def test_bad_shutdown_flag_values_are_one_line_and_exit_2(frozen, flag, value):
    code, lines = _serve_error([str(frozen("identity").path), flag, value])
    assert code == 2 and len(lines) == 1, lines
    assert flag in lines[0], lines
    if value.lstrip("-").isdigit():
        assert "0 to 3600" in lines[0], lines  # the valid range
