"""Scoring a file (or stdin) into a file (or stdout) with the all-or-nothing output guarantee.

Output goes to a hidden temporary file in the target folder, fsynced and renamed into place
only when every row is written. An interrupted run (Ctrl-C, SIGTERM, full disk, bad row)
removes the temporary file, so no truncated file ever appears under the output name.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, Any

from model.batch import (
    DEFAULT_CHUNK_ROWS,
    BatchInputError,
    BatchSummary,
    decoded_lines,
    stream_scored_csv,
    stream_scored_jsonl,
)
from model.batch_parquet import is_parquet, write_scored_parquet

STDIO = "-"


class BatchInterrupted(Exception):
    """The run was stopped by a signal; nothing was written under the output name."""


@dataclass
class BatchResult:
    rows: int
    flagged: int
    seconds: float
    output: str

    def summary_line(self) -> str:
        rate = self.rows / self.seconds if self.seconds > 0 else 0.0
        return (
            f"scored {self.rows - self.flagged:,} of {self.rows:,} rows, flagged {self.flagged:,}, "
            f"in {self.seconds:.1f} s ({rate:,.0f} rows/s) -> {self.output}"
        )


def is_jsonl(name: str) -> bool:
    return name.lower().endswith((".jsonl", ".ndjson"))


def default_output(input_name: str) -> str:
    if input_name == STDIO:
        return STDIO
    path = Path(input_name)
    return str(path.with_name(f"{path.stem}.scored{path.suffix or '.csv'}"))


def _count_lines(path: Path) -> int | None:
    """Physical lines of a regular file (an upper bound on rows), for the progress bar."""
    try:
        total = 0
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                total += block.count(b"\n")
        return max(total - 1, 0)
    except OSError:
        return None


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into `BatchInterrupted` while a run is writing."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise BatchInterrupted(f"stopped by {signal.Signals(signum).name}")

    previous = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
            previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_output(target: str, binary: bool = False) -> Iterator[IO[Any]]:
    """A text (or `binary`) handle whose content appears under `target` only if the block
    completes."""
    if target == STDIO:
        yield sys.stdout
        sys.stdout.flush()
        return
    path = Path(target)
    if path.is_dir():
        raise BatchInputError(f"output {target} is a directory; give a file name")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise BatchInputError(f"output folder {folder} does not exist")
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=folder)
    try:
        # mkstemp makes the file private (0600); give it the mode any new file would get.
        os.fchmod(fd, 0o666 & ~_umask())
        mode = {"mode": "wb"} if binary else {"mode": "w", "encoding": "utf-8", "newline": ""}
        with os.fdopen(fd, **mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _open_input(name: str) -> IO[bytes]:
    if name == STDIO:
        return sys.stdin.buffer
    path = Path(name)
    if path.is_dir():
        raise BatchInputError(
            f"input {name} is a directory; give a CSV, JSON Lines or Parquet file"
        )
    try:
        return path.open("rb")
    except FileNotFoundError as exc:
        raise BatchInputError(f"input file {name} not found") from exc
    except PermissionError as exc:
        raise BatchInputError(f"input file {name} is not readable (permission denied)") from exc


def score_file(
    model: Any,
    input_name: str,
    output_name: str | None = None,
    text_column: str | None = None,
    prefix: str = "",
    explain: bool = False,
    jobs: int = 1,
    encoding: str = "utf-8",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: bool = False,
) -> BatchResult:
    """Score `input_name` (CSV, JSON Lines for .jsonl, Parquet for .parquet; `-` for stdin)
    into `output_name`."""
    output_name = output_name or default_output(input_name)
    if (
        output_name != STDIO
        and input_name != STDIO
        and Path(output_name).resolve() == Path(input_name).resolve()
    ):
        raise BatchInputError("the output file is the input file; choose another output name")
    if is_parquet(input_name) or is_parquet(output_name):
        return _score_parquet_file(
            model, input_name, output_name, text_column, prefix, explain, jobs, chunk_rows, progress
        )
    jsonl = is_jsonl(output_name if input_name == STDIO else input_name)
    started = time.perf_counter()
    summary = BatchSummary()
    bar = _progress_bar(input_name) if progress else None
    stream = stream_scored_jsonl if jsonl else stream_scored_csv
    source = _open_input(input_name)
    try:
        with _signals_raise(), atomic_output(output_name) as out:
            lines = decoded_lines(source, encoding)
            for piece in stream(
                model,
                lines,
                text_column,
                prefix,
                explain,
                jobs,
                chunk_rows,
                summary,
                on_rows=bar.update if bar is not None else None,
            ):
                out.write(piece)
    except KeyboardInterrupt as exc:
        raise BatchInterrupted("interrupted (Ctrl-C)") from exc
    finally:
        if bar is not None:
            bar.close()
        if source is not sys.stdin.buffer:
            source.close()
    return BatchResult(summary.rows, summary.flagged, time.perf_counter() - started, output_name)


def _score_parquet_file(
    model: Any,
    input_name: str,
    output_name: str,
    text_column: str | None,
    prefix: str,
    explain: bool,
    jobs: int,
    chunk_rows: int,
    progress: bool,
) -> BatchResult:
    """Parquet in, Parquet out (files only: Parquet needs to seek, so not stdin or stdout)."""
    if not (is_parquet(input_name) and is_parquet(output_name)):
        raise BatchInputError(
            "Parquet is scored into Parquet: give both the input and the output a .parquet name "
            f"(got {input_name} -> {output_name}); stdin and stdout are for CSV and JSON Lines"
        )
    started = time.perf_counter()
    summary = BatchSummary()
    bar = _progress_bar(input_name, _parquet_rows(input_name)) if progress else None
    source = _open_input(input_name)
    try:
        with _signals_raise(), atomic_output(output_name, binary=True) as out:
            write_scored_parquet(
                model,
                source,
                out,
                text_column,
                prefix,
                explain,
                jobs,
                chunk_rows,
                summary,
                on_rows=bar.update if bar is not None else None,
            )
    except KeyboardInterrupt as exc:
        raise BatchInterrupted("interrupted (Ctrl-C)") from exc
    finally:
        if bar is not None:
            bar.close()
        source.close()
    return BatchResult(summary.rows, summary.flagged, time.perf_counter() - started, output_name)


def _parquet_rows(name: str) -> int | None:
    try:
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(name).metadata.num_rows)
    except Exception:  # the scorer itself reports an unreadable file
        return None


def _progress_bar(input_name: str, total: int | None = None) -> Any:
    from tqdm import tqdm

    if total is None and input_name != STDIO:
        total = _count_lines(Path(input_name))
    return tqdm(
        total=total,
        unit=" rows",
        unit_scale=True,
        dynamic_ncols=True,
        file=sys.stderr,
        mininterval=0.5,
    )
