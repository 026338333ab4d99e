"""Parquet in, Parquet out: the batch scorer's third format, streamed by record batch.

The rows go through the same chunked scorer as CSV and JSON Lines (`model.batch.scored_chunks`,
with its worker processes and order guarantee), and come out with the same columns and the
same `error` semantics: every input row once, in order, its original columns untouched, the
score columns typed (labels and features as strings, scores and probabilities as float64) and
null where the row could not be scored, with the reason in `error`. Memory stays flat: only
the record batches of the chunks in flight are held. pyarrow is optional (the `parquet`
extra); without it, a Parquet file gets a clear error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO, Any

from model.batch import (
    MISSING_TEXT,
    NUMERIC_COLUMNS,
    BatchInputError,
    BatchOptions,
    BatchSummary,
    Outcome,
    Record,
    check_collisions,
    choose_text_column,
    scored_chunks,
)

PARQUET_SUFFIXES = (".parquet", ".pq")


def is_parquet(name: str) -> bool:
    return name.lower().endswith(PARQUET_SUFFIXES)


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - the test environment has the extra
        raise BatchInputError(
            "Parquet files need pyarrow: pip install 'ukraine-nato-stance[parquet]' "
            "(make install does)"
        ) from exc
    return pa, pq


def _unprefixed(produced: list[str], prefix: str) -> list[str]:
    return [name[len(prefix) :] for name in produced]


def output_schema(schema: Any, options: BatchOptions) -> Any:
    """The input schema with the scoring columns appended, typed."""
    pa, _ = _pyarrow()
    produced = options.columns
    fields = list(schema)
    for name, bare in zip(produced, _unprefixed(produced, options.prefix), strict=True):
        fields.append(pa.field(name, pa.float64() if bare in NUMERIC_COLUMNS else pa.string()))
    return pa.schema(fields, metadata=schema.metadata)


def _records(batches: Iterator[Any], text_column: str) -> Iterator[Record]:
    """One Record per row; `fields` is (record batch, row index) so output rows can be sliced."""
    number = 0
    for batch in batches:
        texts = batch.column(text_column).to_pylist()
        for i, value in enumerate(texts):
            number += 1
            if value is None:
                yield Record(number, (batch, i), None, MISSING_TEXT)
            elif not isinstance(value, str):
                yield Record(
                    number, (batch, i), None, f"text is {type(value).__name__}, not a string"
                )
            else:
                yield Record(number, (batch, i), value)


def _slices(records: list[Record]) -> Iterator[Any]:
    """The chunk's rows as slices of their record batches (consecutive rows of one batch)."""
    start = 0
    while start < len(records):
        batch, first = records[start].fields
        end = start
        while end < len(records) and records[end].fields[0] is batch:
            end += 1
        yield batch.slice(first, end - start)
        start = end


def _score_arrays(
    outcomes: list[Outcome], produced: list[str], prefix: str, summary: BatchSummary
) -> list[Any]:
    pa, _ = _pyarrow()
    bare = _unprefixed(produced, prefix)
    columns: list[list[Any]] = [[] for _ in produced]
    for outcome in outcomes:
        if isinstance(outcome, str):
            for values in columns[:-1]:
                values.append(None)
            columns[-1].append(outcome)
            summary.flagged += 1
        else:
            for i, value in enumerate(outcome):
                columns[i].append(float(value) if bare[i] in NUMERIC_COLUMNS else value)
            columns[-1].append(None)
    return [
        pa.array(values, type=pa.float64() if bare[i] in NUMERIC_COLUMNS else pa.string())
        for i, values in enumerate(columns)
    ]


def write_scored_parquet(
    model: Any,
    source: IO[bytes],
    target: IO[bytes],
    options: BatchOptions,
    summary: BatchSummary | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> BatchSummary:
    """Score the Parquet file `source` into `target` (both binary handles)."""
    pa, pq = _pyarrow()
    summary = summary if summary is not None else BatchSummary()
    try:
        reader = pq.ParquetFile(source)
    except (pa.ArrowInvalid, OSError) as exc:
        raise BatchInputError(f"not a readable Parquet file ({exc})") from exc
    schema = reader.schema_arrow
    column = choose_text_column(schema.names, options.text_column)
    produced = options.columns
    check_collisions(schema.names, produced)
    out_schema = output_schema(schema, options)
    with pq.ParquetWriter(target, out_schema) as writer:
        batches = reader.iter_batches(batch_size=options.chunk_rows)
        for records, outcomes in scored_chunks(model, _records(batches, column), options):
            table = pa.Table.from_batches(list(_slices(records)), schema=schema)
            arrays = _score_arrays(outcomes, produced, options.prefix, summary)
            for name, array in zip(produced, arrays, strict=True):
                table = table.append_column(out_schema.field(name), array)
            writer.write_table(table)
            summary.rows += len(records)
            if on_rows:
                on_rows(len(records))
    return summary
