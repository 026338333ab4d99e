"""Slow and stalled clients against the default deployment (service/worker.py).

Under gunicorn's sync worker, a client that sent half a body and stopped held a worker until
the 30 s timeout: two such clients stopped a two-worker server. The buffering worker reads
every request in full before the app sees it and answers 408 to one that is not whole within
STANCE_READ_TIMEOUT. First the framing rules (where a request ends), then a real gunicorn.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.server import GunicornServer, ServerError, status_and_body
from service.worker import MAX_HEAD_BYTES, RequestFraming, read_timeout_from_environment

QUOTE = "Ukraine belongs in NATO and the allies should issue the invitation this year."
BODY = json.dumps({"text": QUOTE}).encode()
READ_TIMEOUT = 3.0


def post_head(length: int | None = None, *extra: str) -> bytes:
    lines = ["POST /v1/score HTTP/1.1", "Host: test", "Content-Type: application/json"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines += extra
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunked(body: bytes, size: int = 7) -> bytes:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


def first_whole(framing: RequestFraming, request: bytes) -> int | None:
    """Feed `request` one byte more at a time; the length at which `feed` first says the
    request can go to the app, or None if it never does."""
    for end in range(1, len(request) + 1):
        if framing.feed(request[:end]):
            return end
    return None


# -- where a request ends ------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n",
        post_head(len(BODY)) + BODY,
        post_head(None, "Transfer-Encoding: chunked") + chunked(BODY),
        post_head(None, "Transfer-Encoding: chunked") + chunked(BODY)[:-2] + b"X-T: 1\r\n\r\n",
        post_head(0),
    ],
    ids=["get", "content-length", "chunked", "chunked-with-trailer", "empty-body"],
)
def test_a_request_is_whole_at_its_last_byte_and_not_before(request_bytes: bytes) -> None:
    """Fed byte by byte, a request counts as whole exactly when its last byte arrives: after
    the head for a request without a body, after Content-Length bytes, after the last chunk
    and its trailers."""
    assert len(request_bytes) == first_whole(RequestFraming(max_body=1000), request_bytes)


@pytest.mark.parametrize(
    "head",
    [
        post_head(1001),
        post_head(12, "Transfer-Encoding: chunked"),
        post_head(None, "Content-Length: x1"),
        post_head(None, "Content-Length: 5", "Content-Length: 6"),
        post_head(None, "Transfer-Encoding: gzip"),
    ],
    ids=["over-the-limit", "length-and-chunked", "bad-length", "two-lengths", "not-chunked"],
)
def test_requests_refused_from_their_head_go_to_the_app_at_once(head: bytes) -> None:
    """A body over the limit, or framing that gunicorn refuses, is not waited for: the
    request goes on as soon as its head is in, and the app or gunicorn answers 413 or 400
    without reading a body."""
    assert len(head) == first_whole(RequestFraming(max_body=1000), head + b'{"text": "')


def test_a_chunked_body_over_the_limit_goes_to_the_app_once_past_it() -> None:
    """Chunked bodies have no length up front: buffering stops once the chunks hold more
    than the limit (counting body bytes, not framing), and the app answers 413."""
    framing = RequestFraming(max_body=100)
    head = post_head(None, "Transfer-Encoding: chunked")
    assert not framing.feed(head + chunked(b"x" * 100, size=10)[:-5])
    assert framing.feed(head + b"a\r\n" + b"x" * 10 + b"\r\n" + chunked(b"y" * 95, size=5)[:-5])


def test_a_head_that_never_ends_is_cut_at_the_limit() -> None:
    """Bytes without the blank line that ends a head are buffered up to MAX_HEAD_BYTES, then
    the worker answers 431 itself."""
    framing = RequestFraming(max_body=1000)
    assert not framing.feed(b"GET / HTTP/1.1\r\nX: " + b"a" * (MAX_HEAD_BYTES - 30))
    assert framing.feed(b"GET / HTTP/1.1\r\nX: " + b"a" * MAX_HEAD_BYTES)
    assert framing.head_too_large


def test_expect_continue_is_answered_and_removed_from_the_head() -> None:
    """A client that sends `Expect: 100-continue` waits for "100 Continue" before its body:
    the worker sends it, and drops the header so that gunicorn does not send a second one."""
    framing = RequestFraming(max_body=1000)
    head = post_head(len(BODY), "Expect: 100-continue")
    assert not framing.feed(bytearray(head))
    assert framing.expects_continue
    rewritten = framing.answer_expect(bytearray(head))
    assert post_head(len(BODY)) == bytes(rewritten)
    assert not framing.expects_continue
    assert framing.feed(rewritten + BODY)


@pytest.mark.parametrize("value", ["soon", "0", "-3", "nan", "inf"])
def test_a_read_timeout_that_is_not_a_positive_number_is_refused(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """STANCE_READ_TIMEOUT must be a finite number of seconds above zero."""
    monkeypatch.setenv("STANCE_READ_TIMEOUT", value)
    message = f"STANCE_READ_TIMEOUT must be a positive number of seconds, got '{value}'"
    with pytest.raises(ValueError, match=message):
        read_timeout_from_environment()


def test_the_read_timeout_defaults_to_30_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STANCE_READ_TIMEOUT", raising=False)
    assert 30.0 == read_timeout_from_environment()
    monkeypatch.setenv("STANCE_READ_TIMEOUT", "2.5")
    assert 2.5 == read_timeout_from_environment()


# -- a real gunicorn -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GunicornServer]:
    """The default deployment (service/gunicorn.conf.py, two workers) with a 3 s read timeout."""
    home = tmp_path_factory.mktemp("slow-clients")
    models = home / "models"
    shutil.copytree(model_dir, models, symlinks=True)
    env = {"STANCE_READ_TIMEOUT": str(READ_TIMEOUT)}
    with GunicornServer.start(home / "run", model_dir=models, env=env) as instance:
        yield instance


def stalled_connections(server: GunicornServer, data: bytes, count: int) -> list[socket.socket]:
    connections = []
    for _ in range(count):
        connection = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        connection.sendall(data)
        connections.append(connection)
    return connections


def read_until_closed(connection: socket.socket) -> bytes:
    received = b""
    with connection:
        while True:
            try:
                chunk = connection.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
    return received


@pytest.mark.slow
def test_fifty_stalled_clients_neither_delay_a_request_nor_outlive_the_timeout(
    server: GunicornServer,
) -> None:
    """50 connections that each send half a body and stall: a normal POST /v1/score still
    answers 200 in under 1 s, each stalled connection gets a 408 JSON error and is closed
    after STANCE_READ_TIMEOUT (3 s), and no worker was replaced."""
    workers = server.workers()
    started = time.monotonic()
    stalled = stalled_connections(server, post_head(len(BODY)) + BODY[: len(BODY) // 2], 50)
    time.sleep(0.5)  # the workers have accepted them and wait for the rest
    asked = time.monotonic()
    reply = server.request("POST", "/v1/score", {"text": QUOTE}, timeout=10)
    answered_in = time.monotonic() - asked
    assert 200 == reply.status
    assert answered_in < 1.0
    answers = [read_until_closed(connection) for connection in stalled]
    closed_after = time.monotonic() - started
    assert READ_TIMEOUT - 0.5 <= closed_after <= READ_TIMEOUT + 5
    for received in answers:
        status, body = status_and_body(received)
        assert 408 == status
        assert {
            "code": "request_timeout",
            "message": "the request did not arrive in full within 3 s; send it again",
        } == json.loads(body)["error"]
    assert workers == server.workers()
    assert 200 == server.request("POST", "/v1/score", {"text": QUOTE}).status


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sent", "answer"),
    [
        (b"", None),
        (b"POST /v1/score HTTP/1.1\r\nHost: test\r\nContent-Le", 408),
        (post_head(None, "Transfer-Encoding: chunked") + chunked(BODY)[:20], 408),
    ],
    ids=["idle", "half-a-head", "half-a-chunked-body"],
)
def test_idle_and_stalled_connections_are_closed_after_the_read_timeout(
    server: GunicornServer, sent: bytes, answer: int | None
) -> None:
    """A connection that sends nothing is closed without an answer after the read timeout;
    one stalled in its head or in a chunked body gets 408 first."""
    received, seconds = server.exchange(sent, timeout=30)
    assert READ_TIMEOUT - 0.5 <= seconds <= READ_TIMEOUT + 5
    if answer is None:
        assert b"" == received
    else:
        assert answer == status_and_body(received)[0]


@pytest.mark.slow
def test_a_body_that_trickles_in_within_the_timeout_is_scored(server: GunicornServer) -> None:
    """A slow but steady client is not cut off: a body sent a few bytes at a time over
    about a second is scored like any other."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(post_head(len(BODY)))
        for i in range(0, len(BODY), 8):
            connection.sendall(BODY[i : i + 8])
            time.sleep(0.1)
        received = read_until_closed(connection)
    status, body = status_and_body(received)
    assert 200 == status
    assert "results" in json.loads(body)


