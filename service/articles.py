"""POST /v1/articles: news articles in, their statements, speakers and scores out.

The body is JSON (`{"text": ...}` or `{"articles": [{"id": ..., "text": ...}]}`), or one
article as text/plain or text/html (HTML reduced to its text). The rules and the scoring are
`model.articles`, the same code as `stance article`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from model.articles import html_to_text, score_article
from service.errors import MESSAGES, ApiError
from service.scoring import body_ran_past_limit, json_type, limit_body, require_json_body

bp = Blueprint("articles", __name__)

TEXT_TYPES = {"text/plain", "text/html"}


def _text_body() -> str:
    limit = current_app.config["MAX_JSON_BYTES"]
    limit_body(limit)
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raw = b""
    if body_ran_past_limit(limit) or len(raw) > limit:
        raise ApiError(413, MESSAGES[413])
    try:
        text = raw.decode(request.mimetype_params.get("charset", "utf-8"))
    except (UnicodeDecodeError, LookupError) as exc:
        raise ApiError(
            400, "the body is not text in its declared charset (UTF-8 by default)"
        ) from exc
    return html_to_text(text) if request.mimetype == "text/html" else text


def _check_article(value: Any, where: str, max_chars: int) -> str:
    if not isinstance(value, str):
        raise ApiError(400, f"{where} must be a string, got {json_type(value)}")
    if not value.strip():
        raise ApiError(422, f"{where} is empty; send the article's text")
    if len(value) > max_chars:
        raise ApiError(
            413, f"{where} has {len(value)} characters; articles are limited to {max_chars}"
        )
    return value


def parse_articles(payload: Any, max_articles: int, max_chars: int) -> list[tuple[Any, str]]:
    """(id, text) of each article of a JSON body; every message names the offending field."""
    if not isinstance(payload, dict):
        raise ApiError(400, f"the body must be a JSON object, got {json_type(payload)}")
    forms = [name for name in ("text", "articles") if name in payload]
    unknown = sorted(set(payload) - {"text", "articles"})
    if unknown:
        raise ApiError(
            422, f"unknown field(s) {', '.join(map(repr, unknown))}; send text or articles"
        )
    if len(forms) != 1:
        raise ApiError(
            422, 'send exactly one of {"text": "..."} or {"articles": [{"id": ..., "text": ...}]}'
        )
    if forms == ["text"]:
        return [("1", _check_article(payload["text"], "text", max_chars))]
    articles = payload["articles"]
    if not isinstance(articles, list):
        raise ApiError(400, f"articles must be an array, got {json_type(articles)}")
    if not articles:
        raise ApiError(422, "articles is empty; send at least one article")
    if len(articles) > max_articles:
        raise ApiError(413, f"{len(articles)} articles; at most {max_articles} per request")
    parsed = []
    for i, article in enumerate(articles):
        where = f"articles[{i}]"
        if not isinstance(article, dict):
            raise ApiError(400, f"{where} must be an object, got {json_type(article)}")
        extra = sorted(set(article) - {"id", "text"})
        if extra:
            raise ApiError(422, f"{where} has unknown field(s) {', '.join(map(repr, extra))}")
        if "text" not in article:
            raise ApiError(422, f"{where} has no text")
        identifier = article.get("id", str(i + 1))
        if not isinstance(identifier, str | int) or isinstance(identifier, bool):
            raise ApiError(400, f"{where}.id must be a string or an integer")
        parsed.append((identifier, _check_article(article["text"], f"{where}.text", max_chars)))
    return parsed


@bp.post("/v1/articles")
def articles() -> ResponseReturnValue:
    config = current_app.config
    if request.mimetype in TEXT_TYPES:
        items = [("1", _check_article(_text_body(), "the body", config["MAX_ARTICLE_CHARS"]))]
    else:
        payload = require_json_body()
        items = parse_articles(payload, config["MAX_ARTICLES"], config["MAX_ARTICLE_CHARS"])
    model = current_app.extensions["stance_model"]
    results = [{"id": identifier} | score_article(model, text) for identifier, text in items]
    g.n_texts = sum(len(r["statements"]) for r in results)
    return jsonify({"model": {"version": model.version}, "articles": results})
