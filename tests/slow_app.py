"""A test-only WSGI app for gunicorn: the real service plus `POST /test/slow?seconds=N`, which
keeps scoring the same statement for N seconds (a request stuck in the model), so that tests
can run a request past gunicorn's `timeout`. Never served by `make serve`."""

from __future__ import annotations

import time

from flask import Flask, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from service import create_app

STATEMENT = "Ukraine belongs in NATO and the allies should issue the invitation this year."


def create_slow_app() -> Flask:
    app = create_app()

    @app.post("/test/slow")
    def slow() -> ResponseReturnValue:
        seconds = float(request.args.get("seconds", "60"))
        model = current_app.extensions["stance_model"]
        deadline = time.monotonic() + seconds
        scored = 0
        while time.monotonic() < deadline:  # busy in the model, as a runaway request would be
            model.predict([STATEMENT])
            scored += 1
        return jsonify({"seconds": seconds, "scored": scored})

    return app
