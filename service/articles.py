"""POST /v1/articles: news articles in, their statements, speakers and scores out.

The body is JSON (`{"text": ...}` or `{"articles": [{"id": ..., "text": ...}]}`), or one
article as text/plain or text/html (HTML reduced to its text). The rules and the scoring are
`model.articles`, the same code as `stance article`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel
from werkzeug.exceptions import RequestEntityTooLarge

from model.articles import html_to_text, score_article
from service.errors import MESSAGES, ApiError
from service.scoring import body_ran_past_limit, limit_body, require_json_body

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


def article_items(body: BaseModel) -> list[tuple[Any, str]]:
    """(id, text) of each article of a validated JSON body; an article without an id is
    numbered from 1."""
    articles = getattr(body, "articles", None)
    if articles is None:
        return [("1", body.text)]  # type: ignore[attr-defined]
    return [
        (article.id if article.id is not None else str(i), article.text)
        for i, article in enumerate(articles, start=1)
    ]


@bp.post("/v1/articles")
def articles() -> ResponseReturnValue:
    # A text/plain or text/html body is one article's text, checked by the same contract.
    payload = {"text": _text_body()} if request.mimetype in TEXT_TYPES else require_json_body()
    items = article_items(current_app.extensions["stance_contract"].articles_request(payload))
    model = current_app.extensions["stance_model"]
    results = [{"id": identifier} | score_article(model, text) for identifier, text in items]
    g.n_texts = sum(len(r["statements"]) for r in results)
    return jsonify({"model": {"version": model.version}, "articles": results})
