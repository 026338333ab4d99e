"""The gunicorn worker of `make serve`: it reads each request in full before the app runs.

gunicorn's sync worker gives a connection to the app as soon as it accepts it, so a client
that sends half a body and stops holds the worker until `timeout`: two such clients stop a
two-worker server. (The stock gthread worker does no better: a thread blocks on the body.)

`BufferingWorker` keeps every connection in one event loop and reads without blocking until
the request is whole: its head, then its Content-Length or chunked body. Only then does the
app run, in the worker's main thread, one request at a time, exactly as under the sync worker:
the master still stops a request that runs past `timeout` (and the client gets the 503 JSON
error). A request that has not arrived in full within STANCE_READ_TIMEOUT seconds (default
30) is answered 408 and its connection closed; a stalled client costs a socket and the bytes
it sent, never the worker. A body over the service's size limits is not buffered: the app
refuses it with 413 from its Content-Length, or after reading one byte past the limit.

This class uses gunicorn internals (`SyncWorker.handle_request`, the parser's unreader);
pyproject.toml pins gunicorn's major version, and tests/test_slow_clients.py exercises it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import selectors
import socket
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from gunicorn import http, util
from gunicorn.workers.sync import SyncWorker

from service.config import DEFAULTS, from_environment

READ_TIMEOUT_VARIABLE = "STANCE_READ_TIMEOUT"
DEFAULT_READ_TIMEOUT = 30.0
MAX_HEAD_BYTES = 64 * 1024  # request line and headers; gunicorn's own limits apply below it
LINGER_SECONDS = 2.0  # after a response, how long to wait for the client to close
LINGER_BYTES = 64 * 1024
_HEX = re.compile(rb"[0-9A-Fa-f]+")


def read_timeout_from_environment() -> float:
    """STANCE_READ_TIMEOUT: seconds a client has to send its whole request."""
    value = os.environ.get(READ_TIMEOUT_VARIABLE, "").strip()
    if not value:
        return DEFAULT_READ_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not (seconds > 0 and math.isfinite(seconds)):
        raise ValueError(
            f"{READ_TIMEOUT_VARIABLE} must be a positive number of seconds, got {value!r}"
        )
    return seconds


def largest_body_accepted() -> int:
    """The largest body any endpoint accepts (MAX_JSON_BYTES, MAX_CSV_BYTES)."""
    limits = {**DEFAULTS, **from_environment()}
    return max(int(limits["MAX_JSON_BYTES"]), int(limits["MAX_CSV_BYTES"]))


class RequestFraming:
    """Where an HTTP/1.x request ends, judged from the bytes received so far.

    `feed` is called with the whole buffer each time bytes arrive and answers whether the
    request can go to the app: it is whole, or it is a request the app or gunicorn will
    refuse without reading more (a head or body over the limits, framing gunicorn rejects).
    """

    def __init__(self, max_body: int, max_head: int = MAX_HEAD_BYTES) -> None:
        self.max_body = max_body
        self.max_head = max_head
        self.head_end: int | None = None
        self.body_length: int | None = None  # Content-Length
        self.chunked = False
        self.expects_continue = False
        self.head_too_large = False
        self._chunk_at = 0  # where the next chunk-size line starts (chunked bodies)
        self._chunk_bytes = 0  # body bytes in the chunks seen so far
        self._searched = 0

    def feed(self, buffer: bytes | bytearray) -> bool:
        if self.head_end is None:
            found = buffer.find(b"\r\n\r\n", max(0, self._searched - 3))
            if found < 0:
                self._searched = len(buffer)
                if len(buffer) > self.max_head:
                    self.head_too_large = True
                    return True
                return False
            self.head_end = found + 4
            if not self._read_head(bytes(buffer[: self.head_end])):
                return True  # gunicorn judges it: malformed framing, or a body not to buffer
            self._chunk_at = self.head_end
        if self.chunked:
            return self._chunked_body_complete(buffer)
        return len(buffer) >= self.head_end + (self.body_length or 0)

    def answer_expect(self, buffer: bytearray) -> bytearray:
        """The request without its `Expect: 100-continue` line, once the worker has sent
        "100 Continue" itself (gunicorn would send a second one)."""
        assert self.head_end is not None
        old_end = self.head_end
        lines = bytes(buffer[: old_end - 4]).split(b"\r\n")
        kept = [lines[0], *(line for line in lines[1:] if not line.lower().startswith(b"expect:"))]
        head = b"\r\n".join(kept) + b"\r\n\r\n"
        self.head_end = len(head)
        self._chunk_at += self.head_end - old_end
        self.expects_continue = False
        return bytearray(head) + buffer[old_end:]

    def _read_head(self, head: bytes) -> bool:
        """Learn the body's framing; False when there is nothing to buffer."""
        lengths: list[bytes] = []
        codings: list[bytes] = []
        for line in head.split(b"\r\n")[1:]:
            name, colon, value = line.partition(b":")
            if not colon:
                continue
            name = name.lower()
            if name == b"content-length":
                lengths.append(value.strip())
            elif name == b"transfer-encoding":
                codings.extend(c.strip().lower() for c in value.split(b","))
            elif name == b"expect" and value.strip().lower() == b"100-continue":
                self.expects_continue = True
        if codings:
            if lengths or codings[-1] != b"chunked":
                return False  # gunicorn refuses both together, and codings other than chunked
            self.chunked = True
            return True
        if not lengths:
            self.body_length = 0
            return False
        if len(set(lengths)) != 1 or not lengths[0].isdigit():
            return False  # gunicorn answers 400
        self.body_length = int(lengths[0])
        # Over the limit: the app refuses it from the Content-Length, before any body byte.
        return 0 < self.body_length <= self.max_body

    def _chunked_body_complete(self, buffer: bytes | bytearray) -> bool:
        assert self.head_end is not None
        while True:
            if self._chunk_bytes > self.max_body:
                return True  # the app reads one byte past its limit and answers 413
            line_end = buffer.find(b"\r\n", self._chunk_at)
            if line_end < 0:
                return len(buffer) - self._chunk_at > 1024  # no size line that long: malformed
            size_text = bytes(buffer[self._chunk_at : line_end]).split(b";", 1)[0].strip()
            if not _HEX.fullmatch(size_text):
                return True  # gunicorn answers 400
            size = int(size_text, 16)
            if size == 0:  # the last chunk, then optional trailers and an empty line
                return buffer.find(b"\r\n\r\n", line_end) >= 0
            next_chunk = line_end + 2 + size + 2
            if len(buffer) < next_chunk:
                return False
            self._chunk_at = next_chunk
            self._chunk_bytes += size


