"""Scoring a file (or stdin) into a file (or stdout) with the all-or-nothing output guarantee.

Output goes to a hidden temporary file in the target folder, fsynced and renamed into place
only when every row is written. A run that stops for any reason (an exception, or the signal
the command line turns into one, a full disk, a bad row) removes the temporary file, so no
truncated file ever appears under the output name. Progress bars and signals belong to the
command line (`cli.score`), which passes `on_rows`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from model.batch import BatchInputError, BatchOptions, BatchSummary, decoded_lines
from model.batch_formats import format_of, stream_scored
from model.batch_parquet import is_parquet, write_scored_parquet

STDIO = "-"


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


def default_output(input_name: str) -> str:
    if input_name == STDIO:
        return STDIO
    path = Path(input_name)
    return str(path.with_name(f"{path.stem}.scored{path.suffix or '.csv'}"))


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
    options: BatchOptions | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> BatchResult:
    """Score `input_name` (CSV; JSON Lines for .jsonl; Parquet for .parquet; `-` for stdin)
    into `output_name` (by default beside the input). `on_rows(n)` follows the progress."""
    options = options or BatchOptions()
    output_name = output_name or default_output(input_name)
    if (
        output_name != STDIO
        and input_name != STDIO
        and Path(output_name).resolve() == Path(input_name).resolve()
    ):
        raise BatchInputError("the output file is the input file; choose another output name")
    started = time.perf_counter()
    summary = BatchSummary()
    if is_parquet(input_name) or is_parquet(output_name):
        _score_parquet_file(model, input_name, output_name, options, summary, on_rows)
    else:
        fmt = format_of(output_name if input_name == STDIO else input_name)
        source = _open_input(input_name)
        try:
            with atomic_output(output_name) as out:
                lines = decoded_lines(source, options.encoding)
                for piece in stream_scored(model, lines, fmt, options, summary, on_rows):
                    out.write(piece)
        finally:
            if source is not sys.stdin.buffer:
                source.close()
    return BatchResult(summary.rows, summary.flagged, time.perf_counter() - started, output_name)


def _score_parquet_file(
    model: Any,
    input_name: str,
    output_name: str,
    options: BatchOptions,
    summary: BatchSummary,
    on_rows: Callable[[int], None] | None,
) -> None:
    """Parquet in, Parquet out (files only: Parquet needs to seek, so not stdin or stdout)."""
    if not (is_parquet(input_name) and is_parquet(output_name)):
        raise BatchInputError(
            "Parquet is scored into Parquet: give both the input and the output a .parquet name "
            f"(got {input_name} -> {output_name}); stdin and stdout are for CSV and JSON Lines"
        )
    with _open_input(input_name) as source, atomic_output(output_name, binary=True) as out:
        write_scored_parquet(model, source, out, options, summary, on_rows)
