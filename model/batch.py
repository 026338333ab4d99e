"""Batch scoring of CSV and JSON Lines streams of any size: the one implementation that the
`stance score` command and the HTTP CSV endpoint share.

Rows flow through in chunks, so memory stays flat whatever the input size. Every input row
produces exactly one output row, in order: a row that cannot be scored keeps its place, its
score columns empty and the reason in `error`.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import numpy as np

from model.errors import ModelError, Option
from model.labels import SENTIMENT_LABELS, STANCE_LABELS

TEXT_COLUMN_CANDIDATES = ("text", "quote", "statement")
SCORE_COLUMNS = (
    "stance",
    "stance_score",
    "stance_p_support",
    "stance_p_oppose",
    "stance_p_neutral",
    "sentiment",
    "sentiment_score",
    "sentiment_p_positive",
    "sentiment_p_negative",
    "sentiment_p_neutral",
)
EXPLAIN_COLUMNS = ("stance_features", "sentiment_features")
ERROR_COLUMN = "error"
DEFAULT_CHUNK_ROWS = 2000
EMPTY_TEXT = "empty text"
MISSING_TEXT = "missing text"
# csv's default field limit (128 KiB) would reject long statements; 64 MiB bounds a field.
csv.field_size_limit(64 * 1024 * 1024)


class BatchInputError(ModelError):
    """The input cannot be read as the format it claims; the message names the line."""


class BatchWorkerError(ModelError):
    """A worker process died while scoring; the run cannot complete."""


def output_columns(prefix: str = "", explain: bool = False) -> list[str]:
    names = list(SCORE_COLUMNS) + (list(EXPLAIN_COLUMNS) if explain else []) + [ERROR_COLUMN]
    return [prefix + name for name in names]


def choose_text_column(columns: Sequence[str], requested: str | None) -> str:
    """The requested column, or the first of text/quote/statement present."""
    if requested is not None:
        if requested not in columns:
            raise BatchInputError(
                f"text column {requested!r} not found; the columns are: {', '.join(map(repr, columns))}"
            )
        return requested
    for candidate in TEXT_COLUMN_CANDIDATES:
        if candidate in columns:
            return candidate
    raise BatchInputError(
        "no text column found (looked for "
        + ", ".join(TEXT_COLUMN_CANDIDATES)
        + "); the columns are: "
        + (", ".join(map(repr, columns)) or "none")
        + "; name the column with ",
        Option("text_column"),
    )


def check_collisions(columns: Iterable[str], produced: Sequence[str]) -> None:
    clash = [name for name in produced if name in set(columns)]
    if clash:
        raise BatchInputError(
            "the input already has output column(s) "
            + ", ".join(map(repr, clash))
            + "; they would be overwritten. Use ",
            Option("prefix"),
            " (e.g. ",
            Option("prefix", "new_"),
            ") to name the output columns apart",
        )


# -- reading -------------------------------------------------------------------------------


def check_encoding(encoding: str) -> str:
    """The codec name if it decodes bytes to text, else a `BatchInputError` saying so."""
    try:
        info = codecs.lookup(encoding)
    except (LookupError, ValueError) as exc:
        raise BatchInputError(
            f"unknown encoding {encoding!r} (try utf-8, cp1252 or latin-1)"
        ) from exc
    if not getattr(info, "_is_text_encoding", True) or info.name in (
        "idna",
        "punycode",
        "undefined",
    ):
        raise BatchInputError(f"{encoding!r} is not a text encoding (try utf-8, cp1252 or latin-1)")
    return info.name


# Byte-order marks that choose the encoding, longest first: UTF-32-LE's begins with UTF-16-LE's.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32 (little-endian)"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32 (big-endian)"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 (little-endian)"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 (big-endian)"),
)
ENCODING_ADVICE = (
    "if the file has another encoding, pass it with ",
    Option("encoding"),
    " (e.g. ",
    Option("encoding", "cp1252"),
    ")",
)


def decoded_lines(binary: Iterable[bytes], encoding: str = "utf-8") -> Iterator[str]:
    """The text lines of `binary`, decoded as they stream in; any decoding problem is a
    `BatchInputError` naming its line.

    A UTF-8 byte-order mark is dropped. A UTF-16 or UTF-32 one sets the encoding (when the
    encoding asked for is the default utf-8 or that same one; another is an error that says
    so). Files in such encodings, where a newline is not the byte 0x0A, are decoded in blocks;
    the others line by line, so that an undecodable byte is reported at its column.
    """
    name = check_encoding(encoding)
    chunks = iter(binary)
    peeked: list[bytes] = []
    while sum(map(len, peeked)) < 4:
        chunk = next(chunks, None)
        if chunk is None:
            break
        peeked.append(chunk)
    start = b"".join(peeked)
    for mark, codec, label in BYTE_ORDER_MARKS:
        if start.startswith(mark):
            if name not in ("utf-8", codec.removesuffix("-le").removesuffix("-be"), codec):
                raise BatchInputError(
                    f"the input starts with a {label} byte-order mark, but the encoding given is "
                    f"{encoding}; leave ",
                    Option("encoding"),
                    f" out to read it as {label}",
                )
            rest = _blocks(binary, chunks)
            yield from _decoded_in_blocks(start[len(mark) :], rest, codec, label, from_mark=True)
            return
    if not _newline_is_byte_0a(name):  # UTF-16/32 without a mark, EBCDIC code pages
        yield from _decoded_in_blocks(start, _blocks(binary, chunks), name, encoding)
        return
    yield from _decoded_by_line(itertools.chain(peeked, chunks), name, encoding)


def _newline_is_byte_0a(codec: str) -> bool:
    try:
        return b"\n".decode(codec) == "\n"
    except UnicodeError:
        return False


def _decoded_by_line(lines: Iterable[bytes], name: str, encoding: str) -> Iterator[str]:
    is_utf8 = name == "utf-8"
    first_codec = "utf-8-sig" if is_utf8 else name
    for number, raw in enumerate(lines, start=1):
        try:
            line = raw.decode(first_codec) if number == 1 else raw.decode(name)
            if not is_utf8:  # some codecs (utf-7, unicode_escape) can produce lone surrogates
                line.encode("utf-8")
        except UnicodeError as exc:
            where = f" at column {exc.start + 1}" if isinstance(exc, UnicodeDecodeError) else ""
            raise BatchInputError(
                f"line {number}: bytes that are not valid {encoding}{where}; ", *ENCODING_ADVICE
            ) from exc
        yield line


def _blocks(binary: Iterable[bytes], chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The rest of the input: in 64 KiB blocks from a file (iterating one splits it at every
    0x0A byte, which in UTF-16 is no line end), else as it comes."""
    read = getattr(binary, "read", None)
    if read is None:
        return chunks
    return iter(lambda: read(1 << 16), b"")


