"""The `stance` command line: the parser and the dispatch to one module per command.

`score` and `info` import only `model/`; the training commands import `training/` when run,
and `report` imports its charts when run (see `reports.cli`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cli.article import run_article
from cli.failures import EXIT_FAILED, EXIT_INTERRUPTED, CommandFailed
from cli.info import run_info
from cli.score import run_score
from cli.training_commands import (
    run_benchmark,
    run_compare,
    run_compare_corpora,
    run_evaluate,
    run_evaluate_articles,
    run_learning_curve,
    run_profile,
    run_train,
)
from model.errors import BatchInterrupted, ModelError, command_line_spelling
from reports import cli as report_cli


def _model_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model-dir",
        type=Path,
        default=None,
        help="model directory (default: $STANCE_MODEL_DIR or model/artifacts)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stance",
        description="Stance and sentiment of statements on Ukraine's NATO accession.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_command in (
        _add_train,
        _add_evaluate,
        _add_score,
        _add_evaluate_articles,
        _add_article,
        _add_benchmark,
        _add_compare,
        _add_compare_corpora,
        _add_learning_curve,
        _add_profile,
        _add_report,
        _add_info,
    ):
        add_command(commands)
    return parser


def _add_train(commands: Any) -> None:
    p = commands.add_parser("train", help="train a new model version and make it current")
    p.add_argument(
        "--data", type=Path, default=None, help="labelled CSV (default: the bundled corpus)"
    )
    p.add_argument(
        "--out",
        "--model-dir",
        dest="model_dir",
        type=Path,
        default=None,
        help="model directory to write the version into (default: model/artifacts)",
    )
    p.add_argument(
        "--challenge",
        type=lambda value: Path(value) if value else "",  # '' skips it (Path('') is '.')
        default=None,
        help="labelled CSV evaluated after training, never trained on "
        "(default: the bundled challenge set when training on the bundled corpus)",
    )
    p.add_argument(
        "--quality-floor",
        type=float,
        default=None,
        help="minimum cross-validated stance macro-F1 to make the model current "
        "(default: DEFAULT_QUALITY_FLOOR of training/train.py)",
    )
    p.add_argument(
        "--dev",
        type=Path,
        default=None,
        help="labelled real statements reported beside the cross-validated figures, never "
        "trained on (default: ../shared/benchmarks/real-statements/dev.csv when training on "
        "the bundled corpus and the file exists)",
    )
    p.add_argument(
        "--no-gate",
        action="store_true",
        help="make the model current even if it fails the behavioural tests (for a model of "
        "another question; the tests still run and are reported)",
    )
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (default: 5)")
    p.add_argument("--seed", type=int, default=0, help="random seed for the folds (default: 0)")


def _add_evaluate(commands: Any) -> None:
    p = commands.add_parser("evaluate", help="score a labelled CSV with the current model")
    p.add_argument(
        "--data", type=Path, required=True, help="labelled CSV (text, stance, sentiment)"
    )
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.add_argument(
        "--challenge",
        type=lambda value: Path(value) if value else "",  # '' skips it (Path('') is '.')
        default=None,
        help="labelled hard cases reported separately (default: the bundled challenge set; "
        "--challenge '' to skip)",
    )
    p.add_argument("--version", default=None, help="model version (default: current)")
    _model_dir_option(p)


def _add_score(commands: Any) -> None:
    p = commands.add_parser(
        "score",
        help="score a CSV, JSON Lines or Parquet file of statements",
        description="Adds stance and sentiment columns to every row, in order; rows that cannot "
        "be scored keep their place with the reason in the `error` column.",
    )
    p.add_argument("input", help="CSV, .jsonl or .parquet file, or - for stdin (CSV or JSON Lines)")
    p.add_argument(
        "-o",
        "--output",
        default=None,
        help="output file, or - for stdout (default: INPUT with .scored before the suffix)",
    )
    p.add_argument(
        "--text-column",
        default=None,
        help="column holding the statement (default: the first of text, quote, statement)",
    )
    p.add_argument(
        "--prefix", default="", help="prefix for the added column names, to avoid collisions"
    )
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument("--explain", action="store_true", help="add the top features of each decision")
    p.add_argument(
        "--encoding", default="utf-8", help="input encoding (default: utf-8, BOM allowed)"
    )
    p.add_argument("--chunk-rows", type=int, default=2000, help="rows per chunk (default: 2000)")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary line")
    p.add_argument("--version", default=None, help="model version (default: current)")
    p.add_argument(
        "--articles",
        action="store_true",
        help="INPUT holds news articles (an id and a text column): write one row per statement "
        "found (article_id, speaker, role, kind, start, end, text, then the scoring columns)",
    )
    p.add_argument(
        "--dask",
        metavar="SCHEDULER",
        default=None,
        help="score on a Dask cluster: `local` (one worker process per core) or a scheduler "
        "address such as tcp://host:8786; INPUT may then be a file, a directory or a glob, and "
        "-o names a directory that receives part-NNNNN files and _SUCCESS last",
    )
    p.add_argument(
        "--partition-rows",
        type=int,
        default=100_000,
        help="with --dask: rows per partition, one output part each (default: 100000)",
    )
    _model_dir_option(p)


def _add_evaluate_articles(commands: Any) -> None:
    p = commands.add_parser(
        "evaluate-articles",
        help="measure article mode on gold articles (statements, speakers, stances)",
        description="Statement precision and recall (span overlap >= 50 %), speaker and kind "
        "accuracy on matched statements, and statement and per-speaker stance accuracy, on the "
        "gold articles (training/data/articles/).",
    )
    p.add_argument(
        "--data",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "training" / "data" / "articles",
        help="folder of gold article JSON files (default: training/data/articles)",
    )
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.add_argument("--version", default=None, help="model version (default: current)")
    _model_dir_option(p)


def _add_article(commands: Any) -> None:
    p = commands.add_parser(
        "article",
        help="find who said what in news articles and score each statement",
        description="Finds direct quotes, indirect speech and narration in each article (plain "
        "text or HTML), names the speaker and role of each statement, and scores it.",
    )
    p.add_argument("files", nargs="+", help="article files (.txt or .html), or - for stdin")
    p.add_argument("--json", action="store_true", help="one JSON object, as POST /v1/articles")
    p.add_argument("--version", default=None, help="model version (default: current)")
    _model_dir_option(p)


def _add_benchmark(commands: Any) -> None:
    p = commands.add_parser(
        "benchmark",
        help="measure the training pipeline on public benchmark data",
        description="Trains one model per TweetEval stance target with the project's own "
        "training code and reports per-target F1 and the official F_avg.",
    )
    p.add_argument(
        "suite", choices=["tweeteval"], help="the benchmark (tweeteval: SemEval-2016 stance)"
    )
    p.add_argument(
        "--data",
        type=Path,
        required=True,
        help="folder in the TweetEval stance layout: <target>/{train,val,test}_{text,labels}.txt",
    )
    p.add_argument(
        "--split",
        choices=["val", "test"],
        default="val",
        help="val: train on train, score val; test: train on train+val, score test (default: val)",
    )
    p.add_argument(
        "--json", action="store_true", help="end with one JSON object (f_avg, per_target, ...)"
    )


def _add_compare(commands: Any) -> None:
    p = commands.add_parser(
        "compare",
        help="compare two model versions on a labelled CSV (paired bootstrap)",
        description="Scores the same rows with both versions and reports each head's macro-F1, "
        "the difference B - A and its 95 % paired-bootstrap interval.",
    )
    p.add_argument("a", help="model version A (the baseline)")
    p.add_argument("b", help="model version B (the candidate)")
    p.add_argument(
        "--data", type=Path, required=True, help="labelled CSV (text, stance, sentiment)"
    )
    p.add_argument("--samples", type=int, default=2000, help="bootstrap resamples (default: 2000)")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    _model_dir_option(p)


def _scored_sets_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        type=Path,
        action="append",
        required=True,
        help="labelled CSV to score (text, stance, sentiment); repeat for several sets",
    )


def _add_compare_corpora(commands: Any) -> None:
    p = commands.add_parser(
        "compare-corpora",
        help="compare two training corpora by the models they make (means over subsamples)",
        description="Trains models on subsamples of both corpora (the same rows left out of "
        "each), scores every --data set with all of them and reports each head's mean "
        "macro-F1, the mean difference B - A and its spread over subsamples. One fit per "
        "corpus is too noisy to judge a corpus change of a few hundred rows.",
    )
    p.add_argument("a", type=Path, help="labelled CSV of corpus A (the baseline)")
    p.add_argument("b", type=Path, help="labelled CSV of corpus B (the candidate)")
    _scored_sets_option(p)
    p.add_argument(
        "--subsamples", type=int, default=5, help="models per corpus (default: 5, at least 2)"
    )
    p.add_argument(
        "--fraction",
        type=float,
        default=0.9,
        help="share of each corpus in a subsample, 0.5 to below 1 (default: 0.9)",
    )
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")


def _shares(value: str) -> list[float]:
    """`--fractions`: comma-separated shares of the corpus, such as 0.25,0.5,1."""
    try:
        return [float(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a comma-separated list of numbers, such as 0.25,0.5,1"
        ) from None


def _target(value: str) -> tuple[str, float]:
    """`--target`: HEAD=MACRO_F1, such as stance=0.75."""
    head, _, number = value.partition("=")
    try:
        return head.strip(), float(number)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not HEAD=MACRO_F1, such as stance=0.75"
        ) from None


def _add_learning_curve(commands: Any) -> None:
    p = commands.add_parser(
        "learning-curve",
        help="how a corpus's models score as it grows: the gain per doubling of its rows",
        description="Trains models on nested shares of the corpus, scores every --data set "
        "with each and reports each head's mean macro-F1 per share, the gain per doubling of "
        "the rows (a line fitted on a log scale) and, with --target, how many rows of this "
        "kind that line needs to reach a figure.",
    )
    p.add_argument("corpus", type=Path, help="labelled CSV of the training corpus")
    _scored_sets_option(p)
    p.add_argument(
        "--fractions",
        type=_shares,
        default=None,
        help="comma-separated shares of the corpus (default: 0.125,0.25,0.5,0.75,1)",
    )
    p.add_argument(
        "--subsamples",
        type=int,
        default=3,
        help="models per share below 1 (default: 3); the whole corpus trains one",
    )
    p.add_argument(
        "--target",
        type=_target,
        action="append",
        default=[],
        metavar="HEAD=MACRO_F1",
        help="also say how many rows reach this figure, such as stance=0.75; repeatable",
    )
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")


def _add_profile(commands: Any) -> None:
    p = commands.add_parser(
        "profile",
        help="the form of labelled sets side by side (speakers, length, NATO named, ...)",
    )
    p.add_argument("data", type=Path, nargs="+", help="labelled CSV files")
    p.add_argument("--json", action="store_true", help="print the profiles as one JSON object")


def _add_report(commands: Any) -> None:
    p = commands.add_parser(
        "report",
        help="an HTML report of a scored file: who stands where, and how it moves over time",
    )
    report_cli.add_arguments(p)


def _add_info(commands: Any) -> None:
    p = commands.add_parser("info", help="print the current model's metadata")
    p.add_argument("--version", default=None, help="model version (default: current)")
    _model_dir_option(p)


COMMANDS = {
    "train": run_train,
    "evaluate": run_evaluate,
    "score": run_score,
    "benchmark": run_benchmark,
    "compare": run_compare,
    "compare-corpora": run_compare_corpora,
    "learning-curve": run_learning_curve,
    "profile": run_profile,
    "info": run_info,
    "report": report_cli.run,
    "article": run_article,
    "evaluate-articles": run_evaluate_articles,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ModelError as exc:
        message = exc.render(command_line_spelling)
        print(f"stance {args.command}: error: {message}", file=sys.stderr)
        return EXIT_FAILED
    except CommandFailed as exc:
        print(f"stance {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except BatchInterrupted as exc:
        print(f"stance {args.command}: {exc}; no output file was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print(f"stance {args.command}: interrupted; nothing was changed", file=sys.stderr)
        return EXIT_INTERRUPTED


def console() -> None:
    """Entry point of the `stance` console script."""
    sys.exit(main())
