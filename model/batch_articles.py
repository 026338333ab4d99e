"""`stance score --articles`: a CSV or JSON Lines file of articles in, one row per statement out.

Each output row names its article (`article_id`: the input's `id` column, else the article's
row number), the statement's `speaker`, `role`, `kind` (direct, indirect, narration), `start`
and `end` (character offsets into the article's text), its `text`, and then the scoring
columns of `stance score` (the same `score_texts`). An article with no text, or with none of its
words in a statement, keeps one row with the reason in `error`: no article is dropped.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from model.articles import extract_statements
from model.batch import (
    ERROR_COLUMN,
    NUMERIC_COLUMNS,
    SCORE_COLUMNS,
    BatchInputError,
    choose_text_column,
    decoded_lines,
    score_texts,
)
from model.batch_files import STDIO, BatchResult, atomic_output
from model.batch_formats import is_jsonl, json_objects, rows_to_csv_text

STATEMENT_COLUMNS = ("article_id", "speaker", "role", "kind", "start", "end", "text")
COLUMNS = (*STATEMENT_COLUMNS, *SCORE_COLUMNS, ERROR_COLUMN)


def _articles(
    lines: Iterable[str], jsonl: bool, text_column: str | None
) -> Iterator[tuple[Any, Any]]:
    """(article id, text or None) per input row."""
    if jsonl:
        column = text_column
        for number, obj in json_objects(lines):
            column = column or choose_text_column(list(obj), None)
            yield obj.get("id", number), obj.get(column)
        return
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise BatchInputError(f"line 1: malformed CSV header ({exc})") from exc
    if header is None:
        raise BatchInputError("the input is empty: expected a header row naming the columns")
    index = header.index(choose_text_column(header, text_column))
    ids = header.index("id") if "id" in header else None
    try:
        for number, row in enumerate(reader, start=1):
            if not row:
                continue
            text = row[index] if index < len(row) else None
            yield (row[ids] if ids is not None and ids < len(row) else number), text
    except csv.Error as exc:
        raise BatchInputError(f"line {reader.line_num}: malformed CSV ({exc})") from exc


def article_rows(model: Any, articles: Iterable[tuple[Any, Any]]) -> Iterator[dict[str, Any]]:
    """One dict per statement (COLUMNS keys, scores as strings), article after article."""
    for article_id, text in articles:
        if not isinstance(text, str) or not text.strip():
            reason = "missing text" if text is None else "empty text"
            if text is not None and not isinstance(text, str):
                reason = f"text is {type(text).__name__}, not a string"
            yield dict.fromkeys(COLUMNS, "") | {"article_id": article_id, ERROR_COLUMN: reason}
            continue
        statements = extract_statements(text)
        if not statements:
            yield dict.fromkeys(COLUMNS, "") | {
                "article_id": article_id,
                ERROR_COLUMN: "no statement found (no sentence of three words or more)",
            }
            continue
        scores = score_texts(model, [s.text for s in statements])
        for statement, cells in zip(statements, scores, strict=True):
            row = {
                "article_id": article_id,
                "speaker": statement.speaker.name or "",
                "role": statement.speaker.role or "",
                "kind": statement.kind,
                "start": statement.start,
                "end": statement.end,
                "text": statement.text,
            }
            yield row | dict(zip(SCORE_COLUMNS, cells, strict=True)) | {ERROR_COLUMN: ""}


def _as_json(row: dict[str, Any]) -> str:
    out = {k: (None if v == "" and k != "text" else v) for k, v in row.items()}
    for name in NUMERIC_COLUMNS:
        if out[name] is not None:
            out[name] = float(out[name])
    return json.dumps(out, ensure_ascii=False) + "\n"


def score_articles_file(
    model: Any,
    input_name: str,
    output_name: str,
    text_column: str | None = None,
    encoding: str = "utf-8",
) -> BatchResult:
    """Score every article of `input_name` into `output_name` (CSV, or JSON Lines)."""
    started = time.perf_counter()
    source = sys.stdin.buffer if input_name == STDIO else _open(input_name)
    rows = flagged = 0
    try:
        lines = decoded_lines(source, encoding)
        articles = _articles(lines, is_jsonl(input_name), text_column)
        with atomic_output(output_name) as out:
            jsonl_out = is_jsonl(output_name if output_name != STDIO else input_name)
            if not jsonl_out:
                out.write(rows_to_csv_text([list(COLUMNS)]))
            for row in article_rows(model, articles):
                rows += 1
                flagged += bool(row[ERROR_COLUMN])
                if jsonl_out:
                    out.write(_as_json(row))
                else:
                    out.write(rows_to_csv_text([[str(row[c]) for c in COLUMNS]]))
    finally:
        if source is not sys.stdin.buffer:
            source.close()
    return BatchResult(rows, flagged, time.perf_counter() - started, output_name)


def _open(name: str) -> io.BufferedReader:
    path = Path(name)
    if path.is_dir():
        raise BatchInputError(f"input {name} is a directory; give a CSV or JSON Lines file")
    try:
        return path.open("rb")
    except FileNotFoundError as exc:
        raise BatchInputError(f"input file {name} not found") from exc
