"""The work plan: which input files, and which rows of each go to which output part.

A CSV partition is a byte range of whole rows (found with the csv module, so a quoted newline
never splits a row) plus the file's header; a JSON Lines partition is a byte range of whole
lines; a Parquet partition is a run of row groups. Parts are numbered in input order (files
sorted by name, then by position), so sorting the output names gives the input order.
"""

from __future__ import annotations

import csv
import glob
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from model.batch import BatchInputError
from model.batch_formats import is_jsonl
from model.batch_parquet import is_parquet

FORMATS = {"csv": ".csv", "jsonl": ".jsonl", "parquet": ".parquet"}


@dataclass(frozen=True)
class Partition:
    """Rows `start`..`end` (bytes, or row groups for Parquet) of `path`, written as part `index`."""

    index: int
    path: str
    fmt: str
    start: int
    end: int
    header_end: int = 0  # CSV: the header row is bytes 0..header_end of the file
    rows: int = 0

    def part_name(self, width: int) -> str:
        return f"part-{self.index:0{width}d}{FORMATS[self.fmt]}"


def file_format(name: str) -> str:
    if is_parquet(name):
        return "parquet"
    if is_jsonl(name):
        return "jsonl"
    if name.lower().endswith(".csv"):
        return "csv"
    raise BatchInputError(f"{name}: not a .csv, .jsonl/.ndjson or .parquet file")


def input_files(spec: str) -> list[Path]:
    """A file, a directory (its .csv, .jsonl, .ndjson and .parquet files) or a glob, sorted."""
    path = Path(spec)
    if path.is_dir():
        found = [p for p in sorted(path.iterdir()) if p.is_file() and _known(p.name)]
        if not found:
            raise BatchInputError(f"directory {spec} holds no .csv, .jsonl or .parquet file")
    elif path.is_file():
        found = [path]
    else:
        found = [Path(p) for p in sorted(glob.glob(spec)) if Path(p).is_file()]
        if not found:
            raise BatchInputError(f"no input file matches {spec}")
    formats = {file_format(p.name) for p in found}
    if len(formats) > 1:
        raise BatchInputError(
            f"{spec} mixes formats ({', '.join(sorted(formats))}); score each format on its own"
        )
    return [p.resolve() for p in found]


def _known(name: str) -> bool:
    try:
        file_format(name)
    except BatchInputError:
        return False
    return True


def plan(files: list[Path], rows_per_part: int) -> list[Partition]:
    """Every partition of every file, numbered in input order."""
    partitions: list[Partition] = []
    for path in files:
        fmt = file_format(path.name)
        ranges = {"csv": _csv_ranges, "jsonl": _jsonl_ranges, "parquet": _parquet_ranges}[fmt]
        for start, end, header_end, rows in ranges(path, rows_per_part):
            partitions.append(
                Partition(len(partitions), str(path), fmt, start, end, header_end, rows)
            )
    return partitions


def _counted_lines(handle: IO[bytes], consumed: list[int]) -> Iterator[str]:
    """The file's lines decoded for the csv module, adding each line's byte length to
    consumed[0] as it is read (the reader never reads past the row it returns)."""
    for raw in handle:
        consumed[0] += len(raw)
        yield raw.decode("utf-8", errors="replace")


def _csv_ranges(path: Path, rows_per_part: int) -> Iterator[tuple[int, int, int, int]]:
    consumed = [0]
    with path.open("rb") as handle:
        reader = csv.reader(_counted_lines(handle, consumed))
        try:
            next(reader)
        except StopIteration:
            yield 0, 0, 0, 0  # an empty file: its own part gets the scorer's clear error
            return
        except csv.Error:
            yield 0, 0, 0, 0  # a malformed header: likewise
            return
        header_end = start = consumed[0]
        rows = 0
        emitted = False
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error:  # the scorer reports the line; keep the rest in this part
                yield start, path.stat().st_size, header_end, rows
                return
            if row:
                rows += 1
            if rows >= rows_per_part:
                yield start, consumed[0], header_end, rows
                emitted = True
                start, rows = consumed[0], 0
        if rows or not emitted:
            yield start, consumed[0], header_end, rows


def _jsonl_ranges(path: Path, rows_per_part: int) -> Iterator[tuple[int, int, int, int]]:
    start = position = rows = 0
    emitted = False
    with path.open("rb") as handle:
        for raw in handle:
            position += len(raw)
            if raw.strip():
                rows += 1
            if rows >= rows_per_part:
                yield start, position, 0, rows
                emitted = True
                start, rows = position, 0
    if rows or not emitted:
        yield start, position, 0, rows


def _parquet_ranges(path: Path, rows_per_part: int) -> Iterator[tuple[int, int, int, int]]:
    import pyarrow.parquet as pq

    try:
        metadata = pq.ParquetFile(path).metadata
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise BatchInputError(f"{path}: not a readable Parquet file ({exc})") from exc
    start = rows = 0
    groups = metadata.num_row_groups
    for group in range(groups):
        rows += metadata.row_group(group).num_rows
        if rows >= rows_per_part:
            yield start, group + 1, 0, rows
            start, rows = group + 1, 0
    if start < groups or groups == 0:
        yield start, groups, 0, rows
