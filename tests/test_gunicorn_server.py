"""The real server: gunicorn with the repo's config, two workers, over a loopback socket.

One server per module (per xdist worker that runs tests from it). The tests do not depend
on their order: each reads the version being served before changing anything.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import train_tiny
from prometheus_client.parser import text_string_to_metric_families

from model.store import ModelStore, new_version_name

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
GUNICORN = REPO / ".venv" / "bin" / "gunicorn"
QUOTE = "Ukraine belongs in NATO and the allies should issue the invitation this year."
START_TIMEOUT = 30.0
RELOAD_TIMEOUT = 30.0


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    model_dir: Path
    log_path: Path
    pidfile: Path
    master: int = field(default=0)

    def request(self, method: str, path: str, body: Any = None, timeout: float = 10.0) -> Reply:
        """One request on a fresh connection; a JSON body when `body` is given."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            return Reply(
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                response.read(),
            )
        finally:
            connection.close()

    def served_version(self) -> str:
        reply = self.request("GET", "/v1/model")
        assert reply.status == 200, reply.body
        return str(reply.json()["version"])

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def workers(self) -> set[int]:
        """The live (non-zombie) child processes of the gunicorn master."""
        children = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            state, ppid = stat.rsplit(")", 1)[1].split()[:2]
            if int(ppid) == self.master and state != "Z":
                children.add(int(entry.name))
        return children


def wait_for(
    condition: Callable[[], Any], timeout: float, what: str, server: Server | None = None
) -> Any:
    """Poll `condition` until it returns something truthy; fail with the server log if not."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except (OSError, http.client.HTTPException):
            value = None
        if value:
            return value
        if server is not None and server.process.poll() is not None:
            pytest.fail(f"gunicorn exited ({server.process.returncode}) while waiting for {what}")
        if time.monotonic() > deadline:
            log = server.log()[-4000:] if server is not None else ""
            pytest.fail(f"timed out after {timeout}s waiting for {what}\n{log}")
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """gunicorn started exactly as `make serve` starts it, on a copy of the trained model."""
    home = tmp_path_factory.mktemp("gunicorn")
    models = home / "models"
    shutil.copytree(model_dir, models, symlinks=True)
    metrics_dir = home / "prometheus"
    metrics_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STANCE_")}
    env.update(
        STANCE_MODEL_DIR=str(models),
        STANCE_PIDFILE=str(home / "gunicorn.pid"),
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    port = free_port()
    log_path = home / "stderr.log"
    command = [
        str(GUNICORN),
        "-c",
        "service/gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        # gunicorn's control socket defaults to one path per user; keep this one apart
        "--control-socket",
        str(home / "gunicorn.ctl"),
        "service:create_app()",
    ]
    with log_path.open("wb") as stderr, (home / "stdout.log").open("wb") as stdout:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=stdout, stderr=stderr)
    instance = Server(process, port, models, log_path, home / "gunicorn.pid")
    try:
        wait_for(
            lambda: instance.request("GET", "/readyz").status == 200,
            START_TIMEOUT,
            "/readyz",
            instance,
        )
        instance.master = int(instance.pidfile.read_text().strip())
        assert instance.master == process.pid
        wait_for(lambda: len(instance.workers()) == 2, START_TIMEOUT, "two workers", instance)
        yield instance
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def hup_and_wait_for_new_workers(server: Server) -> None:
    """Send HUP to the master and wait until every worker is one forked after it."""
    before = server.workers()
    os.kill(server.master, signal.SIGHUP)
    wait_for(
        lambda: (now := server.workers()) and len(now) == 2 and not now & before,
        RELOAD_TIMEOUT,
        "the workers to be replaced after HUP",
        server,
    )


# -- tests --------------------------------------------------------------------------------


def test_scores_a_quote_over_a_socket(server: Server) -> None:
    """POST /v1/score with a quote answers 200 JSON with the id echoed and the scores the
    served model gives."""
    version = server.served_version()
    reply = server.request("POST", "/v1/score", {"quotes": [{"id": "q-1", "text": QUOTE}]})
    assert reply.status == 200, reply.body
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["server"].startswith("gunicorn")
    body = reply.json()
    assert body["model"] == {"version": version}
    [result] = body["results"]
    assert result["id"] == "q-1"
    assert result["truncated"] is False
    expected = ModelStore(server.model_dir).load(version).predict([QUOTE])[0]
    assert {"stance": result["stance"], "sentiment": result["sentiment"]} == expected


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
        (b"GET /healthz HTTP/1.1\r\nX-A: " + b"b" * 9000 + b"\r\n\r\n", 431, "headers_too_large"),
        (b"GARBAGE\r\n\r\n", 400, "bad_request"),
    ],
    ids=["request-line-too-long", "header-too-long", "not-http"],
)
def test_requests_gunicorn_rejects_get_the_json_error_shape(
    server: Server, raw: bytes, status: int, code: str
) -> None:
    """Requests gunicorn refuses before the app sees them still get the JSON error shape."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(raw)
        received = b""
        while True:
            try:
                chunk = connection.recv(65536)
            except ConnectionResetError:  # gunicorn closed with our excess bytes unread
                break
            if not chunk:
                break
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith(f"HTTP/1.1 {status} ")
    assert "Content-Type: application/json" in lines
    error = json.loads(body)["error"]
    assert sorted(error) == ["code", "message"]
    assert error["code"] == code
    assert error["message"]


