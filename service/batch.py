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

from flask import Blueprint, Response, current_app, g, request, stream_with_context
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from model.batch import BatchInputError, BatchOptions, decoded_lines
from model.batch_formats import CSV, CsvSource, stream_scored
from model.errors import ModelError, Option
from service.contract import CsvQuery, parse_query
from service.errors import ApiError
from service.scoring import body_ran_past_limit, check_explain_count, limit_body

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


@dataclass
class UploadSurvey:
    """What the first read of an upload found."""

    rows: int = 0
    truncated: int = 0


def survey_upload(lines: list[str], options: BatchOptions) -> UploadSurvey:
    """Read the whole CSV once before answering: rows, and rows whose text is over MAX_CHARS.
    Malformed CSV, too many rows or too many rows to explain are refused here, before the
    first byte of the answer."""
    config = current_app.config
    limit = config["MAX_CSV_ROWS"]
    counts = UploadSurvey()
    try:
        for record in CsvSource(lines, options):
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
    if options.explain:
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
    query = parse_query(CsvQuery, request.args)
    options = BatchOptions(
        text_column=query.text_column or None,
        prefix=query.prefix,
        explain=query.explain,
        chunk_rows=config["CSV_CHUNK_ROWS"],
        encoding=query.encoding,
        max_chars=config["MAX_CHARS"],
    )
    raw = uploaded_bytes(config["MAX_CSV_BYTES"])
    if not raw.strip():
        raise ApiError(422, "the CSV is empty: expected a header row naming the columns")
    try:
        lines = lines_of(raw, options.encoding)
    except BatchInputError as exc:
        raise ApiError(422, for_http(exc)) from exc
    counts = survey_upload(lines, options)
    g.n_texts = counts.rows
    model = current_app.extensions["stance_model"]

    def body() -> Iterator[str]:
        yield from stream_scored(model, lines, CSV, options)

    response = Response(stream_with_context(body()), mimetype="text/csv")
    response.headers["X-Model-Version"] = model.version
    response.headers["X-Rows"] = str(counts.rows)
    response.headers["X-Truncated-Rows"] = str(counts.truncated)
    return response
