"""The `stance` command: a thin layer over the library that turns failures into clean messages."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from model.batch import default_jobs
from model.batch_files import STDIO, BatchInterrupted, default_output, score_file
from model.errors import ModelError
from model.store import ModelStore
from reports import cli as report_cli
from training.behaviour import DEFAULT_GATE, format_suite
from training.benchmark import BenchmarkDataError, format_tweeteval, run_tweeteval_stance
from training.dataset import DatasetError, load_labelled_csv
from training.evaluation import compare_models, evaluation_report, format_evaluation
from training.metrics import format_report
from training.profile import format_profiles, profile
from training.search import TrainingError
from training.train import (
    DEFAULT_CHALLENGE,
    DEFAULT_DATA,
    DEFAULT_DEV,
    DEFAULT_QUALITY_FLOOR,
    QualityFloorError,
    TrainConfig,
    behaviour_suite,
    evaluate_labelled,
    train,
)

EXIT_USAGE = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


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

    p = commands.add_parser("train", help="train a new model version and make it current")
    p.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="labelled CSV (default: the bundled corpus)"
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
        default=DEFAULT_QUALITY_FLOOR,
        help="minimum cross-validated stance macro-F1 to make the model current "
        f"(default: {DEFAULT_QUALITY_FLOOR})",
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

    p = commands.add_parser("evaluate", help="score a labelled CSV with the current model")
    p.add_argument(
        "--data", type=Path, required=True, help="labelled CSV (text, stance, sentiment)"
    )
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.add_argument(
        "--challenge",
        type=lambda value: Path(value) if value else "",  # '' skips it (Path('') is '.')
        default=DEFAULT_CHALLENGE,
        help="labelled hard cases reported separately (default: the bundled challenge set; "
        "--challenge '' to skip)",
    )
    p.add_argument("--version", default=None, help="model version (default: current)")
    _model_dir_option(p)

    p = commands.add_parser(
        "score",
        help="score a CSV or JSON Lines file of statements",
        description="Adds stance and sentiment columns to every row, in order; rows that cannot "
        "be scored keep their place with the reason in the `error` column.",
    )
    p.add_argument("input", help="CSV or .jsonl file, or - for stdin")
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
    _model_dir_option(p)

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

    p = commands.add_parser(
        "compare",
        help="compare two model versions on a labelled CSV (paired bootstrap)",
        description="Scores the same rows with both versions and reports each head's macro-F1, "
        "the difference B - A and its 95 %% paired-bootstrap interval.",
    )
    p.add_argument("a", help="model version A (the baseline)")
    p.add_argument("b", help="model version B (the candidate)")
    p.add_argument(
        "--data", type=Path, required=True, help="labelled CSV (text, stance, sentiment)"
    )
    p.add_argument("--samples", type=int, default=2000, help="bootstrap resamples (default: 2000)")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    _model_dir_option(p)

    p = commands.add_parser(
        "profile",
        help="the form of labelled sets side by side (speakers, length, NATO named, ...)",
    )
    p.add_argument("data", type=Path, nargs="+", help="labelled CSV files")
    p.add_argument("--json", action="store_true", help="print the profiles as one JSON object")

    p = commands.add_parser(
        "report",
        help="an HTML report of a scored file: who stands where, and how it moves over time",
    )
    report_cli.add_arguments(p)

    p = commands.add_parser("info", help="print the current model's metadata")
    p.add_argument("--version", default=None, help="model version (default: current)")
    _model_dir_option(p)
    return parser


def run_train(args: argparse.Namespace) -> int:
    challenge, dev = args.challenge, args.dev
    bundled = args.data.resolve() == DEFAULT_DATA
    if challenge is None and bundled and DEFAULT_CHALLENGE.exists():
        challenge = DEFAULT_CHALLENGE
    if dev is None and bundled and DEFAULT_DEV.exists():
        dev = DEFAULT_DEV
    config = TrainConfig(
        data=args.data,
        model_dir=args.model_dir,
        challenge=challenge,
        dev=dev,
        gate=None if args.no_gate else DEFAULT_GATE,
        quality_floor=args.quality_floor,
        folds=args.folds,
        seed=args.seed,
    )
    train(config)
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    quotes = load_labelled_csv(args.data)
    challenge_path = args.challenge if args.challenge and str(args.challenge) else None
    challenge = load_labelled_csv(challenge_path) if challenge_path else None
    model = ModelStore(args.model_dir).load(args.version)
    evaluation = evaluation_report(model, quotes)
    suite = behaviour_suite(model, None)
    report = {
        "model": model.version,
        "data": str(args.data),
        **evaluation,
        "behaviour": suite.as_dict(),
    }
    if challenge is not None:
        report["challenge"] = {
            "data": str(challenge_path),
            "metrics": evaluate_labelled(model, challenge),
        }
    if args.json:
        print(json.dumps(report))
        return 0
    print(format_evaluation(f"model {model.version} on {args.data}", evaluation))
    if challenge is not None:
        print(
            format_report(
                f"challenge set ({challenge_path}), never trained on",
                report["challenge"]["metrics"],
            )
        )
    print(format_suite(suite))
    return 0


def run_compare(args: argparse.Namespace) -> int:
    if args.samples < 100:
        print("stance compare: error: --samples must be at least 100", file=sys.stderr)
        return EXIT_USAGE
    quotes = load_labelled_csv(args.data)
    store = ModelStore(args.model_dir)
    a, b = store.load(args.a), store.load(args.b)
    result = compare_models(a, b, quotes, args.samples)
    if args.json:
        print(json.dumps({"a": a.version, "b": b.version, "data": str(args.data), **result}))
        return 0
    print(f"{args.data}: B = {b.version} against A = {a.version}, {len(quotes)} rows")
    for head, r in result.items():
        print(
            f"  {head:<10} macro-F1 A {r['a']:.3f}  B {r['b']:.3f}  B-A {r['delta']:+.3f} "
            f"[95 % {r['low']:+.3f}, {r['high']:+.3f}]  P(B not better) {r['p_not_better']:.3f}"
        )
    return 0


def run_profile(args: argparse.Namespace) -> int:
    profiles = {str(path): profile(load_labelled_csv(path)) for path in args.data}
    print(json.dumps(profiles) if args.json else format_profiles(profiles))
    return 0


def run_info(args: argparse.Namespace) -> int:
    print(json.dumps(ModelStore(args.model_dir).read_metadata(args.version), indent=2))
    return 0


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


def run_benchmark(args: argparse.Namespace) -> int:
    result = run_tweeteval_stance(args.data, split=args.split)
    print(format_tweeteval(result))
    if args.json:
        print(json.dumps(result))
    return 0


COMMANDS = {
    "train": run_train,
    "evaluate": run_evaluate,
    "score": run_score,
    "benchmark": run_benchmark,
    "compare": run_compare,
    "profile": run_profile,
    "info": run_info,
    "report": report_cli.run,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (DatasetError, ModelError, TrainingError, QualityFloorError, BenchmarkDataError) as exc:
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
