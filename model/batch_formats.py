"""The line formats of the batch scorer, CSV and JSON Lines: each a source that reads records
and a writer that writes scored chunks, both streaming. `stream_scored` joins them to the chunked
scorer of `model.batch`; Parquet, a binary format, has its own module (`model.batch_parquet`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from model.batch import (
    MISSING_TEXT,
    NUMERIC_COLUMNS,
    SCORE_COLUMNS,
    BatchInputError,
    BatchOptions,
    BatchSummary,
    Record,
    ScoredChunk,
    check_collisions,
    choose_text_column,
    scored_chunks,
)

JSONL_SUFFIXES = (".jsonl", ".ndjson")


def is_jsonl(name: str) -> bool:
    return name.lower().endswith(JSONL_SUFFIXES)


class CsvSource:
    """A CSV stream with its header read, text column chosen and output columns checked."""

    def __init__(self, lines: Iterable[str], options: BatchOptions) -> None:
        self._reader = csv.reader(lines, strict=True)
        try:
            header = next(self._reader, None)
        except csv.Error as exc:
            raise BatchInputError(f"line 1: malformed CSV header ({exc})") from exc
        if header is None:
            raise BatchInputError("the input is empty: expected a header row naming the columns")
        self.header = header
        self.text_column = choose_text_column(header, options.text_column)
        self.text_index = header.index(self.text_column)
        self.produced = options.columns
        check_collisions(header, self.produced)

    def out_header(self) -> list[str]:
        return self.header + self.produced

    def __iter__(self) -> Iterator[Record]:
        width = len(self.header)
        line = self._reader.line_num
        while True:
            start = line + 1
            try:
                row = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise BatchInputError(
                    f"line {start}: malformed CSV ({exc}); check the quoting of that row"
                ) from exc
            line = self._reader.line_num
            if not row:  # a blank line holds no row: nothing to keep or score
                continue
            if len(row) > width:
                raise BatchInputError(
                    f"line {start}: {len(row)} fields but the header has {width}; "
                    "quote texts that contain commas"
                )
            if len(row) < width:
                padded = row + [""] * (width - len(row))
                if self.text_index >= len(row):
                    yield Record(
                        start,
                        padded,
                        None,
                        f"{MISSING_TEXT} (row has {len(row)} of {width} fields)",
                    )
                    continue
                row = padded
            yield Record(start, row, row[self.text_index])


def json_objects(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of each non-blank line; anything but a JSON object is a
    `BatchInputError` naming its line."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BatchInputError(
                f"line {number}: not valid JSON ({exc.msg} at column {exc.colno})"
            ) from exc
        if not isinstance(obj, dict):
            raise BatchInputError(
                f"line {number}: expected a JSON object, got {type(obj).__name__}"
            )
        yield number, obj


class JsonLinesSource:
    """A JSON Lines stream: one object per line, the text in a detected or named field."""

    def __init__(self, lines: Iterable[str], options: BatchOptions) -> None:
        self._lines = iter(lines)
        self.produced = options.columns
        self.text_column: str | None = options.text_column

    def __iter__(self) -> Iterator[Record]:
        for number, obj in json_objects(self._lines):
            if self.text_column is None:
                self.text_column = choose_text_column(list(obj), None)
            check_collisions(obj, self.produced)
            value = obj.get(self.text_column)
            if value is None:
                yield Record(number, obj, None, MISSING_TEXT)
            elif not isinstance(value, str):
                yield Record(number, obj, None, f"text is {type(value).__name__}, not a string")
            else:
                yield Record(number, obj, value)


# -- writing -------------------------------------------------------------------------------


def rows_to_csv_text(rows: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    # RFC 4180 line ends; with "\r\n" as terminator Python 3.11 also quotes a lone "\r" in a cell.
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def csv_pieces(
    source: CsvSource, chunks: Iterable[ScoredChunk], summary: BatchSummary
) -> Iterator[str]:
    """The header, then per chunk its rows: the original fields, the score cells, `error`."""
    yield rows_to_csv_text([source.out_header()])
    width = len(source.produced) - 1
    for records, outcomes in chunks:
        rows = []
        for record, outcome in zip(records, outcomes, strict=True):
            if isinstance(outcome, str):
                rows.append(record.fields + [""] * width + [outcome])
                summary.flagged += 1
            else:
                rows.append(record.fields + outcome + [""])
        summary.rows += len(records)
        yield rows_to_csv_text(rows)


def jsonl_pieces(
    source: JsonLinesSource, chunks: Iterable[ScoredChunk], summary: BatchSummary
) -> Iterator[str]:
    """Per chunk, one JSON object per record with the score fields added (numbers as numbers)."""
    columns = source.produced
    numeric = {i for i, name in enumerate(SCORE_COLUMNS) if name in NUMERIC_COLUMNS}
    for records, outcomes in chunks:
        out = io.StringIO()
        for record, outcome in zip(records, outcomes, strict=True):
            obj = dict(record.fields)
            if isinstance(outcome, str):
                obj.update(dict.fromkeys(columns[:-1]))
                obj[columns[-1]] = outcome
                summary.flagged += 1
            else:
                for i, value in enumerate(outcome):
                    obj[columns[i]] = float(value) if i in numeric else value
                obj[columns[-1]] = None
            out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        summary.rows += len(records)
        yield out.getvalue()


@dataclass(frozen=True)
class LineFormat:
    """A text format read and written line by line."""

    name: str
    source: Callable[[Iterable[str], BatchOptions], Any]
    pieces: Callable[[Any, Iterable[ScoredChunk], BatchSummary], Iterator[str]]


CSV = LineFormat("csv", CsvSource, csv_pieces)
JSONL = LineFormat("jsonl", JsonLinesSource, jsonl_pieces)
LINE_FORMATS = {fmt.name: fmt for fmt in (CSV, JSONL)}


def format_of(name: str) -> LineFormat:
    """JSON Lines for a .jsonl or .ndjson name, else CSV."""
    return JSONL if is_jsonl(name) else CSV


def stream_scored(
    model: Any,
    lines: Iterable[str],
    fmt: LineFormat,
    options: BatchOptions,
    summary: BatchSummary | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """The scored output as text pieces (for CSV the header first, then one per chunk).

    A bad header (CSV) is a `BatchInputError` before the first piece; a malformed row one at
    its line. `summary` counts the rows written; `on_rows(n)` is called as each chunk is.
    """
    summary = summary if summary is not None else BatchSummary()
    source = fmt.source(lines, options)
    before = 0
    for piece in fmt.pieces(source, scored_chunks(model, source, options), summary):
        if on_rows is not None and summary.rows > before:
            on_rows(summary.rows - before)
            before = summary.rows
        yield piece
