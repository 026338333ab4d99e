"""POST /v1/score/csv: a CSV body or upload, streamed back with the scoring columns.

A thin layer over `model.batch`, the same code as `stance score`. The whole upload (bounded
by MAX_CSV_BYTES and MAX_CSV_ROWS) is checked before the first byte of the answer, so a bad
file gets a clean 4xx naming the problem instead of a half-sent CSV. As on /v1/score, each
text is scored on its first MAX_CHARS characters (the X-Truncated-Rows header counts the rows
cut), and explain=true is limited to MAX_EXPLAIN_TEXTS rows.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, g, request, stream_with_context
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from model.batch import BatchInputError, CsvSource, decoded_lines, stream_scored_csv
from model.errors import ModelError, Option
from service.errors import ApiError
from service.scoring import body_ran_past_limit, check_explain_count, limit_body, query_flag

bp = Blueprint("batch", __name__)

CSV_TYPES = {"text/csv", "application/csv", "text/plain"}


def uploaded_bytes(limit: int) -> bytes:
    """The CSV bytes from a text/csv body or a multipart upload in the `file` field; a body
    over `limit` bytes (with or without Content-Length) is refused, never cut short."""
    too_large = ApiError(
        413, f"the CSV upload is larger than the limit of {limit} bytes; split the file"
    )
    limit_body(limit)
    request.max_form_memory_size = limit
    try:
        raw = _read_upload()
    except RequestEntityTooLarge as exc:
        raise too_large from exc
    except ApiError:
        if body_ran_past_limit(limit):  # a chunked multipart body cut at the limit
            raise too_large from None
        raise
    if body_ran_past_limit(limit):
        raise too_large
    return raw


def _read_upload() -> bytes:
    if request.mimetype in CSV_TYPES:
        return request.get_data(cache=False)
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ApiError(
                422, "multipart upload without a file field; send the CSV as field 'file'"
            )
        return upload.read()
    raise ApiError(
        415,
        f"expected a text/csv body or a multipart/form-data upload, got {request.mimetype or 'none'}",
    )


def lines_of(raw: bytes, encoding: str) -> list[str]:
    """The decoded lines; `decoded_lines` turns every decoding problem into a BatchInputError."""
    return list(decoded_lines(io.BytesIO(raw), encoding))


class FirstChars:
    """The served model, scoring each text on its first `max_chars` characters as /v1/score
    does, so that one huge cell cannot hold a worker (a 1 MB text takes ~3 s and ~200 MB)."""

    def __init__(self, model: Any, max_chars: int) -> None:
        self._model = model
        self._max_chars = max_chars

    def predict_proba(self, texts: list[str]) -> Any:
        return self._model.predict_proba([text[: self._max_chars] for text in texts])

    def predict(self, texts: list[str]) -> Any:
        return self._model.predict([text[: self._max_chars] for text in texts])

    def explain(self, text: str, k: int = 5) -> Any:
        return self._model.explain(text[: self._max_chars], k)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


@dataclass
class Counts:
    """What the first read of an upload found."""

    rows: int = 0
    truncated: int = 0


def count_rows(lines: list[str], text_column: str | None, prefix: str, explain: bool) -> Counts:
    """Read the whole CSV once before answering: rows, and rows whose text is over MAX_CHARS.
    Malformed CSV, too many rows or too many rows to explain are refused here, before the
    first byte of the answer."""
    config = current_app.config
    limit = config["MAX_CSV_ROWS"]
    counts = Counts()
    try:
        for record in CsvSource(lines, text_column, prefix, explain):
            counts.rows += 1
            if counts.rows > limit:
                raise ApiError(
                    413,
                    f"the CSV has more than {limit} rows, the limit per upload; split the file "
                    "or score it with `stance score`",
                )
            if record.text is not None and len(record.text) > config["MAX_CHARS"]:
                counts.truncated += 1
    except BatchInputError as exc:
        raise ApiError(422, for_http(exc)) from exc
    if explain:
        check_explain_count(counts.rows, "rows", config["MAX_EXPLAIN_TEXTS"])
    return counts


def query_parameter(option: Option) -> str:
    """`?text_column=`, `?encoding=cp1252`: how the HTTP API names a scoring option."""
    return f"?{option.name}={option.value or ''}"


def for_http(exc: ModelError) -> str:
    """The message of a model-layer error with its options spelled as query parameters."""
    return exc.render(query_parameter)


@bp.post("/v1/score/csv")
def score_csv() -> ResponseReturnValue:
    config = current_app.config
    explain = query_flag("explain")
    text_column = request.args.get("text_column") or None
    prefix = request.args.get("prefix", "")
    encoding = request.args.get("encoding", "utf-8")
    raw = uploaded_bytes(config["MAX_CSV_BYTES"])
    if not raw.strip():
        raise ApiError(422, "the CSV is empty: expected a header row naming the columns")
    try:
        lines = lines_of(raw, encoding)
    except BatchInputError as exc:
        raise ApiError(422, for_http(exc)) from exc
    counts = count_rows(lines, text_column, prefix, explain)
    g.n_texts = counts.rows
    model = current_app.extensions["stance_model"]
    scorer = FirstChars(model, config["MAX_CHARS"])

    def body() -> Iterator[str]:
        yield from stream_scored_csv(
            scorer, lines, text_column, prefix, explain, jobs=1, chunk_rows=config["CSV_CHUNK_ROWS"]
        )

    response = Response(stream_with_context(body()), mimetype="text/csv")
    response.headers["X-Model-Version"] = model.version
    response.headers["X-Rows"] = str(counts.rows)
    response.headers["X-Truncated-Rows"] = str(counts.truncated)
    return response