def test_app_errors_over_the_socket_are_json(server: Server) -> None:
    """A malformed body and an unknown path get the app's JSON errors through gunicorn."""
    reply = server.request("POST", "/v1/score", {"text": ""})
    assert reply.status == 422
    assert reply.headers["content-type"] == "application/json"
    assert reply.json()["error"]["code"] == "invalid_input"
    reply = server.request("GET", "/nowhere")
    assert reply.status == 404
    assert reply.json()["error"]["code"] == "not_found"


def test_hup_serves_the_new_model_without_failed_requests(server: Server) -> None:
    """After a new model is trained and HUP sent to the master, the new version is served,
    and requests sent all through the reload every one succeed."""
    old = server.served_version()
    outcomes: list[tuple[int, str] | str] = []
    stop = threading.Event()

    def keep_scoring() -> None:
        while not stop.is_set():
            try:
                reply = server.request("POST", "/v1/score", {"quotes": [{"id": 1, "text": QUOTE}]})
                version = reply.json()["model"]["version"] if reply.status == 200 else ""
                outcomes.append((reply.status, version))
            except Exception as exc:  # any failure to get an answer is a failed request
                outcomes.append(f"{type(exc).__name__}: {exc}")

    new = train_tiny(server.model_dir)
    assert new != old
    scorer = threading.Thread(target=keep_scoring, daemon=True)
    scorer.start()
    try:
        wait_for(lambda: len(outcomes) >= 3, 10, "requests before the reload", server)
        os.kill(server.master, signal.SIGHUP)
        wait_for(lambda: server.served_version() == new, RELOAD_TIMEOUT, f"model {new}", server)
        wait_for(
            lambda: all(server.served_version() == new for _ in range(6)),
            RELOAD_TIMEOUT,
            "every worker to serve the new model",
            server,
        )
        seen = len(outcomes)
        wait_for(lambda: len(outcomes) >= seen + 3, 10, "requests after the reload", server)
    finally:
        stop.set()
        scorer.join(timeout=15)
    failures = [o for o in outcomes if isinstance(o, str) or o[0] != 200]
    assert failures == []
    versions = [outcome[1] for outcome in outcomes if not isinstance(outcome, str)]
    assert versions[0] == old
    assert versions[-1] == new
    assert set(versions) == {old, new}
    assert f"model {new} verified; workers will serve it" in server.log()


