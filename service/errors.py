"""One JSON error shape for the whole API: {"error": {"code": "...", "message": "..."}}."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger("stance.service")

# Werkzeug's status codes mapped to stable, documented error codes.
HTTP_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    417: "expectation_failed",
    422: "invalid_input",
    429: "too_many_requests",
    431: "headers_too_large",
    500: "internal_error",
    501: "not_implemented",
    503: "not_ready",
}


class ApiError(Exception):
    """An expected failure of a request, with the status and message the client sees."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or HTTP_CODES.get(status, "error")
        self.message = message


def error_response(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.code, exc.message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        message = MESSAGES.get(status) or exc.description or exc.name
        response = error_response(status, HTTP_CODES.get(status, "error"), message)
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.exception("unhandled error: %s", exc)
        return error_response(
            500, "internal_error", "internal error; the server log has the details"
        )


MESSAGES = {
    404: "no such endpoint; see /docs for the API",
    405: "method not allowed for this endpoint; see the Allow header",
    413: "request body too large; send fewer or shorter texts, or use POST /v1/score/csv",
}
