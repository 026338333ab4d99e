"""Reading the output of `stance score`: CSV, JSON Lines, Parquet, or a folder of parts.

Rows whose `error` column is filled were not scored; they are counted by reason and kept out
of every figure. Dates are parsed here and counted as parsed, missing or bad, so that a report
can say what it left out. Anything that shows the file is not a scored file is a `ReportError`
naming the file, the line and what to do.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.batch import ERROR_COLUMN, TEXT_COLUMN_CANDIDATES, output_columns
from model.batch_formats import json_objects
from model.errors import BatchInputError
from model.labels import STANCE_LABELS
from reports.dates import DateFormatError, PartialDate, parse_date
from reports.errors import ReportError

SCORE = "stance_score"
LABEL = "stance"
PROBABILITIES = tuple(f"stance_p_{label}" for label in STANCE_LABELS)
REQUIRED = (LABEL, SCORE, *PROBABILITIES)
MODEL_VERSION_COLUMN = "model_version"
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
PARQUET_HINT = "pip install 'ukraine-nato-stance[parquet]' (or pip install pyarrow)"
BLANK_GROUP = "(blank)"
BAD_DATE_EXAMPLES = 5


@dataclass(slots=True)
class ScoredRow:
    """One scored statement, with what a report needs of it."""

    where: str
    ident: str | None
    text: str | None
    stance: str
    score: float
    max_probability: float
    group: str | None
    date: PartialDate | None


@dataclass
class DateCounts:
    """How the date column of the scored rows parsed."""

    column: str | None
    parsed: int = 0
    missing: int = 0
    bad: int = 0
    bad_values: Counter[str] = field(default_factory=Counter)


@dataclass
class ScoredFile:
    """The usable rows of a scored file and an account of the rest."""

    source: str
    columns: list[str]
    rows: list[ScoredRow]
    total_rows: int
    errors: Counter[str]
    group_column: str | None
    text_column: str | None
    dates: DateCounts
    model_versions: Counter[str]


# -- the formats ---------------------------------------------------------------------------


def _csv_records(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    handle = path.open(encoding="utf-8-sig", newline="")
    reader = csv.reader(handle, strict=True)
    try:
        header = next(reader, None)
    except (csv.Error, UnicodeDecodeError) as exc:
        handle.close()
        raise ReportError(f"{path}: cannot read the header ({exc})") from exc
    if header is None:
        handle.close()
        raise ReportError(f"{path} is empty; give the output of `stance score`")

    def records() -> Iterator[tuple[int, dict[str, Any]]]:
        with handle:
            line = reader.line_num
            while True:
                start = line + 1
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except (csv.Error, UnicodeDecodeError) as exc:
                    raise ReportError(f"{path} line {start}: cannot be read ({exc})") from exc
                line = reader.line_num
                if not row:
                    continue
                if len(row) > len(header):
                    raise ReportError(
                        f"{path} line {start}: {len(row)} fields but the header has "
                        f"{len(header)}; is this the output of `stance score`?"
                    )
                yield start, dict(zip(header, row, strict=False))

    return header, records()


def _jsonl_records(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    def lines() -> Iterator[str]:
        with path.open(encoding="utf-8-sig") as handle:
            number = 0
            while True:
                try:
                    line = handle.readline()
                except UnicodeDecodeError as exc:
                    raise ReportError(
                        f"{path} line {number + 1}: bytes that are not UTF-8; "
                        "`stance score` writes UTF-8"
                    ) from exc
                if not line:
                    return
                number += 1
                yield line

    def objects() -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            yield from json_objects(lines())
        except BatchInputError as exc:  # its message names the line; ours adds the file
            raise ReportError(f"{path} {exc}") from exc

    stream = objects()
    first = next(stream, None)
    if first is None:
        raise ReportError(f"{path} is empty; give the output of `stance score`")

    def records() -> Iterator[tuple[int, dict[str, Any]]]:
        yield first
        yield from stream

    return list(first[1]), records()


def _parquet_records(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ReportError(
            f"{path} is Parquet, which needs the parquet extra (pyarrow): {PARQUET_HINT}"
        ) from exc
    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises its own ArrowInvalid and OSError subclasses
        raise ReportError(f"{path} is not a readable Parquet file ({exc})") from exc

    def records() -> Iterator[tuple[int, dict[str, Any]]]:
        number = 0
        for batch in parquet.iter_batches():
            for obj in batch.to_pylist():
                number += 1
                yield number, obj

    return list(parquet.schema_arrow.names), records()


READERS = {"csv": _csv_records, "jsonl": _jsonl_records, "parquet": _parquet_records}


def _parts(path: Path) -> list[Path]:
    if not path.exists():
        raise ReportError(f"{path} not found; give the file `stance score` wrote")
    if not path.is_dir():
        return [path]
    parts = sorted(
        p
        for p in path.iterdir()
        if p.is_file() and p.suffix.lower() in FORMATS and not p.name.startswith((".", "_"))
    )
    if not parts:
        raise ReportError(
            f"{path} is a folder with no .csv, .jsonl or .parquet parts; "
            "give a scored file or a folder of scored parts"
        )
    return parts


def _format(path: Path) -> str:
    return FORMATS.get(path.suffix.lower(), "csv")  # `stance score` writes CSV unless .jsonl


# -- rows ----------------------------------------------------------------------------------


def _prefix(columns: list[str], path: Path) -> str:
    """The `--prefix` the scorer used, found from the columns it wrote."""
    candidates = [c[: -len(SCORE)] for c in columns if c.endswith(SCORE)]
    complete = [p for p in candidates if all(p + name in columns for name in REQUIRED)]
    if len(complete) == 1:
        return complete[0]
    if len(complete) > 1:
        raise ReportError(
            f"{path} has several sets of score columns (prefixes {', '.join(map(repr, complete))}); "
            "keep one"
        )
    if candidates:
        missing = [n for n in REQUIRED if candidates[0] + n not in columns]
        raise ReportError(
            f"{path} lacks the column(s) {', '.join(candidates[0] + n for n in missing)} that "
            "`stance score` writes; score the original file again with `stance score`"
        )
    raise ReportError(
        f"{path} is not a scored file (no {SCORE} column); score it first: stance score {path}"
    )


def _number(value: Any, column: str, where: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or not low - 1e-6 <= number <= high + 1e-6:
        raise ReportError(
            f"{where}: {column} {value!r} is not a number in [{low:g}, {high:g}]; "
            "is this the unchanged output of `stance score`?"
        )
    return number


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _choose(
    columns: list[str],
    prefix: str,
    requested: str | None,
    default: str | None,
    option: str,
    what: str,
    path: Path,
) -> str | None:
    """`requested` if it is a column (else an error), or `default` if that is one, or None."""
    if requested is None:
        return default if default in columns else None
    if requested not in columns:
        produced = set(output_columns(prefix, explain=True))
        shown = [c for c in columns if c not in produced]
        listed = ", ".join(shown[:15]) + (", ..." if len(shown) > 15 else "")
        raise ReportError(
            f"{option} {requested}: {path} has no such column (its input columns: "
            f"{listed or 'none'}); name the column that holds the {what}"
        )
    return requested


def read_scored(
    source: Path | str,
    by: str | None = None,
    date_column: str | None = None,
    text_column: str | None = None,
) -> ScoredFile:
    """Read a scored file or folder of parts (in name order) into the rows a report uses.

    `by` and `date_column` default to `speaker` and `date` when those columns exist; named
    explicitly, they must exist.
    """
    path = Path(source)
    parts = _parts(path)
    first_columns: list[str] | None = None
    rows: list[ScoredRow] = []
    errors: Counter[str] = Counter()
    versions: Counter[str] = Counter()
    total = 0
    dates = DateCounts(None)
    group_col = date_col = text_col = None
    prefix = ""
    for part in parts:
        columns, records = READERS[_format(part)](part)
        if first_columns is None:
            first_columns = columns
            prefix = _prefix(columns, part)
            group_col = _choose(columns, prefix, by, "speaker", "--by", "groups", part)
            date_col = _choose(columns, prefix, date_column, "date", "--date-column", "dates", part)
            text_col = _choose(
                columns,
                prefix,
                text_column,
                next((c for c in TEXT_COLUMN_CANDIDATES if c in columns), None),
                "--text-column",
                "statements",
                part,
            )
            dates.column = date_col
        elif _prefix(columns, part) != prefix:
            raise ReportError(f"{part} has other score columns than {parts[0]}; keep one kind")
        shown_part = f"{part.name} " if len(parts) > 1 else ""
        error_col = prefix + ERROR_COLUMN
        for number, record in records:
            total += 1
            where = f"{part} line {number}"
            reason = _text(record.get(error_col))
            if reason:
                errors[reason] += 1
                continue
            label = _text(record.get(prefix + LABEL))
            if label not in STANCE_LABELS:
                raise ReportError(
                    f"{where}: stance {label!r} is not one of {', '.join(STANCE_LABELS)}; "
                    "is this the unchanged output of `stance score`?"
                )
            score = _number(record.get(prefix + SCORE), prefix + SCORE, where, -1.0, 1.0)
            probabilities = [
                _number(record.get(prefix + name), prefix + name, where, 0.0, 1.0)
                for name in PROBABILITIES
            ]
            date = None
            if date_col is not None:
                raw = record.get(date_col)
                try:
                    date = parse_date(raw)
                except DateFormatError:
                    dates.bad += 1
                    dates.bad_values[_text(raw)] += 1
                else:
                    if date is None:
                        dates.missing += 1
                    else:
                        dates.parsed += 1
            version = _text(record.get(prefix + MODEL_VERSION_COLUMN))
            if version:
                versions[version] += 1
            ident = _text(record.get("id")) or None
            rows.append(
                ScoredRow(
                    where=f"{shown_part}line {number}",
                    ident=ident,
                    text=_text(record.get(text_col)) if text_col else None,
                    stance=label,
                    score=score,
                    max_probability=max(probabilities),
                    group=(_text(record.get(group_col)) or BLANK_GROUP) if group_col else None,
                    date=date,
                )
            )
    assert first_columns is not None
    if total == 0:
        raise ReportError(f"{path} has a header but no rows; score a file with statements in it")
    if not rows:
        reason, count = errors.most_common(1)[0]
        raise ReportError(
            f"none of the {total} rows of {path} was scored ({count} with the error "
            f"{reason!r}); fix the input and score it again"
        )
    return ScoredFile(
        source=str(path),
        columns=first_columns,
        rows=rows,
        total_rows=total,
        errors=errors,
        group_column=group_col,
        text_column=text_col,
        dates=dates,
        model_versions=versions,
    )
