"""A real gunicorn for the tests and the benchmarks: started as `make serve` starts it, on a
free loopback port, with its own run folder; ready when it answers; stopped on exit.

    with GunicornServer.start(home, model_dir=models) as server:
        server.request("POST", "/v1/score", {"text": "..."}).json()
        server.master, server.workers()

Every test and benchmark that needs the server over a socket uses this one class.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).parent / "gunicorn"
CONFIG = ROOT / "service" / "gunicorn.conf.py"
SERVICE_APP = "service:create_app()"
START_TIMEOUT = 60.0


class ServerError(RuntimeError):
    """The server did not start, exited, or did not reach an awaited state; the message ends
    with the tail of its log."""


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def children(parent: int) -> set[int]:
    """Live (non-zombie) child processes of `parent`, from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == parent and state != "Z":
            found.add(int(entry.name))
    return found


class GunicornServer:
    """One gunicorn master and its workers, in a `home` folder of its own (pid file, control
    socket, Prometheus folder, stdout and stderr logs)."""

    def __init__(
        self, process: subprocess.Popen[bytes], port: int, home: Path, model_dir: Path | None
    ) -> None:
        self.process = process
        self.model_dir = model_dir
        self.port = port
        self.home = home
        self.url = f"http://127.0.0.1:{port}"
        self.pidfile = home / "gunicorn.pid"
        self.log_path = home / "stderr.log"
        self.master = process.pid

    @classmethod
    def start(
        cls,
        home: Path,
        *,
        model_dir: Path | None = None,
        app: str = SERVICE_APP,
        workers: int = 2,
        env: Mapping[str, str] | None = None,
        config: Path | None = CONFIG,
        pythonpath: Sequence[Path] = (),
        ready_path: str = "/readyz",
        ready_status: int | None = 200,
        timeout: float = START_TIMEOUT,
    ) -> GunicornServer:
        """Start gunicorn and wait until `ready_path` answers `ready_status` (any status if
        None) and all `workers` are up. The environment is this process's, less any STANCE_*
        and PROMETHEUS_MULTIPROC_DIR, plus `env`; `config=None` runs without the repo's
        gunicorn.conf.py (for the naive baseline app)."""
        home.mkdir(parents=True, exist_ok=True)
        port = free_port()
        environment = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("STANCE_") and k != "PROMETHEUS_MULTIPROC_DIR"
        }
        environment["STANCE_PIDFILE"] = str(home / "gunicorn.pid")
        if model_dir is not None:
            environment["STANCE_MODEL_DIR"] = str(model_dir)
        environment.update(env or {})
        command = [str(GUNICORN)]
        if config is not None:
            command += ["-c", str(config)]
        command += [
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--pid",
            str(home / "gunicorn.pid"),
            # gunicorn's control socket defaults to one path per user; keep each server apart
            "--control-socket",
            str(home / "gunicorn.ctl"),
        ]
        for path in pythonpath:
            command += ["--pythonpath", str(path)]
        command.append(app)
        with (home / "stderr.log").open("wb") as stderr, (home / "stdout.log").open("wb") as out:
            process = subprocess.Popen(
                command, cwd=ROOT, env=environment, stdout=out, stderr=stderr
            )
        server = cls(process, port, home, model_dir)
        try:
            server.wait_for(
                lambda: (
                    ready_status is None
                    or server.request("GET", ready_path, timeout=5).status == ready_status
                ),
                timeout,
                f"{ready_path} to answer",
            )
            server.wait_for(lambda: len(server.workers()) == workers, timeout, "the workers")
        except BaseException:
            server.stop()
            raise
        return server

    def __enter__(self) -> GunicornServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM to the master (a graceful stop), SIGKILL if it is still there after
        `timeout` seconds; returns its exit status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.returncode

    # -- looking at it -------------------------------------------------------------------

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def workers(self) -> set[int]:
        return children(self.master)

    def wait_for(self, condition: Callable[[], Any], timeout: float, what: str) -> Any:
        """Poll `condition` until it returns something truthy (connection errors count as
        not yet); raise ServerError with the log's tail if gunicorn exits or time runs out."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = condition()
            except (OSError, http.client.HTTPException):
                value = None
            if value:
                return value
            if self.process.poll() is not None:
                raise ServerError(
                    f"gunicorn exited ({self.process.returncode}) while waiting for {what}\n"
                    + self.log()[-4000:]
                )
            if time.monotonic() > deadline:
                raise ServerError(
                    f"timed out after {timeout} s waiting for {what}\n" + self.log()[-4000:]
                )
            time.sleep(0.05)

    # -- talking to it -------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
    ) -> Reply:
        """One request on a fresh connection; `body` is sent as JSON unless it is bytes."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            sent_headers = dict(headers or {})
            data = body
            if body is not None and not isinstance(body, bytes):
                data = json.dumps(body).encode()
                sent_headers.setdefault("Content-Type", "application/json")
            connection.request(method, path, body=data, headers=sent_headers)
            response = connection.getresponse()
            return Reply(
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                response.read(),
            )
        finally:
            connection.close()

    def exchange(self, data: bytes, timeout: float = 30.0) -> tuple[bytes, float]:
        """Send raw bytes on a fresh connection; everything received until the server closes
        it, and how many seconds that took."""
        started = time.monotonic()
        received = b""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as connection:
            connection.sendall(data)
            while True:
                try:
                    chunk = connection.recv(65536)
                except ConnectionResetError:  # closed with bytes of ours unread
                    break
                if not chunk:
                    break
                received += chunk
        return received, time.monotonic() - started

    def served_version(self) -> str:
        reply = self.request("GET", "/v1/model")
        if reply.status != 200:
            raise ServerError(f"GET /v1/model answered {reply.status}: {reply.body[:300]!r}")
        return str(reply.json()["version"])


def status_and_body(received: bytes) -> tuple[int, bytes]:
    """The status code and body of a raw HTTP/1.1 answer (after any 100 Continue)."""
    while received.startswith(b"HTTP/1.1 100"):
        received = received.split(b"\r\n\r\n", 1)[1]
    head, _, body = received.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body
