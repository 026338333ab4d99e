"""POST /v1/score/csv: a CSV body or upload, streamed back with the scoring columns.

A thin layer over `model.batch`, the same code as `stance score`. The whole upload (bounded
by MAX_CSV_BYTES) is checked before the first byte of the answer, so a bad file gets a clean
422 naming the line instead of a half-sent CSV.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from flask import Blueprint, Response, current_app, g, request, stream_with_context
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from model.batch import BatchInputError, CsvSource, decoded_lines, stream_scored_csv
from service.errors import ApiError
from service.scoring import query_flag

bp = Blueprint("batch", __name__)

CSV_TYPES = {"text/csv", "application/csv", "text/plain"}


def uploaded_bytes(limit: int) -> bytes:
    """The CSV bytes from a text/csv body or a multipart upload in the `file` field."""
    request.max_content_length = limit
    request.max_form_memory_size = limit
    try:
        return _read_upload()
    except RequestEntityTooLarge as exc:
        raise ApiError(
            413, f"the CSV upload is larger than the limit of {limit} bytes; split the file"
        ) from exc


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
    return list(decoded_lines(io.BytesIO(raw), encoding))


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
        rows = sum(1 for _ in CsvSource(lines, text_column, prefix, explain))
    except BatchInputError as exc:
        raise ApiError(422, str(exc)) from exc
    g.n_texts = rows
    model = current_app.extensions["stance_model"].model

    def body() -> Iterator[str]:
        yield from stream_scored_csv(
            model, lines, text_column, prefix, explain, jobs=1, chunk_rows=config["CSV_CHUNK_ROWS"]
        )

    response = Response(stream_with_context(body()), mimetype="text/csv")
    response.headers["X-Model-Version"] = model.version
    response.headers["X-Rows"] = str(rows)
    return response
