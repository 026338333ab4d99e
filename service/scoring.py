"""POST /v1/score: one text, a list of texts, or quotes with ids, scored in input order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from service.errors import MESSAGES, ApiError

bp = Blueprint("scoring", __name__)

REQUEST_FORMS = ("text", "texts", "quotes")
TRUE_WORDS = {"true", "1", "yes"}
FALSE_WORDS = {"false", "0", "no", ""}


@dataclass
class Item:
    text: str
    truncated: bool
    id: Any = None
    has_id: bool = False


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


def query_flag(name: str) -> bool:
    value = request.args.get(name, "false").strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ApiError(400, f"query parameter {name} must be true or false, got {value!r}")


def check_explain_count(count: int, what: str, limit: int) -> None:
    """Explanations cost far more than scores (~0.3-0.5 s each): at most `limit` per request."""
    if count > limit:
        raise ApiError(
            413,
            f"explain=true for {count} {what}; explanations are limited to {limit} per request, "
            "send fewer or score without explain",
        )


def check_text(value: Any, where: str, max_chars: int) -> Item:
    if not isinstance(value, str):
        raise ApiError(400, f"{where} must be a string, got {json_type(value)}")
    if not value.strip():
        raise ApiError(422, f"{where} is empty; send the statement to score")
    if len(value) > max_chars:
        return Item(value[:max_chars], truncated=True)
    return Item(value, truncated=False)


def json_type(value: Any) -> str:
    names = {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        type(None): "null",
    }
    return names.get(type(value), "a number")


def parse_items(payload: Any, max_texts: int, max_chars: int) -> list[Item]:
    """Validate the body of a score request; every message names the offending field."""
    if not isinstance(payload, dict):
        raise ApiError(400, f"the body must be a JSON object, got {json_type(payload)}")
    forms = [name for name in REQUEST_FORMS if name in payload]
    unknown = sorted(set(payload) - set(REQUEST_FORMS))
    if unknown:
        raise ApiError(
            422, f"unknown field(s) {', '.join(unknown)}; send exactly one of text, texts, quotes"
        )
    if len(forms) != 1:
        raise ApiError(422, "send exactly one of the fields text, texts or quotes")
    form = forms[0]
    value = payload[form]
    if form == "text":
        return [check_text(value, "text", max_chars)]
    if not isinstance(value, list):
        raise ApiError(400, f"{form} must be an array, got {json_type(value)}")
    if not value:
        raise ApiError(422, f"{form} is empty; send at least one statement")
    if len(value) > max_texts:
        raise ApiError(
            413, f"{len(value)} {form} in one request; the limit is {max_texts}, split the batch"
        )
    if form == "texts":
        return [check_text(v, f"texts[{i}]", max_chars) for i, v in enumerate(value)]
    items = []
    for i, quote in enumerate(value):
        if not isinstance(quote, dict):
            raise ApiError(
                400, f"quotes[{i}] must be an object with id and text, got {json_type(quote)}"
            )
        if "text" not in quote:
            raise ApiError(422, f"quotes[{i}] has no text field")
        item = check_text(quote["text"], f"quotes[{i}].text", max_chars)
        if "id" in quote:
            if not isinstance(quote["id"], str | int) or isinstance(quote["id"], bool):
                raise ApiError(
                    400,
                    f"quotes[{i}].id must be a string or an integer, got {json_type(quote['id'])}",
                )
            item.id, item.has_id = quote["id"], True
        items.append(item)
    return items


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


@bp.post("/v1/score")
def score() -> ResponseReturnValue:
    config = current_app.config
    explain = query_flag("explain")
    items = parse_items(require_json_body(), config["MAX_TEXTS"], config["MAX_CHARS"])
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