@pytest.mark.slow
def test_a_client_that_expects_100_continue_gets_it_once(server: GunicornServer) -> None:
    """`Expect: 100-continue`: the server says "100 Continue" once, the client sends its body,
    and the answer is the score."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(post_head(len(BODY), "Expect: 100-continue"))
        assert b"HTTP/1.1 100 Continue\r\n\r\n" == connection.recv(65536)
        connection.sendall(BODY)
        received = read_until_closed(connection)
    assert b"100 Continue" not in received
    assert 200 == status_and_body(received)[0]


@pytest.mark.slow
def test_a_head_over_the_limit_gets_431(server: GunicornServer) -> None:
    """A head that goes on past MAX_HEAD_BYTES without ending is answered 431 at once."""
    head = b"GET /healthz HTTP/1.1\r\nX-Long: " + b"a" * (MAX_HEAD_BYTES + 10)
    received, seconds = server.exchange(head, timeout=10)
    status, body = status_and_body(received)
    assert 431 == status
    assert "headers_too_large" == json.loads(body)["error"]["code"]
    assert seconds < READ_TIMEOUT


@pytest.mark.slow
def test_a_request_arriving_during_a_reload_is_answered(server: GunicornServer) -> None:
    """A request half-sent when the master gets HUP is still answered: the old worker stops
    accepting but serves the connections it holds before it exits."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(post_head(len(BODY)) + BODY[:10])
        time.sleep(0.3)
        before = server.workers()
        os.kill(server.master, signal.SIGHUP)
        server.wait_for(lambda: len(server.workers() - before) == 2, 30, "new workers")
        time.sleep(0.5)  # the old workers have been told to stop
        connection.sendall(BODY[10:])
        received = read_until_closed(connection)
    assert 200 == status_and_body(received)[0]
    server.wait_for(lambda: not server.workers() & before, 30, "the old workers to exit")


@pytest.mark.slow
def test_a_server_with_a_bad_read_timeout_does_not_start(model_dir: Path, tmp_path: Path) -> None:
    """gunicorn refuses to start on a bad STANCE_READ_TIMEOUT, with one log line naming it."""
    env = {"STANCE_READ_TIMEOUT": "soon"}
    with pytest.raises(ServerError, match=r"gunicorn exited \(1\)"):
        GunicornServer.start(tmp_path / "run", model_dir=model_dir, env=env, timeout=30)
    log = (tmp_path / "run" / "stderr.log").read_text()
    assert (
        "cannot start: STANCE_READ_TIMEOUT must be a positive number of seconds, got 'soon'" in log
    )
    assert "Traceback" not in log


@pytest.mark.slow
def test_many_clients_at_once_are_all_answered(server: GunicornServer) -> None:
    """40 clients sending at the same time all get their scores (none is lost between the
    two workers' event loops)."""
    statuses: list[int] = []

    def one(i: int) -> None:
        reply = server.request("POST", "/v1/score", {"quotes": [{"id": i, "text": QUOTE}]})
        statuses.append(reply.status)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [200] * 40 == statuses
