"""POST /v1/score: one text, a list of texts, or quotes with ids, scored in input order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel
from werkzeug.exceptions import RequestEntityTooLarge

from model.batch import first_chars
from service.contract import ScoreQuery, parse_query
from service.errors import MESSAGES, ApiError

bp = Blueprint("scoring", __name__)


def limit_body(limit: int) -> None:
    """Refuse a body over `limit` bytes, with or without Content-Length; call before reading.

    Werkzeug refuses a Content-Length over `request.max_content_length` with 413, but it
    stops reading a chunked body (no Content-Length) at that many bytes without an error, so
    the body would be cut off silently. It is allowed one byte more here, and
    `body_ran_past_limit` tells when that byte was read."""
    request.max_content_length = limit + 1


def body_ran_past_limit(limit: int) -> bool:
    """After reading: whether the body (checked as `limit_body` set up) was over `limit`."""
    if request.content_length is not None:
        return request.content_length > limit
    return bool(getattr(request.stream, "is_exhausted", False))


def require_json_body() -> Any:
    """The parsed JSON body, or a 415/413/400 error that says what was wrong."""
    if not request.is_json:
        raise ApiError(
            415,
            f"expected Content-Type application/json, got {request.mimetype or 'none'}; "
            "for CSV files use POST /v1/score/csv",
        )
    limit = current_app.config["MAX_JSON_BYTES"]
    limit_body(limit)
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raw = b""
    if body_ran_past_limit(limit) or len(raw) > limit:
        raise ApiError(413, MESSAGES[413])
    if not raw:
        raise ApiError(400, 'empty request body; send a JSON object such as {"text": "..."}')
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # json raises this, not ValueError, for deeply nested input
        raise ApiError(400, "the request body is nested too deeply to be a score request") from None
    if payload is None:
        raise ApiError(400, "the request body is not valid JSON")
    return payload


def check_explain_count(count: int, what: str, limit: int) -> None:
    """Explanations cost far more than scores (SECURITY.md has the figures): at most `limit`
    per request."""
    if count > limit:
        raise ApiError(
            413,
            f"explain=true for {count} {what}; explanations are limited to {limit} per request, "
            "send fewer or score without explain",
        )


def compact_explanation(explanation: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        head: {
            "label": e["label"],
            "toward": e["toward"],
            "against": e["against"],
            "bias": e["bias"],
        }
        for head, e in explanation.items()
    }


@dataclass
class ScoringItem:
    """One statement of a request: what is scored of it, and its id if it had one."""

    text: str
    truncated: bool
    id: Any = None
    has_id: bool = False


def scoring_items(body: BaseModel, max_chars: int) -> list[ScoringItem]:
    """The statements of a validated score request, in order, each cut to `max_chars` (the
    batch scorer's `first_chars`: one definition of what is scored of a long text)."""
    quotes = getattr(body, "quotes", None)
    if quotes is None:
        texts = getattr(body, "texts", None) or [body.text]  # type: ignore[attr-defined]
        return [ScoringItem(first_chars(t, max_chars), len(t) > max_chars) for t in texts]
    return [
        ScoringItem(
            first_chars(quote.text, max_chars),
            len(quote.text) > max_chars,
            quote.id,
            "id" in quote.model_fields_set,
        )
        for quote in quotes
    ]


@bp.post("/v1/score")
def score() -> ResponseReturnValue:
    config = current_app.config
    explain = parse_query(ScoreQuery, request.args).explain
    body = current_app.extensions["stance_contract"].score_request(require_json_body())
    items = scoring_items(body, config["MAX_CHARS"])
    g.n_texts = len(items)
    if explain:
        check_explain_count(len(items), "statements", config["MAX_EXPLAIN_TEXTS"])
    model = current_app.extensions["stance_model"]
    predictions = model.predict([item.text for item in items])
    metrics = current_app.extensions["stance_metrics"]
    metrics.count_predictions("stance", [p["stance"]["label"] for p in predictions])
    metrics.count_predictions("sentiment", [p["sentiment"]["label"] for p in predictions])
    results = []
    for item, prediction in zip(items, predictions, strict=True):
        result: dict[str, Any] = {"id": item.id} if item.has_id else {}
        result.update(prediction)
        result["truncated"] = item.truncated
        if explain:
            result["explanation"] = compact_explanation(
                model.explain(item.text, config["EXPLAIN_K"])
            )
        results.append(result)
    return jsonify({"model": {"version": model.version}, "results": results})
