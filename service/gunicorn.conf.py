"""gunicorn settings for `make serve`; every value can be overridden on the command line.

Workers are `service.worker.BufferingWorker`: each reads requests in full before the app sees
them, so a client that stalls mid-request costs a socket, not a worker, and is answered 408
after STANCE_READ_TIMEOUT seconds. The app runs one request at a time per worker, and the
master stops a request that runs past STANCE_TIMEOUT, as with gunicorn's sync worker.

The master verifies the model at start and on every HUP (artifact format, library versions,
sha256, without unpickling it) and pins the verified version in STANCE_MODEL_VERSION for the
workers it forks, which load exactly that version: a model that fails verification is refused
with a log line, and the workers go on serving the version that was good.

Run files: the pid file (STANCE_PIDFILE, default `run/gunicorn.pid` in the project; `make serve`
uses `run/gunicorn-<port>.pid`), gunicorn's control socket beside it, and a Prometheus
multi-process folder made fresh at start and removed at exit.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]

bind = os.environ.get("STANCE_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("STANCE_WORKERS", "2"))
worker_class = "service.worker.BufferingWorker"
worker_connections = 200  # connections one worker holds while their requests arrive
timeout = int(os.environ.get("STANCE_TIMEOUT", "30"))
graceful_timeout = 30
max_requests = 0
pidfile = os.environ.get("STANCE_PIDFILE") or str(PROJECT / "run" / "gunicorn.pid")
Path(pidfile).parent.mkdir(parents=True, exist_ok=True)
# gunicorn 27 opens a control socket at ~/.gunicorn/gunicorn.ctl by default, one per user;
# keep it beside the pid file so that several servers can run side by side.
control_socket = os.environ.get("STANCE_CONTROL_SOCKET", pidfile.removesuffix(".pid") + ".ctl")
accesslog = None  # the app logs one structured line per request
errorlog = "-"
loglevel = os.environ.get("STANCE_LOG_LEVEL", "info")
limit_request_line = 8190
limit_request_fields = 100
forwarded_allow_ips = os.environ.get("STANCE_FORWARDED_ALLOW_IPS", "127.0.0.1")

# Prometheus multi-process mode: each worker writes its samples to a folder that /metrics sums.
# prometheus_client reads the variable when it is first imported, which in the master happens
# before the hooks below run (they and the worker class import the service package), so the folder is made
# here, beside the pid file, once: this file is read again on HUP with the variable set.
# A folder this server made is removed at exit; a given one is emptied of stale samples.
_OWN_METRICS_DIR = "STANCE_OWN_PROMETHEUS_DIR"
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
        prefix="prometheus-", dir=Path(pidfile).parent
    )
    os.environ[_OWN_METRICS_DIR] = os.environ["PROMETHEUS_MULTIPROC_DIR"]


def on_starting(server):
    _check_settings(server)
    if os.environ.get(_OWN_METRICS_DIR) != os.environ["PROMETHEUS_MULTIPROC_DIR"]:
        for stale in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"):
            stale.unlink()
    os.environ["STANCE_MODEL_VERSION"] = _verify_current(server, None)


def on_reload(server):
    os.environ["STANCE_MODEL_VERSION"] = _verify_current(
        server, os.environ.get("STANCE_MODEL_VERSION")
    )


def on_exit(server):
    own = os.environ.get(_OWN_METRICS_DIR)
    if own and own == os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shutil.rmtree(own, ignore_errors=True)


def _check_settings(server):
    """Refuse to start on a bad STANCE_* setting, with one line that names it."""
    from service.config import from_environment
    from service.worker import read_timeout_from_environment

    try:
        from_environment()
        read_timeout_from_environment()
    except ValueError as exc:
        server.log.error("cannot start: %s", exc)
        sys.exit(1)


def _verify_current(server, previous):
    from model.errors import ModelError
    from model.store import ModelStore

    try:
        version = str(ModelStore().verify()["version"])
    except ModelError as exc:
        if previous is None:
            server.log.error("cannot start: %s", exc)
            sys.exit(1)
        server.log.error("reload refused, still serving model %s: %s", previous, exc)
        return previous
    if version != previous:
        server.log.info("model %s verified; workers will serve it", version)
    return version


def post_worker_init(worker):
    """Route the app's loggers (`stance.*`) through gunicorn's error log, and answer the
    requests gunicorn itself rejects (request line or headers too long, unparseable HTTP)
    with the API's JSON error shape instead of gunicorn's HTML page."""
    import logging

    from gunicorn import util

    app_log = logging.getLogger("stance")
    app_log.handlers = list(worker.log.error_log.handlers)
    app_log.setLevel(logging.INFO)
    app_log.propagate = False
    # gunicorn's internal writer, replaced in this worker process only (its one caller is
    # Worker.handle_error); pyproject.toml pins gunicorn's major version for this and for
    # service/worker.py, and tests/test_gunicorn_server.py checks the JSON shape.
    util.write_error = _write_json_error


_timed_out = False  # set in a worker that the master aborts for running past `timeout`


def worker_abort(worker):
    """The master sends SIGABRT to a worker whose request has run past `timeout` seconds; the
    worker exits and the master forks a fresh one. Log it, and make the error gunicorn then
    writes to the client a 503 that says why instead of a bare 500."""
    global _timed_out
    _timed_out = True
    worker.log.error(
        "request stopped: it ran past the %s s timeout (STANCE_TIMEOUT); worker %s exits",
        worker.cfg.timeout,
        worker.pid,
    )


def _write_json_error(sock, status_int, reason, mesg):
    """gunicorn's `util.write_error(sock, status_int, reason, mesg)`, as JSON."""
    import json

    from gunicorn import util

    from service.errors import HTTP_CODES

    code = HTTP_CODES.get(status_int) or ("bad_request" if status_int < 500 else "internal_error")
    if _timed_out and status_int == 500:
        status_int, reason, code = 503, "Service Unavailable", "timeout"
        mesg = "the request ran past the server's time limit and was stopped; send less at once"
    body = json.dumps({"error": {"code": code, "message": mesg or reason}}).encode("ascii")
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
