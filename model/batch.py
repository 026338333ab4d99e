"""Batch scoring of any number of rows: the options of a run, the rows it reads, and the
chunked scorer that every format shares (CSV and JSON Lines in `model.batch_formats`, Parquet in
`model.batch_parquet`, files in `model.batch_files`, the HTTP upload in `service.batch`).

Rows flow through in chunks, so memory stays flat whatever the input size. Every input row
produces exactly one outcome, in order: its score cells, or the reason it was not scored.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

# The decoder and the input error belong to the batch library's interface (re-exported).
from model.decoding import check_encoding as check_encoding
from model.decoding import decoded_lines as decoded_lines
from model.errors import BatchInputError as BatchInputError
from model.errors import ModelError, Option

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
# Columns whose values are numbers (JSON Lines and Parquet write them as such); judged on the
# unprefixed names, so that a --prefix such as `x_p_` cannot make a label numeric.
NUMERIC_COLUMNS = frozenset(name for name in SCORE_COLUMNS if "_score" in name or "_p_" in name)
EXPLAIN_COLUMNS = ("stance_features", "sentiment_features")
ERROR_COLUMN = "error"
DEFAULT_CHUNK_ROWS = 2000
EXPLAIN_TOP_K = 5
EMPTY_TEXT = "empty text"
MISSING_TEXT = "missing text"
# csv's default field limit (128 KiB) would reject long statements; 64 MiB bounds a field.
csv.field_size_limit(64 * 1024 * 1024)


class BatchWorkerError(ModelError):
    """A worker process died while scoring; the run cannot complete."""


@dataclass(frozen=True)
class BatchOptions:
    """How one batch run reads and scores its rows: the same options for every format and
    every edge (`stance score`, `POST /v1/score/csv`, a Dask task)."""

    text_column: str | None = None  # None: the first of text, quote, statement present
    prefix: str = ""  # put before every output column name
    explain: bool = False  # add the words that drove each decision
    jobs: int = 1  # worker processes
    chunk_rows: int = DEFAULT_CHUNK_ROWS  # rows scored together (and held in memory per job)
    encoding: str = "utf-8"  # of CSV and JSON Lines input
    max_chars: int | None = None  # score each text on its first max_chars characters

    @property
    def columns(self) -> list[str]:
        """The output columns this run adds: scores, features if explained, then `error`."""
        return output_columns(self.prefix, self.explain)


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


@dataclass
class Record:
    """One input row: its line number, its original fields, and its text (None if missing)."""

    line: int
    fields: Any  # list[str] for CSV, dict for JSON Lines
    text: str | None
    problem: str | None = None


# An outcome: the row's score cells (strings, in SCORE_COLUMNS order, then the features if
# explained), or the reason it was not scored.
Outcome = list[str] | str


def _fmt(value: float) -> str:
    return f"{value:.6f}"


def score_cells(stance: dict[str, Any], sentiment: dict[str, Any]) -> list[str]:
    """The SCORE_COLUMNS cells of one text, from the model's description of each head
    ({label, score, probabilities}: what `POST /v1/score` answers with)."""
    cells = []
    for head in (stance, sentiment):
        probabilities = [_fmt(p) for p in head["probabilities"].values()]
        cells += [head["label"], _fmt(head["score"]), *probabilities]
    return cells


def first_chars(text: str, max_chars: int | None) -> str:
    """What is scored of `text`: all of it, or its first `max_chars` characters."""
    return text if max_chars is None else text[:max_chars]


def score_texts(
    model: Any, texts: list[str], explain: bool = False, max_chars: int | None = None
) -> list[list[str]]:
    """Score cells (as strings) for non-empty texts, in order."""
    if not texts:
        return []
    texts = [first_chars(text, max_chars) for text in texts]
    rows = []
    for text, prediction in zip(texts, model.predict(texts), strict=True):
        row = score_cells(prediction["stance"], prediction["sentiment"])
        if explain:
            explanation = model.explain(text, EXPLAIN_TOP_K)
            row += [_features_cell(explanation["stance"]), _features_cell(explanation["sentiment"])]
        rows.append(row)
    return rows


def _features_cell(head: dict[str, Any]) -> str:
    return "; ".join(f"{f['feature']} ({f['weight']:+.3f})" for f in head["toward"])


def _chunk_outcomes(model: Any, records: list[Record], options: BatchOptions) -> list[Outcome]:
    """Per record: its score cells, or the reason it was not scored."""
    scorable = []
    outcomes: list[Outcome] = []
    for record in records:
        if record.problem is not None:
            outcomes.append(record.problem)
        elif not record.text or not record.text.strip():
            outcomes.append(EMPTY_TEXT)
        else:
            scorable.append(record.text)
            outcomes.append([])
    scores = iter(score_texts(model, scorable, options.explain, options.max_chars))
    return [next(scores) if outcome == [] else outcome for outcome in outcomes]


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


def _worker_outcomes(
    texts_and_problems: list[tuple[str | None, str | None]], options: BatchOptions
) -> list[Outcome]:
    records = [Record(0, None, text, problem) for text, problem in texts_and_problems]
    return _chunk_outcomes(_WORKER_MODEL, records, options)


ScoredChunk = tuple[list[Record], list[Outcome]]


def scored_chunks(
    model: Any, records: Iterable[Record], options: BatchOptions
) -> Iterator[ScoredChunk]:
    """(records, outcomes) per chunk, in input order; with options.jobs > 1 chunks go to worker
    processes.

    At most 2 x jobs chunks are in flight, so memory stays bounded however long the input.
    """
    jobs = options.jobs
    if jobs <= 1:
        for chunk in _chunks(records, options.chunk_rows):
            yield chunk, _chunk_outcomes(model, chunk, options)
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
        pending: deque[tuple[list[Record], Future[list[Outcome]]]] = deque()
        for chunk in _chunks(records, options.chunk_rows):
            payload = [(r.text, r.problem) for r in chunk]
            pending.append((chunk, executor.submit(_worker_outcomes, payload, options)))
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
    """What a run has written so far: rows, and rows flagged with an error."""

    rows: int = 0
    flagged: int = 0

    @property
    def scored(self) -> int:
        return self.rows - self.flagged


def default_jobs() -> int:
    return (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    )
