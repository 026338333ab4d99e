"""`stance report`: its options and the thin layer that turns failures into one-line errors.

Importing this module is cheap: matplotlib and the rest load inside `run`, so the other
`stance` commands never pay for them.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from reports.dates import AUTO, FREQUENCIES, DateFormatError, Period, parse_period
from reports.errors import ReportError

EXIT_FAILED = 1
COMPARE_EXAMPLES = "e.g. 2021:2023, 2022-Q1:2024-Q1 or 2022-06:2024-06"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `stance report`, added to its subparser."""
    parser.add_argument(
        "scored",
        type=Path,
        help="the output of `stance score`: CSV, JSON Lines, Parquet, or a folder of such parts",
    )
    parser.add_argument(
        "-o", "--output", type=Path, default=None, help="HTML file (default: SCORED.report.html)"
    )
    parser.add_argument(
        "--by",
        default=None,
        metavar="COLUMN",
        help="column to group by: speaker, speaker_role, country, outlet... "
        "(default: speaker, if the file has it)",
    )
    parser.add_argument(
        "--date-column",
        default=None,
        metavar="COLUMN",
        help="column holding the dates (default: date, if the file has it)",
    )
    parser.add_argument(
        "--freq",
        choices=(AUTO, *FREQUENCIES),
        default=AUTO,
        help="period of the charts over time (default: auto: months up to 3 years of dates, "
        "quarters up to 10, years beyond)",
    )
    parser.add_argument(
        "--min-n",
        type=int,
        default=5,
        help="groups with fewer statements are pooled as 'other', and movers need this many "
        "in each period (default: 5)",
    )
    parser.add_argument(
        "--compare",
        default=None,
        metavar="FROM:TO",
        help=f"the biggest movers between two periods, {COMPARE_EXAMPLES}",
    )
    parser.add_argument(
        "--text-column",
        default=None,
        metavar="COLUMN",
        help="column holding the statements (default: the first of text, quote, statement)",
    )
    parser.add_argument(
        "--review",
        type=int,
        default=20,
        help="how many of the least certain statements to list (default: 20)",
    )
    parser.add_argument(
        "--json", action="store_true", help="also print the report's tables as JSON on stdout"
    )
    parser.add_argument(
        "--png", type=Path, default=None, metavar="DIR", help="also write each chart as DIR/*.png"
    )
    parser.add_argument(
        "--model-dir",
        type=Path,
        default=None,
        help="model directory whose current model's version and measured quality go into the "
        "report's note (default: none; the scored file does not say which model made it)",
    )


def parse_compare(text: str) -> tuple[Period, Period]:
    """FROM:TO as two periods, the first before the second."""
    sides = text.split(":")
    if len(sides) != 2:
        raise ReportError(f"--compare {text}: give two periods as FROM:TO, {COMPARE_EXAMPLES}")
    try:
        first, second = parse_period(sides[0]), parse_period(sides[1])
    except DateFormatError as exc:
        raise ReportError(
            f"--compare {text}: {exc}; give two periods as FROM:TO, {COMPARE_EXAMPLES}"
        ) from None
    if first.overlaps(second):
        raise ReportError(f"--compare {text}: the two periods overlap; give two separate ones")
    if second.start < first.start:
        raise ReportError(f"--compare {text}: FROM comes after TO; give the earlier period first")
    return first, second


def default_output(scored: Path) -> Path:
    """report.csv -> report.report.html beside it; a folder of parts -> folder.report.html."""
    base = scored.name if scored.is_dir() else scored.stem
    return scored.resolve().parent / f"{base}.report.html"


def _check_output(path: Path) -> None:
    if path.is_dir():
        raise ReportError(f"-o {path} is a folder; give the name of the HTML file to write")
    if not path.parent.is_dir():
        raise ReportError(f"-o {path}: the folder {path.parent} does not exist; create it first")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that no partial file ever appears under that name."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp's 0600 is for secrets, not reports
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _metadata(model_dir: Path | None) -> dict[str, Any] | None:
    if model_dir is None:
        return None
    from model.errors import ModelError
    from model.store import ModelStore

    try:
        return ModelStore(model_dir).read_metadata()
    except ModelError as exc:
        raise ReportError(f"--model-dir {model_dir}: {exc}") from None


def _report(args: argparse.Namespace) -> int:
    if args.min_n < 1:
        raise ReportError(f"--min-n {args.min_n}: give at least 1")
    if args.review < 0:
        raise ReportError(f"--review {args.review}: give 0 or more")
    compare = parse_compare(args.compare) if args.compare is not None else None
    output = args.output or default_output(args.scored)
    _check_output(output)
    if args.png is not None and args.png.exists() and not args.png.is_dir():
        raise ReportError(f"--png {args.png} is a file; give a folder for the PNG files")
    metadata = _metadata(args.model_dir)

    from reports.charts import charts_for, png_bytes, title_of
    from reports.html import render_html
    from reports.scored import read_scored
    from reports.tables import ReportOptions, build_report

    scored = read_scored(args.scored, args.by, args.date_column, args.text_column)
    options = ReportOptions(freq=args.freq, min_n=args.min_n, compare=compare, review=args.review)
    report = build_report(scored, options, metadata)
    images = {}
    for name, figure in charts_for(report).items():
        images[name] = (title_of(figure), png_bytes(figure))
    try:
        if args.png is not None:
            args.png.mkdir(parents=True, exist_ok=True)
            for name, (_, png) in images.items():
                _write_atomically(args.png / f"{name}.png", png)
        generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        page = render_html(report, images, generated)
        _write_atomically(output, page.encode("utf-8"))
    except OSError as exc:
        raise ReportError(
            f"cannot write the report ({exc.strerror or exc}: {exc.filename})"
        ) from None
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    rows = report["rows"]
    notes = []
    if rows["with_error"]:
        notes.append(f"{rows['with_error']:,} rows with errors not used")
    if report["dates"] and (report["dates"]["bad"] or report["dates"]["missing"]):
        notes.append(
            f"{report['dates']['bad']:,} bad and {report['dates']['missing']:,} missing dates"
        )
    extra = f" ({'; '.join(notes)})" if notes else ""
    print(
        f"stance report: {rows['scored']:,} statements, {len(images)} charts -> {output}{extra}",
        file=sys.stderr,
    )
    return 0


def run(args: argparse.Namespace) -> int:
    """`stance report`: 0 on success; a one-line error and 1 for any input it cannot use."""
    try:
        return _report(args)
    except ReportError as exc:
        print(f"stance report: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
