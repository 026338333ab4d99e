"""Two training corpora compared by the models they make: is a corpus change worth keeping?

One fit per corpus is a noisy measure of a corpus change: adding or dropping a hundred rows
moves the real-statement figures by +/-0.01 to 0.02 whatever the rows say. Here each corpus
trains several models, each on a subsample (the same rows left out of both corpora: a row's
place in subsample k depends only on its text and k), and every evaluation set is scored by
all of them. The figures reported are the means over subsamples, with the spread of the
paired differences, so a change is judged on what it does on average rather than on one fit.
"""

from __future__ import annotations

import statistics
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from model.classifier import StanceSentimentModel
from training.dataset import LabelledQuotes
from training.search import C_GRIDS
from training.train import evaluate_labelled

HEADS = ("stance", "sentiment")
# What cross-validation picks on the default corpus (README, "Benchmarks"): each grid's largest C.
DEFAULT_C = {head: max(grid) for head, grid in C_GRIDS.items()}


class ComparisonError(ValueError):
    """The comparison's options cannot give a measurement; the message says which and why."""


def in_subsample(text: str, k: int, fraction: float) -> bool:
    """Whether a row with this text is in subsample `k`: the same answer in every corpus."""
    bucket = zlib.crc32(f"{k}\x00{text}".encode()) % 10_000
    return bucket < round(fraction * 10_000)


def subsample(quotes: LabelledQuotes, k: int, fraction: float) -> tuple[list[str], ...]:
    """Texts, stance and sentiment labels of the rows in subsample `k`."""
    keep = [in_subsample(text, k, fraction) for text in quotes.texts]
    return tuple(
        [value for value, kept in zip(column, keep, strict=True) if kept]
        for column in (quotes.texts, quotes.stance, quotes.sentiment)
    )


def scores(model: StanceSentimentModel, evaluations: Mapping[str, LabelledQuotes]) -> dict:
    """Each evaluation set's macro-F1 per head: {set: {head: macro-F1}}."""
    out: dict[str, dict[str, float]] = {}
    for name, quotes in evaluations.items():
        metrics = evaluate_labelled(model, quotes)
        out[name] = {head: metrics[head]["macro_f1"] for head in HEADS}
    return out


def compare_corpora(
    base: LabelledQuotes,
    candidate: LabelledQuotes,
    evaluations: Mapping[str, LabelledQuotes],
    subsamples: int = 5,
    fraction: float = 0.9,
    params: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Mean macro-F1 of models trained on subsamples of `base` (A) and `candidate` (B).

    Per evaluation set and head: A's and B's mean over subsamples, the mean of the paired
    differences B - A, their standard deviation, and how many subsamples B won, tied and lost.
    `params` are the model's (default: the shipped settings with `DEFAULT_C`); `progress`, if
    given, is called with a line before each model is trained.
    """
    if subsamples < 2:
        raise ComparisonError("--subsamples must be at least 2 (the spread needs two)")
    if not 0.5 <= fraction < 1.0:
        raise ComparisonError("--fraction must be at least 0.5 and below 1")
    if not evaluations:
        raise ComparisonError("give at least one labelled set to score (--data)")
    settings = {"stance_C": DEFAULT_C["stance"], "sentiment_C": DEFAULT_C["sentiment"]}
    settings.update(params or {})
    runs: dict[str, list[dict]] = {"a": [], "b": []}
    for k in range(subsamples):
        for side, corpus in (("a", base), ("b", candidate)):
            if progress is not None:
                progress(f"subsample {k + 1} of {subsamples}: training on {side.upper()}")
            texts, stance, sentiment = subsample(corpus, k, fraction)
            check_subsample_labels(corpus.source, stance, sentiment)
            model = StanceSentimentModel(**settings).fit(texts, stance, sentiment, n_jobs=2)
            runs[side].append(scores(model, evaluations))
    return {
        "subsamples": subsamples,
        "fraction": fraction,
        "params": settings,
        "rows": {"a": len(base), "b": len(candidate)},
        "sets": {
            name: {head: _summary(runs, name, head) for head in HEADS} for name in evaluations
        },
    }


def check_subsample_labels(source: str, stance: Sequence[str], sentiment: Sequence[str]) -> None:
    """A `ComparisonError` when a subsample lacks two labels of a head (no model can be fitted)."""
    for head, labels in (("stance", stance), ("sentiment", sentiment)):
        if len(set(labels)) < 2:
            raise ComparisonError(
                f"{source}: a subsample has fewer than two {head} labels; use a corpus with "
                "more rows of each label, or a larger share of it"
            )


def _summary(runs: dict[str, list[dict]], name: str, head: str) -> dict[str, float]:
    a = [run[name][head] for run in runs["a"]]
    b = [run[name][head] for run in runs["b"]]
    deltas = [y - x for x, y in zip(a, b, strict=True)]
    return {
        "a": statistics.fmean(a),
        "b": statistics.fmean(b),
        "delta": statistics.fmean(deltas),
        "sd": statistics.stdev(deltas),
        "wins": sum(d > 0 for d in deltas),
        "ties": sum(d == 0 for d in deltas),
        "losses": sum(d < 0 for d in deltas),
    }


def format_comparison(base: str, candidate: str, result: dict[str, Any]) -> str:
    """The comparison as a readable table, one line per evaluation set and head."""
    lines = [
        f"B = {candidate} ({result['rows']['b']} rows) against A = {base} "
        f"({result['rows']['a']} rows): means over {result['subsamples']} subsamples of "
        f"{result['fraction']:.0%} of each corpus",
    ]
    for name, heads in result["sets"].items():
        lines.append(f"  {name}")
        for head, r in heads.items():
            lines.append(
                f"    {head:<10} macro-F1 A {r['a']:.3f}  B {r['b']:.3f}  "
                f"B-A {r['delta']:+.3f} (sd {r['sd']:.3f}; B better in {r['wins']}, "
                f"worse in {r['losses']} of {result['subsamples']})"
            )
    return "\n".join(lines)