def _decoded_in_blocks(
    first: bytes, rest: Iterator[bytes], codec: str, label: str, from_mark: bool = False
) -> Iterator[str]:
    """Lines of a stream decoded block by block (a line can span blocks, a block many lines)."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    line = 1
    pending = ""
    for block in itertools.chain((first,), rest):
        try:
            text = decoder.decode(block)
        except UnicodeDecodeError as exc:
            raise _undecodable(exc, codec, label, line, pending, from_mark) from exc
        *complete, pending = (pending + text).split("\n")
        for piece in complete:
            yield piece + "\n"
        line += len(complete)
    try:
        pending += decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise BatchInputError(
            f"line {line}: the input ends in the middle of a {label} character; "
            "the file looks truncated"
        ) from exc
    if pending:
        yield pending


def _undecodable(
    exc: UnicodeDecodeError, codec: str, label: str, line: int, pending: str, from_mark: bool
) -> BatchInputError:
    before = pending + exc.object[: exc.start].decode(codec, errors="replace")
    line += before.count("\n")
    column = len(before) - before.rfind("\n")
    advice = (
        (f"the file is read as {label} because it starts with that byte-order mark",)
        if from_mark
        else ENCODING_ADVICE
    )
    return BatchInputError(
        f"line {line}: bytes that are not valid {label} at column {column}; ", *advice
    )


@dataclass
class Record:
    """One input row: its line number, its original fields, and its text (None if missing)."""

    line: int
    fields: Any  # list[str] for CSV, dict for JSON Lines
    text: str | None
    problem: str | None = None


class CsvSource:
    """A CSV stream with its header read, text column chosen and output columns checked."""

    def __init__(
        self, lines: Iterable[str], text_column: str | None, prefix: str = "", explain: bool = False
    ) -> None:
        self._reader = csv.reader(lines, strict=True)
        try:
            header = next(self._reader, None)
        except csv.Error as exc:
            raise BatchInputError(f"line 1: malformed CSV header ({exc})") from exc
        if header is None:
            raise BatchInputError("the input is empty: expected a header row naming the columns")
        self.header = header
        self.text_column = choose_text_column(header, text_column)
        self.text_index = header.index(self.text_column)
        self.produced = output_columns(prefix, explain)
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


class JsonLinesSource:
    """A JSON Lines stream: one object per line, the text in a detected or named field."""

    def __init__(
        self, lines: Iterable[str], text_column: str | None, prefix: str = "", explain: bool = False
    ) -> None:
        self._lines = iter(lines)
        self.requested = text_column
        self.produced = output_columns(prefix, explain)
        self.text_column: str | None = text_column

    def __iter__(self) -> Iterator[Record]:
        for number, line in enumerate(self._lines, start=1):
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


# -- scoring -------------------------------------------------------------------------------


def _fmt(value: float) -> str:
    return f"{value:.6f}"


def score_texts(model: Any, texts: list[str], explain: bool = False) -> list[list[str]]:
    """Score-column values (as strings) for non-empty texts, in order."""
    if not texts:
        return []
    stance, sentiment = model.predict_proba(texts)
    s_top = np.argmax(stance, axis=1)
    t_top = np.argmax(sentiment, axis=1)
    rows = []
    for i in range(len(texts)):
        ps, pt = stance[i], sentiment[i]
        row = [
            STANCE_LABELS[s_top[i]],
            _fmt(ps[0] - ps[1]),
            _fmt(ps[0]),
            _fmt(ps[1]),
            _fmt(ps[2]),
            SENTIMENT_LABELS[t_top[i]],
            _fmt(pt[0] - pt[1]),
            _fmt(pt[0]),
            _fmt(pt[1]),
            _fmt(pt[2]),
        ]
        if explain:
            explanation = model.explain(texts[i], 5)
            row += [_features_cell(explanation["stance"]), _features_cell(explanation["sentiment"])]
        rows.append(row)
    return rows


def _features_cell(head: dict[str, Any]) -> str:
    return "; ".join(f"{f['feature']} ({f['weight']:+.3f})" for f in head["toward"])


def _chunk_scores(model: Any, records: list[Record], explain: bool) -> list[list[str] | str]:
    """Per record: its score values, or the reason it was not scored."""
    scorable = []
    outcome: list[list[str] | str] = []
    for record in records:
        if record.problem is not None:
            outcome.append(record.problem)
        elif not record.text or not record.text.strip():
            outcome.append(EMPTY_TEXT)
        else:
            scorable.append(record.text)
            outcome.append([])
    scores = iter(score_texts(model, scorable, explain))
    return [next(scores) if item == [] else item for item in outcome]


def _chunks(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    chunk: list[Record] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


_WORKER_MODEL: Any = None


def _worker_init(model: Any) -> None:
    global _WORKER_MODEL
    _WORKER_MODEL = model
    # A forked worker inherits the parent's handlers (SIGTERM -> exception). Workers die on
    # SIGTERM and leave Ctrl-C and hangup (sent to the whole process group) to the parent,
    # which stops submitting and waits for the chunks in flight.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for sig in (signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)


def _worker_score(
    texts_and_problems: list[tuple[str | None, str | None]], explain: bool
) -> list[list[str] | str]:
    records = [Record(0, None, text, problem) for text, problem in texts_and_problems]
    return _chunk_scores(_WORKER_MODEL, records, explain)


def scored_chunks(
    model: Any,
    records: Iterable[Record],
    jobs: int = 1,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    explain: bool = False,
) -> Iterator[tuple[list[Record], list[list[str] | str]]]:
    """(records, outcomes) per chunk, in input order; with jobs > 1 chunks go to worker processes.

    At most 2 x jobs chunks are in flight, so memory stays bounded however long the input.
    """
    if jobs <= 1:
        for chunk in _chunks(records, chunk_rows):
            yield chunk, _chunk_scores(model, chunk, explain)
        return
    # concurrent.futures, unlike multiprocessing.Pool, reports a worker that dies (killed, out
    # of memory) as BrokenProcessPool instead of hanging, and shuts down without killing
    # workers mid-write: it cancels queued chunks and waits for the few in flight.
    executor = ProcessPoolExecutor(
        jobs,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_worker_init,
        initargs=(model,),
    )
    try:
        pending: deque[tuple[list[Record], Future[list[list[str] | str]]]] = deque()
        for chunk in _chunks(records, chunk_rows):
            payload = [(r.text, r.problem) for r in chunk]
            pending.append((chunk, executor.submit(_worker_score, payload, explain)))
            if len(pending) >= 2 * jobs:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
    except BrokenProcessPool as exc:
        raise BatchWorkerError(
            "a scoring worker process died (killed by a signal or out of memory); "
            "nothing was written under the output name"
        ) from exc
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


@dataclass
class BatchSummary:
    rows: int = 0
    flagged: int = 0

    @property
    def scored(self) -> int:
        return self.rows - self.flagged


def csv_output_rows(
    chunks: Iterable[tuple[list[Record], list[list[str] | str]]], width: int, summary: BatchSummary
) -> Iterator[list[list[str]]]:
    """Output CSV rows per chunk: the original fields, then score columns, then `error`."""
    for records, outcomes in chunks:
        rows = []
        for record, outcome in zip(records, outcomes, strict=True):
            if isinstance(outcome, str):
                rows.append(record.fields + [""] * width + [outcome])
                summary.flagged += 1
            else:
                rows.append(record.fields + outcome + [""])
        summary.rows += len(records)
        yield rows


def jsonl_output_lines(
    chunks: Iterable[tuple[list[Record], list[list[str] | str]]],
    columns: Sequence[str],
    summary: BatchSummary,
) -> Iterator[str]:
    """Output JSON Lines per chunk: each object with the score fields added (numbers as numbers)."""
    # Judged on the unprefixed names: a --prefix such as `x_p_` must not make a label numeric.
    numeric = {i for i, name in enumerate(SCORE_COLUMNS) if "_score" in name or "_p_" in name}
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


def rows_to_csv_text(rows: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    # RFC 4180 line ends; with "\r\n" as terminator Python 3.11 also quotes a lone "\r" in a cell.
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def stream_scored_csv(
    model: Any,
    lines: Iterable[str],
    text_column: str | None = None,
    prefix: str = "",
    explain: bool = False,
    jobs: int = 1,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    summary: BatchSummary | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """Scored CSV text, header first then one piece per chunk. Raises `BatchInputError` early
    for a bad header, and at the offending line for a malformed row."""
    summary = summary if summary is not None else BatchSummary()
    source = CsvSource(lines, text_column, prefix, explain)
    yield rows_to_csv_text([source.out_header()])
    chunks = scored_chunks(model, source, jobs, chunk_rows, explain)
    for rows in csv_output_rows(chunks, len(source.produced) - 1, summary):
        if on_rows:
            on_rows(len(rows))
        yield rows_to_csv_text(rows)


def stream_scored_jsonl(
    model: Any,
    lines: Iterable[str],
    text_column: str | None = None,
    prefix: str = "",
    explain: bool = False,
    jobs: int = 1,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    summary: BatchSummary | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """Scored JSON Lines text, one piece per chunk."""
    summary = summary if summary is not None else BatchSummary()
    source = JsonLinesSource(lines, text_column, prefix, explain)
    before = 0
    for piece in jsonl_output_lines(
        scored_chunks(model, source, jobs, chunk_rows, explain), source.produced, summary
    ):
        if on_rows:
            on_rows(summary.rows - before)
            before = summary.rows
        yield piece


def default_jobs() -> int:
    return (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    )
