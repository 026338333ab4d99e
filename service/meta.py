"""Health, readiness, model metadata, metrics, and the API's own description (/openapi.json)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from flask.typing import ResponseReturnValue

from service.openapi import openapi_document

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
    "dev_metrics",
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
    behaviour = metadata.get("behaviour")
    if behaviour:  # the pass rates and the verdict; the failed cases stay in the model card
        public["behaviour"] = {
            "rates": behaviour.get("rates", {}),
            "passed": bool(behaviour.get("gate", {}).get("passed", False)),
        }
    return jsonify(public)


@bp.get("/metrics")
def metrics() -> Response:
    return current_app.extensions["stance_metrics"].exposition()


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(openapi_document(current_app.config))