@dataclass
class Connection:
    """A client connection whose request is still arriving."""

    sock: socket.socket
    addr: Any
    listener: Any
    deadline: float
    framing: RequestFraming
    buffer: bytearray = field(default_factory=bytearray)


def error_bytes(status: int, reason: str, code: str, message: str) -> bytes:
    body = json.dumps({"error": {"code": code, "message": message}}).encode("ascii")
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class BufferingWorker(SyncWorker):
    """A sync worker that runs the app only on requests that have arrived in full."""

    @classmethod
    def check_config(cls, cfg: Any, log: Any) -> None:
        if cfg.is_ssl:
            log.error(
                "the buffering worker does not terminate TLS; run it behind a proxy that does"
            )
            sys.exit(1)

    def init_process(self) -> None:
        self.read_timeout = read_timeout_from_environment()
        self.max_body = largest_body_accepted()
        self.max_connections = self.cfg.worker_connections
        self.selector = selectors.DefaultSelector()
        self.reading: dict[int, Connection] = {}
        self.ready: deque[Connection] = deque()
        self.lingering: dict[int, tuple[socket.socket, float, int]] = {}
        self.accepting = False
        self.aborting = False
        super().init_process()

    def handle_abort(self, sig: int, frame: Any) -> None:
        self.aborting = True  # the master kills this process if it does not exit at once
        super().handle_abort(sig, frame)

    # -- the event loop ------------------------------------------------------------------

    def run(self) -> None:
        for listener in self.sockets:
            listener.setblocking(False)
        self.selector.register(self.PIPE[0], selectors.EVENT_READ, "wakeup")
        stop_by: float | None = None
        while not self.aborting:
            self.notify()
            if not self.alive:
                if stop_by is None:
                    stop_by = time.monotonic() + self.cfg.graceful_timeout
                    self.set_accepting(False)
                if (not self.reading and not self.ready) or time.monotonic() > stop_by:
                    break
            elif not self.is_parent_alive():
                break
            else:
                self.set_accepting(not self.ready and len(self.reading) < self.max_connections)
            self.poll(0 if self.ready else self.next_wakeup())
            self.expire()
            if self.ready:
                self.serve(self.ready.popleft())
        for connection in [*self.reading.values(), *self.ready]:
            util.close(connection.sock)
        for sock, _, _ in self.lingering.values():
            util.close(sock)

    def set_accepting(self, accepting: bool) -> None:
        if accepting == self.accepting:
            return
        for listener in self.sockets:
            if accepting:
                self.selector.register(listener, selectors.EVENT_READ, "listener")
            else:
                self.selector.unregister(listener)
        self.accepting = accepting

    def next_wakeup(self) -> float:
        deadlines = [c.deadline for c in self.reading.values()]
        deadlines += [until for _, until, _ in self.lingering.values()]
        if not deadlines:
            return 1.0
        return min(1.0, max(0.0, min(deadlines) - time.monotonic()))

    def poll(self, timeout: float) -> None:
        try:
            events = self.selector.select(timeout)
        except InterruptedError:
            return
        for key, _ in events:
            if key.data == "wakeup":
                try:
                    while os.read(self.PIPE[0], 64):
                        pass
                except OSError:
                    pass
            elif key.data == "listener":
                self.accept_one(key.fileobj)
            elif key.data == "reading":
                connection = self.reading.get(key.fd)
                if connection is not None and connection.sock is key.fileobj:
                    self.receive(connection)
            elif key.fd in self.lingering and self.lingering[key.fd][0] is key.fileobj:
                self.drain(key.fd)

    def accept_one(self, listener: Any) -> None:
        """Accept one connection, and read its request at once if it is already there."""
        if self.ready or not self.alive:
            return
        try:
            sock, addr = listener.accept()
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                return
            raise
        sock.setblocking(False)
        util.close_on_exec(sock)
        connection = Connection(
            sock,
            addr,
            listener,
            time.monotonic() + self.read_timeout,
            RequestFraming(self.max_body),
        )
        self.reading[sock.fileno()] = connection
        self.selector.register(sock, selectors.EVENT_READ, "reading")
        self.receive(connection)

    def receive(self, connection: Connection) -> None:
        try:
            data = connection.sock.recv(256 * 1024)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client closed or reset the connection before its request was whole
            self.forget(connection)
            util.close(connection.sock)
            return
        connection.buffer += data
        framing = connection.framing
        if not framing.feed(connection.buffer):
            if framing.expects_continue:  # the client waits for this before sending the body
                self.send_quietly(connection.sock, b"HTTP/1.1 100 Continue\r\n\r\n")
                connection.buffer = framing.answer_expect(connection.buffer)
            return
        self.forget(connection)
        if framing.head_too_large:
            self.refuse(
                connection.sock,
                error_bytes(
                    431,
                    "Request Header Fields Too Large",
                    "headers_too_large",
                    f"the request line and headers are over {MAX_HEAD_BYTES} bytes",
                ),
            )
            return
        self.ready.append(connection)

    def forget(self, connection: Connection) -> None:
        self.reading.pop(connection.sock.fileno(), None)
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(connection.sock)

    def expire(self) -> None:
        """Answer 408 to requests not whole by their deadline, and close lingering sockets."""
        now = time.monotonic()
        for connection in [c for c in self.reading.values() if c.deadline <= now]:
            self.forget(connection)
            if connection.buffer:
                self.log.info(
                    "request from %s not received in full within %s s (%s); closed",
                    connection.addr[0] if connection.addr else "?",
                    f"{self.read_timeout:g}",
                    READ_TIMEOUT_VARIABLE,
                )
                self.refuse(
                    connection.sock,
                    error_bytes(
                        408,
                        "Request Timeout",
                        "request_timeout",
                        f"the request did not arrive in full within {self.read_timeout:g} s; "
                        "send it again",
                    ),
                )
            else:
                util.close(connection.sock)
        for fd in [fd for fd, (_, until, _) in self.lingering.items() if until <= now]:
            self.close_lingering(fd)

    # -- answering -----------------------------------------------------------------------

    def serve(self, connection: Connection) -> None:
        """Run the app on a whole request, as the sync worker does, then close gracefully."""
        self.notify()  # the master's `timeout` counts from here, for this request alone
        sock = connection.sock
        req = None
        try:
            sock.settimeout(self.read_timeout)  # bounds writing to a client that does not read
            parser = http.get_parser(self.cfg, sock, connection.addr)
            parser.unreader.unread(bytes(connection.buffer))
            req = next(parser)
            self.handle_request(connection.listener, req, sock, connection.addr)
        except http.errors.NoMoreData as exc:
            self.log.debug("Ignored premature client disconnection. %s", exc)
        except StopIteration as exc:
            self.log.debug("Closing connection. %s", exc)
        except TimeoutError:
            self.log.info(
                "client %s did not read its response within %s s; closed",
                connection.addr[0] if connection.addr else "?",
                f"{self.read_timeout:g}",
            )
        except OSError as exc:
            if exc.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                self.log.exception("Socket error processing request.")
        except BaseException as exc:  # as the sync worker: SystemExit when the master aborts
            self.handle_error(req, sock, connection.addr, exc)
        self.linger(sock)

    def refuse(self, sock: socket.socket, response: bytes) -> None:
        self.send_quietly(sock, response)
        self.linger(sock)

    @staticmethod
    def send_quietly(sock: socket.socket, data: bytes) -> None:
        try:
            sock.setblocking(False)
            sock.send(data)
        except OSError:
            pass

    def linger(self, sock: socket.socket) -> None:
        """Close as RFC 9112 9.6 asks (send FIN, read until the client closes), without
        blocking: the socket waits in the event loop for at most LINGER_SECONDS."""
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ, "lingering")
        except (OSError, KeyError, ValueError):
            util.close(sock)
            return
        self.lingering[sock.fileno()] = (sock, time.monotonic() + LINGER_SECONDS, 0)

    def drain(self, fd: int) -> None:
        sock, until, drained = self.lingering[fd]
        try:
            data = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data or drained + len(data) >= LINGER_BYTES:
            self.close_lingering(fd)
        else:
            self.lingering[fd] = (sock, until, drained + len(data))

    def close_lingering(self, fd: int) -> None:
        sock, _, _ = self.lingering.pop(fd)
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(sock)
        util.close(sock)
