"""Health, readiness, model metadata, metrics, and the API's own description."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from flask.typing import ResponseReturnValue

from service.openapi import docs_page, openapi_document

bp = Blueprint("meta", __name__)

PUBLIC_METADATA = (
    "version",
    "created_at",
    "git_commit",
    "labels",
    "params",
    "cv_folds",
    "cv_metrics",
    "challenge_metrics",
    "training_data",
    "libraries",
    "sha256",
)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    model = current_app.extensions.get("stance_model")
    if model is None:
        return jsonify({"error": {"code": "not_ready", "message": "no model loaded"}}), 503
    return jsonify({"status": "ready", "model": {"version": model.version, "verified": True}})


@bp.get("/v1/model")
def model_metadata() -> ResponseReturnValue:
    metadata = current_app.extensions["stance_model"].metadata
    public = {key: metadata[key] for key in PUBLIC_METADATA if key in metadata}
    if "training_data" in public:  # never expose server paths
        public["training_data"] = {
            k: v for k, v in public["training_data"].items() if k != "source"
        }
    return jsonify(public)


@bp.get("/metrics")
def metrics() -> Response:
    return current_app.extensions["stance_metrics"].exposition()


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(openapi_document(current_app.config))


@bp.get("/docs")
def docs() -> Response:
    response = Response(docs_page(openapi_document(current_app.config)), mimetype="text/html")
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
