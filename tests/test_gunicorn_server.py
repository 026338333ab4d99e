"""The real server: gunicorn with the repo's config, two workers, over a loopback socket.

One server per module (per xdist worker that runs tests from it), started by the harness that
the benchmarks use too (bench/server.py). The tests do not depend on their order: each reads
the version being served before changing anything.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from tiny_model import train_tiny

from bench.server import GunicornServer
from model.store import ModelStore, new_version_name

pytestmark = pytest.mark.slow

QUOTE = "Ukraine belongs in NATO and the allies should issue the invitation this year."
RELOAD_TIMEOUT = 30.0


@pytest.fixture(scope="module")
def server(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GunicornServer]:
    """gunicorn started exactly as `make serve` starts it, on a copy of the trained model."""
    home = tmp_path_factory.mktemp("gunicorn")
    models = home / "models"
    shutil.copytree(model_dir, models, symlinks=True)
    with GunicornServer.start(home / "run", model_dir=models) as instance:
        yield instance


def hup_and_wait_for_new_workers(server: GunicornServer) -> None:
    """Send HUP to the master and wait until every worker is one forked after it."""
    before = server.workers()
    os.kill(server.master, signal.SIGHUP)
    server.wait_for(
        lambda: (now := server.workers()) and len(now) == 2 and not now & before,
        RELOAD_TIMEOUT,
        "the workers to be replaced after HUP",
    )


# -- tests --------------------------------------------------------------------------------


def test_scores_a_quote_over_a_socket(server: GunicornServer) -> None:
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
    server: GunicornServer, raw: bytes, status: int, code: str
) -> None:
    """Requests gunicorn refuses before the app sees them still get the JSON error shape."""
    received, _ = server.exchange(raw, timeout=10)
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith(f"HTTP/1.1 {status} ")
    assert "Content-Type: application/json" in lines
    error = json.loads(body)["error"]
    assert sorted(error) == ["code", "message"]
    assert error["code"] == code
    assert error["message"]


def test_app_errors_over_the_socket_are_json(server: GunicornServer) -> None:
    """A malformed body and an unknown path get the app's JSON errors through gunicorn."""
    reply = server.request("POST", "/v1/score", {"text": ""})
    assert reply.status == 422
    assert reply.headers["content-type"] == "application/json"
    assert reply.json()["error"]["code"] == "invalid_input"
    reply = server.request("GET", "/nowhere")
    assert reply.status == 404
    assert reply.json()["error"]["code"] == "not_found"


def test_hup_serves_the_new_model_without_failed_requests(server: GunicornServer) -> None:
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
        server.wait_for(lambda: len(outcomes) >= 3, 10, "requests before the reload")
        os.kill(server.master, signal.SIGHUP)
        server.wait_for(lambda: server.served_version() == new, RELOAD_TIMEOUT, f"model {new}")
        server.wait_for(
            lambda: all(server.served_version() == new for _ in range(6)),
            RELOAD_TIMEOUT,
            "every worker to serve the new model",
        )
        seen = len(outcomes)
        server.wait_for(lambda: len(outcomes) >= seen + 3, 10, "requests after the reload")
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


def test_hup_with_a_corrupt_model_keeps_the_previous_version(server: GunicornServer) -> None:
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
        refused = server.wait_for(
            lambda: [line for line in server.log().splitlines() if "reload refused" in line],
            RELOAD_TIMEOUT,
            "the reload refused log line",
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


def test_killed_worker_is_replaced_and_requests_succeed(server: GunicornServer) -> None:
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

    replaced = server.wait_for(replacement, RELOAD_TIMEOUT, "a replacement worker")
    assert replaced & workers == workers - {victim}
    for _ in range(6):
        reply = server.request("POST", "/v1/score", {"quotes": [{"id": 9, "text": QUOTE}]})
        assert reply.status == 200
        assert reply.json()["model"] == {"version": version}
        assert reply.json()["results"][0]["id"] == 9
    assert f"Worker (pid:{victim}) was sent SIGKILL!" in server.log()


def test_metrics_add_up_over_workers(server: GunicornServer) -> None:
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


def test_structured_access_log_has_no_request_bodies(server: GunicornServer) -> None:
    """Each request logs one JSON line with endpoint and status, never the statement."""
    secret = "A sentence about Kyiv and Brussels that must never reach the log."
    reply = server.request("POST", "/v1/score", {"text": secret})
    assert reply.status == 200
    request_id = reply.headers["x-request-id"]
    line = server.wait_for(
        lambda: next((x for x in server.log().splitlines() if request_id in x), None),
        10,
        "the access log line",
    )
    entry = json.loads(line[line.index("{") :])
    assert entry["endpoint"] == "/v1/score"
    assert entry["status"] == 200
    assert entry["texts"] == 1
    assert "must never reach the log" not in server.log()


def test_run_files_stay_in_the_run_folder_and_metrics_are_removed_at_exit(
    model_dir: Path, tmp_path: Path
) -> None:
    """The pid file (holding the master's pid), gunicorn's control socket and the Prometheus
    multi-process folder are in the server's run folder, not in /tmp; the workers' samples go
    to that folder, and a graceful stop removes it with the pid file."""
    run = tmp_path / "run"
    server = GunicornServer.start(run, model_dir=model_dir, workers=1)
    try:
        assert str(server.master) == server.pidfile.read_text().strip()
        server.wait_for((run / "gunicorn.ctl").exists, 10, "the control socket")
        [metrics] = run.glob("prometheus-*")
        assert 200 == server.request("POST", "/v1/score", {"text": QUOTE}).status
        assert [f"counter_{worker}.db" for worker in server.workers()] == [
            path.name for path in metrics.glob("counter_*.db")
        ]
    finally:
        assert 0 == server.stop()
    assert [] == list(run.glob("prometheus-*"))
    assert not server.pidfile.exists()
