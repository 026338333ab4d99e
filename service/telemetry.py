"""Prometheus metrics and one structured log line per request (never the request body)."""

from __future__ import annotations

import json
import logging
import os
import time
import uuid

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

access_log = logging.getLogger("stance.access")

LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)


class Metrics:
    """The service's metrics, on a registry of their own (one per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "stance_http_requests_total",
            "HTTP requests by endpoint, method and status.",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "stance_http_request_duration_seconds",
            "HTTP request latency by endpoint and status.",
            ["endpoint", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter(
            "stance_predictions_total",
            "Predicted labels by head (stance, sentiment) and label.",
            ["head", "label"],
            registry=self.registry,
        )

    def count_predictions(self, head: str, labels: list[str]) -> None:
        for label in set(labels):
            self.predictions.labels(head, label).inc(labels.count(label))

    def exposition(self) -> Response:
        """Text format; under gunicorn, the sum over every worker process."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            body = generate_latest(registry)
        else:
            body = generate_latest(self.registry)
        # content_type, not mimetype: Flask would append a second "; charset=utf-8"
        return Response(body, content_type=CONTENT_TYPE_LATEST)


def install_request_telemetry(app: Flask, metrics: Metrics) -> None:
    """Time every request, count it, and log one JSON line with no request body."""

    @app.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()
        g.request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex

    @app.after_request
    def record(response: Response) -> Response:
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
        status = str(response.status_code)
        metrics.requests.labels(endpoint, request.method, status).inc()
        metrics.latency.labels(endpoint, status).observe(elapsed)
        response.headers["X-Request-ID"] = g.get("request_id", "")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Cache-Control", "no-store")
        access_log.info(
            json.dumps(
                {
                    "request_id": g.get("request_id"),
                    "method": request.method,
                    "path": request.path,
                    "endpoint": endpoint,
                    "status": response.status_code,
                    "duration_ms": round(elapsed * 1000, 2),
                    "texts": g.get("n_texts"),
                    "remote": request.remote_addr,
                }
            )
        )
        return response
