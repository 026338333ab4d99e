"""The Flask app factory: settings, the verified model, blueprints, JSON errors, telemetry."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask

from model.store import ModelStore
from service import articles, batch, meta, scoring, web
from service.config import DEFAULTS, from_environment
from service.contract import Contract
from service.errors import register_error_handlers
from service.telemetry import Metrics, install_request_telemetry

log = logging.getLogger("stance.service")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the service. Settings: defaults, then `STANCE_*` variables, then `config`.

    The model is loaded and verified here (never at import); a missing or broken model
    raises `model.errors.ModelError` with a message that says what to do. A process serves
    one model for its life: a new model comes with new gunicorn workers (HUP).
    """
    app = Flask(__name__, static_folder=None)  # no /static route; every route is documented
    app.config["DEBUG"] = False  # Flask reads FLASK_DEBUG from the environment; never here
    app.config.from_mapping(DEFAULTS)
    app.config.from_mapping(from_environment())
    if config:
        app.config.from_mapping(config)
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_JSON_BYTES"]
    app.json.sort_keys = False  # keep fields in the documented order
    store = ModelStore(app.config["MODEL_DIR"])
    model = store.load(app.config["MODEL_VERSION"])
    log.info("serving model %s from %s", model.version, store.root)
    app.extensions["stance_model"] = model
    app.extensions["stance_contract"] = Contract.for_config(app.config)
    metrics = Metrics()
    app.extensions["stance_metrics"] = metrics
    install_request_telemetry(app, metrics)
    register_error_handlers(app)
    for blueprint in (scoring.bp, batch.bp, articles.bp, meta.bp, web.bp):
        app.register_blueprint(blueprint)
    return app