def test_hup_with_a_corrupt_model_keeps_the_previous_version(server: Server) -> None:
    """When `current` points at a model whose file is corrupt, HUP is refused: the previous
    good version keeps being served and the log says "reload refused" and why."""
    store = ModelStore(server.model_dir)
    good = server.served_version()
    assert store.current_version() == good
    broken = new_version_name()
    shutil.copytree(server.model_dir / good, server.model_dir / broken)
    model_file = server.model_dir / broken / "model.joblib"
    model_file.write_bytes(model_file.read_bytes()[:1000])
    store.promote(broken)
    try:
        hup_and_wait_for_new_workers(server)
        refused = wait_for(
            lambda: [line for line in server.log().splitlines() if "reload refused" in line],
            RELOAD_TIMEOUT,
            "the reload refused log line",
            server,
        )
        assert len(refused) == 1
        assert f"reload refused, still serving model {good}: " in refused[0]
        assert f"{broken}/model.joblib does not match its recorded sha256" in refused[0]
        assert "[ERROR]" in refused[0]
        for _ in range(6):  # both new workers
            assert server.served_version() == good
        reply = server.request("POST", "/v1/score", {"quotes": [{"id": "k", "text": QUOTE}]})
        assert reply.status == 200
        assert reply.json()["model"] == {"version": good}
    finally:
        store.promote(good)  # leave a loadable current for the other tests


def test_killed_worker_is_replaced_and_requests_succeed(server: Server) -> None:
    """A worker killed with SIGKILL is replaced by the master, and requests keep succeeding."""
    version = server.served_version()
    workers = server.workers()
    assert len(workers) == 2
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    reply = server.request("POST", "/v1/score", {"text": QUOTE})
    assert reply.status == 200

    def replacement() -> set[int] | None:
        now = server.workers()
        return now if len(now) == 2 and victim not in now else None

    replaced = wait_for(replacement, RELOAD_TIMEOUT, "a replacement worker", server)
    assert replaced & workers == workers - {victim}
    for _ in range(6):
        reply = server.request("POST", "/v1/score", {"quotes": [{"id": 9, "text": QUOTE}]})
        assert reply.status == 200
        assert reply.json()["model"] == {"version": version}
        assert reply.json()["results"][0]["id"] == 9
    assert f"Worker (pid:{victim}) was sent SIGKILL!" in server.log()


def test_metrics_add_up_over_workers(server: Server) -> None:
    """/metrics under gunicorn sums every worker's samples (Prometheus multi-process mode):
    n scoring requests raise the request counter by exactly n."""

    def scored() -> float:
        reply = server.request("GET", "/metrics")
        assert reply.status == 200
        assert reply.headers["content-type"].startswith("text/plain; version=")
        for family in text_string_to_metric_families(reply.body.decode()):
            for sample in family.samples:
                if sample.name == "stance_http_requests_total" and sample.labels == {
                    "endpoint": "/v1/score",
                    "method": "POST",
                    "status": "200",
                }:
                    return sample.value
        return 0.0

    before = scored()
    for _ in range(8):
        assert server.request("POST", "/v1/score", {"text": QUOTE}).status == 200
    assert scored() == before + 8


def test_structured_access_log_has_no_request_bodies(server: Server) -> None:
    """Each request logs one JSON line with endpoint and status, never the statement."""
    secret = "A sentence about Kyiv and Brussels that must never reach the log."
    reply = server.request("POST", "/v1/score", {"text": secret})
    assert reply.status == 200
    request_id = reply.headers["x-request-id"]
    line = wait_for(
        lambda: next((x for x in server.log().splitlines() if request_id in x), None),
        10,
        "the access log line",
        server,
    )
    entry = json.loads(line[line.index("{") :])
    assert entry["endpoint"] == "/v1/score"
    assert entry["status"] == 200
    assert entry["texts"] == 1
    assert "must never reach the log" not in server.log()
