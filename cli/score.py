"""`stance score`: a CSV, JSON Lines or Parquet file (or stdin) scored into a file (or stdout).

The streaming and the all-or-nothing output live in `model.batch_files`; this module owns
what belongs to a terminal and a process: the progress bar, the summary line, a closed pipe,
and the signals (SIGTERM, SIGHUP, Ctrl-C) that stop a run without leaving a partial file.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from cli.failures import EXIT_BROKEN_PIPE, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE
from model.batch import BatchOptions, default_jobs
from model.batch_articles import score_articles_file
from model.batch_files import STDIO, default_output, score_file
from model.batch_parquet import is_parquet
from model.errors import BatchInterrupted
from model.store import ModelStore


def batch_options(args: argparse.Namespace, jobs: int) -> BatchOptions:
    """The scoring options given on the command line."""
    return BatchOptions(
        text_column=args.text_column,
        prefix=args.prefix,
        explain=args.explain,
        jobs=jobs,
        chunk_rows=args.chunk_rows,
        encoding=args.encoding,
    )


def run_score(args: argparse.Namespace) -> int:
    jobs = args.jobs if args.jobs is not None else default_jobs()
    if jobs < 1 or args.chunk_rows < 1:
        print("stance score: error: --jobs and --chunk-rows must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    if args.dask:
        return _run_on_dask(args)
    if args.articles:
        return _run_on_articles(args)
    model = ModelStore(args.model_dir).load(args.version)
    show = not args.quiet
    options = batch_options(args, jobs)
    bar = _progress_bar(args.input) if show and sys.stderr.isatty() else None
    try:
        with interrupts_raise():
            result = score_file(
                model,
                args.input,
                args.output,
                options,
                on_rows=bar.update if bar is not None else None,
            )
    except BrokenPipeError:  # `stance score x.csv -o - | head`: the reader stopped, so do we
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OSError as exc:
        if args.output == STDIO:
            print(
                f"stance score: error: {exc.strerror or exc} while writing to stdout; "
                "the output is incomplete",
                file=sys.stderr,
            )
        else:
            target = args.output or default_output(args.input)
            print(
                f"stance score: error: {exc.strerror or exc} while writing; "
                f"nothing was written under {target}",
                file=sys.stderr,
            )
        return EXIT_FAILED
    finally:
        if bar is not None:
            bar.close()
    if show:
        print(result.summary_line(), file=sys.stderr)
    return 0


@contextlib.contextmanager
def interrupts_raise() -> Iterator[None]:
    """Turn SIGTERM, SIGHUP and Ctrl-C into `BatchInterrupted` while a run is writing, so that
    the output's temporary file is removed on the way out."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise BatchInterrupted(f"stopped by {signal.Signals(signum).name}")

    previous = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
            previous[sig] = signal.signal(sig, handler)
    try:
        yield
    except KeyboardInterrupt as exc:
        raise BatchInterrupted("interrupted (Ctrl-C)") from exc
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _progress_bar(input_name: str) -> Any:
    from tqdm import tqdm

    total = None
    if input_name != STDIO:
        total = _parquet_rows(input_name) if is_parquet(input_name) else _count_lines(input_name)
    return tqdm(
        total=total,
        unit=" rows",
        unit_scale=True,
        dynamic_ncols=True,
        file=sys.stderr,
        mininterval=0.5,
    )


def _count_lines(name: str) -> int | None:
    """Physical lines of a regular file (an upper bound on rows), for the progress bar."""
    try:
        total = 0
        with Path(name).open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                total += block.count(b"\n")
        return max(total - 1, 0)
    except OSError:
        return None


def _parquet_rows(name: str) -> int | None:
    try:
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(name).metadata.num_rows)
    except Exception:  # the scorer itself reports an unreadable file
        return None


def _run_on_dask(args: argparse.Namespace) -> int:
    """`--dask`: the partitions go to a cluster; the output is a directory of parts."""
    if not args.output or args.output == STDIO:
        print(
            "stance score: error: --dask writes a directory of parts: name it with -o DIR",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
        print("stance score: error: --dask reads UTF-8 input only", file=sys.stderr)
        return EXIT_USAGE
    if importlib.util.find_spec("distributed") is None:
        print(
            "stance score: error: --dask needs dask and distributed: "
            "pip install 'ukraine-nato-stance[dask]' (make install does)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    from scaleout.run import score_on_dask

    show = not args.quiet
    try:
        result = score_on_dask(
            args.input,
            args.output,
            args.dask,
            model_dir=args.model_dir,
            model_version=args.version,
            options=batch_options(args, jobs=1),
            partition_rows=args.partition_rows,
            progress=show and sys.stderr.isatty(),
            say=(lambda line: print(line, file=sys.stderr)) if show else (lambda line: None),
        )
    except BatchInterrupted as exc:
        print(f"stance score: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if show:
        print(result.summary_line(), file=sys.stderr)
    return 0


def _run_on_articles(args: argparse.Namespace) -> int:
    """`--articles`: one output row per statement of each article."""
    if args.explain or args.prefix:
        print(
            "stance score: error: --articles writes its own columns; drop --explain and --prefix",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if is_parquet(args.input) or (args.output and is_parquet(args.output)):
        print("stance score: error: --articles reads and writes CSV or JSON Lines", file=sys.stderr)
        return EXIT_USAGE
    model = ModelStore(args.model_dir).load(args.version)
    output = args.output or default_output(args.input)
    result = score_articles_file(model, args.input, output, args.text_column, args.encoding)
    if not args.quiet:
        print(result.summary_line().replace(" rows", " statements"), file=sys.stderr)
    return 0
