"""The `stance` commands that train or measure a model; each imports `training` only when run,
so that `stance score` and `stance info` never load it."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable

from cli.failures import EXIT_USAGE, CommandFailed
from model.store import ModelStore

Run = Callable[[argparse.Namespace], int]


def reporting_training_errors(run: Run) -> Run:
    """Turn the expected failures of `training` into `CommandFailed`, imported only when run."""

    @functools.wraps(run)
    def wrapper(args: argparse.Namespace) -> int:
        from training.benchmark import BenchmarkDataError
        from training.corpus_comparison import ComparisonError
        from training.dataset import DatasetError
        from training.search import TrainingError
        from training.train import QualityFloorError

        try:
            return run(args)
        except (
            DatasetError,
            TrainingError,
            QualityFloorError,
            BenchmarkDataError,
            ComparisonError,
        ) as exc:
            raise CommandFailed(str(exc)) from exc

    return wrapper


@reporting_training_errors
def run_train(args: argparse.Namespace) -> int:
    from training import train as training
    from training.behaviour import DEFAULT_GATE

    data = training.DEFAULT_DATA if args.data is None else args.data
    challenge, dev = args.challenge, args.dev
    bundled = data.resolve() == training.DEFAULT_DATA
    if challenge is None and bundled and training.DEFAULT_CHALLENGE.exists():
        challenge = training.DEFAULT_CHALLENGE
    if dev is None and bundled and training.DEFAULT_DEV.exists():
        dev = training.DEFAULT_DEV
    floor = training.DEFAULT_QUALITY_FLOOR if args.quality_floor is None else args.quality_floor
    config = training.TrainConfig(
        data=data,
        model_dir=args.model_dir,
        challenge=challenge,
        dev=dev,
        gate=None if args.no_gate else DEFAULT_GATE,
        quality_floor=floor,
        folds=args.folds,
        seed=args.seed,
    )
    training.train(config)
    return 0


@reporting_training_errors
def run_evaluate(args: argparse.Namespace) -> int:
    from training.behaviour import format_suite
    from training.dataset import load_labelled_csv
    from training.evaluation import evaluation_report, format_evaluation
    from training.metrics import format_report
    from training.train import DEFAULT_CHALLENGE, behaviour_suite, evaluate_labelled

    quotes = load_labelled_csv(args.data)
    challenge_path = DEFAULT_CHALLENGE if args.challenge is None else args.challenge or None
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


@reporting_training_errors
def run_compare(args: argparse.Namespace) -> int:
    if args.samples < 100:
        print("stance compare: error: --samples must be at least 100", file=sys.stderr)
        return EXIT_USAGE
    from training.dataset import load_labelled_csv
    from training.evaluation import compare_models

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


@reporting_training_errors
def run_compare_corpora(args: argparse.Namespace) -> int:
    from training.corpus_comparison import compare_corpora, format_comparison
    from training.dataset import load_labelled_csv

    base, candidate = load_labelled_csv(args.a), load_labelled_csv(args.b)
    evaluations = {str(path): load_labelled_csv(path) for path in args.data}
    result = compare_corpora(
        base,
        candidate,
        evaluations,
        args.subsamples,
        args.fraction,
        progress=lambda line: print(f"stance compare-corpora: {line}", file=sys.stderr),
    )
    if args.json:
        print(json.dumps({"a": str(args.a), "b": str(args.b), **result}))
    else:
        print(format_comparison(str(args.a), str(args.b), result))
    return 0


@reporting_training_errors
def run_learning_curve(args: argparse.Namespace) -> int:
    from training.dataset import load_labelled_csv
    from training.learning_curve import DEFAULT_FRACTIONS, format_curve, learning_curve

    corpus = load_labelled_csv(args.corpus)
    evaluations = {str(path): load_labelled_csv(path) for path in args.data}
    result = learning_curve(
        corpus,
        evaluations,
        DEFAULT_FRACTIONS if args.fractions is None else args.fractions,
        args.subsamples,
        dict(args.target),
        progress=lambda line: print(f"stance learning-curve: {line}", file=sys.stderr),
    )
    if args.json:
        print(json.dumps({"corpus": str(args.corpus), **result}))
    else:
        print(format_curve(str(args.corpus), result))
    return 0


@reporting_training_errors
def run_profile(args: argparse.Namespace) -> int:
    from training.dataset import load_labelled_csv
    from training.profile import format_profiles, profile

    profiles = {str(path): profile(load_labelled_csv(path)) for path in args.data}
    print(json.dumps(profiles) if args.json else format_profiles(profiles))
    return 0


@reporting_training_errors
def run_benchmark(args: argparse.Namespace) -> int:
    from training.benchmark import format_tweeteval, run_tweeteval_stance

    result = run_tweeteval_stance(args.data, split=args.split)
    print(format_tweeteval(result))
    if args.json:
        print(json.dumps(result))
    return 0


def run_evaluate_articles(args: argparse.Namespace) -> int:
    from training.article_eval import evaluate_articles, format_report, load_gold

    articles = load_gold(args.data)
    if not articles:
        raise CommandFailed(f"no gold articles (*.json) in {args.data}")
    model = ModelStore(args.model_dir).load(args.version)
    report = evaluate_articles(model, articles)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report))
    return 0
