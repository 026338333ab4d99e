"""Reading and validating a labelled CSV of quotes: every problem found, with its line number."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.decoding import decoded_lines
from model.errors import BatchInputError
from model.labels import SENTIMENT_LABELS, STANCE_LABELS

REQUIRED_COLUMNS = ("text", "stance", "sentiment")
MAX_PROBLEMS_SHOWN = 50
_SPACES = re.compile(r"\s+")


class DatasetError(Exception):
    """The data cannot be trained on; `problems` lists every reason, with line numbers."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        lines = "\n".join(f"  - {p}" for p in shown)
        if more:
            lines += f"\n  ... and {more} more"
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{source}: {len(problems)} {noun} found, nothing was trained:\n{lines}")


@dataclass(frozen=True)
class LabelledQuotes:
    """Validated rows: parallel lists of texts and labels, plus provenance of the file."""

    texts: list[str]
    stance: list[str]
    sentiment: list[str]
    sha256: str
    source: str
    # Every other column (speaker_type, confidence, ...), parallel to `texts`, by lower-case name.
    columns: dict[str, list[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.texts)

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            "stance": {label: self.stance.count(label) for label in STANCE_LABELS},
            "sentiment": {label: self.sentiment.count(label) for label in SENTIMENT_LABELS},
        }


def normalized_key(text: str) -> str:
    """The form two texts share when they count as duplicates: case and spacing ignored."""
    return _SPACES.sub(" ", text).strip().casefold()


def decode_utf8(raw: bytes, problems: list[str]) -> str:
    """The text of `raw` (a byte-order mark is dropped, or decides UTF-16/32); each line that is
    not UTF-8 is recorded as a problem and kept with replacement characters."""

    def undecodable(line: int, column: int) -> None:
        problems.append(
            f"line {line}: bytes that are not UTF-8 at column {column} (save the file as UTF-8)"
        )

    try:
        return "".join(decoded_lines(io.BytesIO(raw), "utf-8", on_undecodable=undecodable))
    except BatchInputError as exc:
        problems.append(f"{exc} (save the file as UTF-8)")
        return ""


def parse_labelled_csv(raw: bytes, source: str) -> LabelledQuotes:
    """Validate `raw` CSV bytes; raises `DatasetError` listing every problem."""
    problems: list[str] = []
    text = decode_utf8(raw, problems)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header = _read_header(reader, source, problems)
    columns = [name.strip().lower() for name in header]
    at = {name: columns.index(name) for name in REQUIRED_COLUMNS}
    others = {name: i for i, name in enumerate(columns) if name and name not in REQUIRED_COLUMNS}
    extra: dict[str, list[str]] = {name: [] for name in others}
    texts: list[str] = []
    stances: list[str] = []
    sentiments: list[str] = []
    first_seen: dict[str, int] = {}
    for line, row in _data_rows(reader, len(header), problems):
        quote = row[at["text"]].strip()
        stance = row[at["stance"]].strip().lower()
        sentiment = row[at["sentiment"]].strip().lower()
        problems += _label_problems(line, quote, row[at["stance"]], row[at["sentiment"]])
        if quote:
            key = normalized_key(quote)
            if key in first_seen:
                problems.append(f"line {line}: duplicate text (same as line {first_seen[key]})")
            else:
                first_seen[key] = line
        texts.append(quote)
        stances.append(stance)
        sentiments.append(sentiment)
        for name, i in others.items():
            extra[name].append(row[i].strip())
    if not texts and not problems:
        problems.append("no data rows after the header")
    if problems:
        raise DatasetError(source, problems)
    digest = hashlib.sha256(raw).hexdigest()
    return LabelledQuotes(texts, stances, sentiments, digest, source, extra)


def _read_header(reader: Any, source: str, problems: list[str]) -> list[str]:
    """The header row; a missing, malformed or incomplete header stops validation here."""
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise DatasetError(source, [*problems, f"line 1: malformed CSV header ({exc})"]) from exc
    if header is None:
        raise DatasetError(source, [*problems, "the file is empty (expected a header row)"])
    columns = [name.strip().lower() for name in header]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise DatasetError(
            source,
            [
                *problems,
                f"line 1: missing required column(s) {', '.join(missing)}; "
                f"found {', '.join(repr(c) for c in header) or 'none'} "
                f"(required: {', '.join(REQUIRED_COLUMNS)})",
            ],
        )
    return header


def _data_rows(reader: Any, width: int, problems: list[str]) -> Iterator[tuple[int, list[str]]]:
    """(first line, row) of each data row with as many fields as the header. Blank rows are
    skipped; a row of another width is a problem; malformed CSV is one and ends the reading."""
    line = reader.line_num
    while True:
        start = line + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problems.append(f"line {start}: malformed CSV ({exc}); check quotes around the text")
            return
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != width:
            problems.append(
                f"line {start}: {len(row)} fields, expected {width} like the header "
                "(quote texts that contain commas)"
            )
            continue
        yield start, row


def _label_problems(line: int, quote: str, stance: str, sentiment: str) -> list[str]:
    problems = []
    if not quote:
        problems.append(f"line {line}: empty text")
    if stance.strip().lower() not in STANCE_LABELS:
        problems.append(
            f"line {line}: unknown stance {stance!r} (expected one of {', '.join(STANCE_LABELS)})"
        )
    if sentiment.strip().lower() not in SENTIMENT_LABELS:
        problems.append(
            f"line {line}: unknown sentiment {sentiment!r} "
            f"(expected one of {', '.join(SENTIMENT_LABELS)})"
        )
    return problems


def load_labelled_csv(path: Path | str) -> LabelledQuotes:
    """Read and validate a labelled CSV file (see `parse_labelled_csv`)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise DatasetError(str(path), ["file not found"]) from exc
    except IsADirectoryError as exc:
        raise DatasetError(str(path), ["is a directory, expected a CSV file"]) from exc
    except PermissionError as exc:
        raise DatasetError(str(path), ["permission denied"]) from exc
    return parse_labelled_csv(raw, str(path))
