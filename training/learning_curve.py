"""A corpus's learning curve: how the models it makes score as it grows.

Before writing more rows of the kind a corpus already has, ask what more of them would buy.
Models are trained on nested shares of the corpus (a row's place in subsample k depends only
on its text and k, and a row in a smaller share of subsample k is in every larger one), every
evaluation set is scored by each, and the mean macro-F1 per share is fitted by a line in the
number of rows on a log scale: the slope is the gain per doubling of the corpus. With a target,
the same line says how many rows of this kind would reach it if the trend held, which is an
optimistic reading: curves of this kind flatten as they grow.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from model.classifier import StanceSentimentModel
from training.corpus_comparison import (
    DEFAULT_C,
    HEADS,
    ComparisonError,
    check_subsample_labels,
    scores,
    subsample,
)
from training.dataset import LabelledQuotes

DEFAULT_FRACTIONS = (0.125, 0.25, 0.5, 0.75, 1.0)


def check_fractions(fractions: Sequence[float]) -> list[float]:
    """The shares sorted and without repeats, or a `ComparisonError` saying what is wrong."""
    unique = sorted(set(fractions))
    for fraction in unique:
        if not 0.0 < fraction <= 1.0:
            raise ComparisonError(f"--fractions: {fraction:g} is not above 0 and at most 1")
    if len(unique) < 2:
        raise ComparisonError("--fractions needs at least two different shares to draw a curve")
    return unique


def log_line(rows: Sequence[float], values: Sequence[float]) -> tuple[float, float]:
    """(intercept, slope) of the least-squares line of `values` against log2(rows)."""
    xs = [math.log2(n) for n in rows]
    slope, intercept = statistics.linear_regression(xs, values)
    return intercept, slope


# Beyond 2**40 (about a trillion) rows an extrapolation means nothing; such targets are
# reported as out of reach, like those of a curve that does not rise.
MAX_DOUBLINGS = 40


def rows_for(target: float, intercept: float, slope: float) -> float | None:
    """Rows at which the line reaches `target`, or None when it does not rise or reaches it only
    beyond 2**MAX_DOUBLINGS rows."""
    if slope <= 0 or (target - intercept) / slope > MAX_DOUBLINGS:
        return None
    return 2 ** ((target - intercept) / slope)


def learning_curve(
    corpus: LabelledQuotes,
    evaluations: Mapping[str, LabelledQuotes],
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    subsamples: int = 3,
    targets: Mapping[str, float] | None = None,
    params: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Mean macro-F1 per head of models trained on each share of `corpus`.

    A share below 1 trains `subsamples` models (their mean and spread are reported); the whole
    corpus trains one. Per evaluation set and head: the points, the slope per doubling of the
    rows, and for each head in `targets` the rows the fitted line needs to reach the target.
    """
    shares = check_fractions(fractions)
    if subsamples < 1:
        raise ComparisonError("--subsamples must be at least 1")
    if not evaluations:
        raise ComparisonError("give at least one labelled set to score (--data)")
    for head, target in (targets or {}).items():
        if head not in HEADS or not 0.0 < target <= 1.0:
            raise ComparisonError(
                f"--target {head}={target:g}: name a head (stance or sentiment) and a "
                "macro-F1 above 0 and at most 1"
            )
    settings = {"stance_C": DEFAULT_C["stance"], "sentiment_C": DEFAULT_C["sentiment"]}
    settings.update(params or {})
    points = []
    for share in shares:
        runs, sizes = [], []
        repeats = 1 if share == 1.0 else subsamples
        for k in range(repeats):
            if progress is not None:
                progress(f"{share:.1%} of the corpus, model {k + 1} of {repeats}")
            texts, stance, sentiment = subsample(corpus, k, share)
            check_subsample_labels(corpus.source, stance, sentiment)
            model = StanceSentimentModel(**settings).fit(texts, stance, sentiment, n_jobs=2)
            runs.append(scores(model, evaluations))
            sizes.append(len(texts))
        points.append({"fraction": share, "rows": statistics.fmean(sizes), "runs": runs})
    return {
        "rows": len(corpus),
        "subsamples": subsamples,
        "params": settings,
        "sets": {
            name: {head: _curve(points, name, head, targets or {}) for head in HEADS}
            for name in evaluations
        },
    }


def _curve(
    points: list[dict[str, Any]], name: str, head: str, targets: Mapping[str, float]
) -> dict[str, Any]:
    curve = []
    for point in points:
        values = [run[name][head] for run in point["runs"]]
        curve.append(
            {
                "fraction": point["fraction"],
                "rows": point["rows"],
                "macro_f1": statistics.fmean(values),
                "sd": statistics.stdev(values) if len(values) > 1 else None,
                "models": len(values),
            }
        )
    intercept, slope = log_line([p["rows"] for p in curve], [p["macro_f1"] for p in curve])
    out: dict[str, Any] = {"points": curve, "per_doubling": slope}
    if head in targets:
        needed = rows_for(targets[head], intercept, slope)
        out["target"] = {"macro_f1": targets[head], "rows": needed}
    return out


def format_curve(corpus: str, result: dict[str, Any]) -> str:
    """The curve as a readable table: one line per evaluation set, head and share."""
    lines = [
        f"{corpus} ({result['rows']} rows): macro-F1 of models trained on shares of it "
        f"(shares below 100% averaged over {result['subsamples']} subsamples)"
    ]
    for name, heads in result["sets"].items():
        lines.append(f"  {name}")
        for head, curve in heads.items():
            cells = "  ".join(f"{p['rows']:.0f} rows {p['macro_f1']:.3f}" for p in curve["points"])
            lines.append(f"    {head:<10} {cells}")
            lines.append(f"    {'':<10} {curve['per_doubling']:+.3f} per doubling of the rows")
            if "target" in curve:
                lines.append(f"    {'':<10} {_target_line(curve['target'], result['rows'])}")
    return "\n".join(lines)


def _target_line(target: dict[str, Any], rows: int) -> str:
    goal = f"{target['macro_f1']:.3f}"
    if target["rows"] is None:
        return f"{goal}: out of reach of this trend (it does not rise, or only past 10^12 rows)"
    return (
        f"{goal}: about {target['rows']:,.0f} rows of this kind ({target['rows'] / rows:.1f}x "
        "the corpus) if the trend held"
    )
