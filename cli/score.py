"""`stance score`: a CSV or JSON Lines file (or stdin) scored into a file (or stdout).

The streaming and the all-or-nothing output live in `model.batch_files`; this module owns
what belongs to a terminal: the progress bar's on/off, the summary line, a closed pipe.
"""

from __future__ import annotations

import argparse
import os
import sys

from cli.failures import EXIT_BROKEN_PIPE, EXIT_FAILED, EXIT_USAGE
from model.batch import default_jobs
from model.batch_files import STDIO, default_output, score_file
from model.store import ModelStore


def run_score(args: argparse.Namespace) -> int:
    jobs = args.jobs if args.jobs is not None else default_jobs()
    if jobs < 1 or args.chunk_rows < 1:
        print("stance score: error: --jobs and --chunk-rows must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    model = ModelStore(args.model_dir).load(args.version)
    show = not args.quiet
    try:
        result = score_file(
            model,
            args.input,
            args.output,
            args.text_column,
            args.prefix,
            args.explain,
            jobs,
            args.encoding,
            args.chunk_rows,
            progress=show and sys.stderr.isatty(),
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
    if show:
        print(result.summary_line(), file=sys.stderr)
    return 0
