"""Public benchmarks: TweetEval stance (SemEval-2016 Task 6) and TweetEval sentiment.

Stance is trained with the project's own code, one model per target as in the SemEval
setting: the same text features and the same cross-validated search of C and temperature
(`training.search.cross_validate`, stance head only) that `stance train` uses, on `train` to
score `val`, or on `train` + `val` to score `test`. Labels map favor -> support,
against -> oppose, none -> neutral. The official figure, F_avg, is the mean of the F1 of
against and of favor over the predictions of all targets pooled, in percent.

Sentiment compares a trained model's sentiment head with VADER alone by macro-averaged recall.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import recall_score

from model.classifier import StanceSentimentModel, fit_head, head_logits
from model.decoding import decoded_lines
from model.errors import BatchInputError
from model.features import TextFeatures
from model.labels import SENTIMENT_LABELS, STANCE_LABELS
from training.metrics import head_metrics
from training.search import cross_validate

STANCE_TARGETS: tuple[str, ...] = ("abortion", "atheism", "climate", "feminist", "hillary")
# Index = the integer label in the files; value = the project's label.
STANCE_FILE_LABELS: tuple[tuple[str, str], ...] = (
    ("none", "neutral"),
    ("against", "oppose"),
    ("favor", "support"),
)
SENTIMENT_FILE_LABELS: tuple[tuple[str, str], ...] = (
    ("negative", "negative"),
    ("neutral", "neutral"),
    ("positive", "positive"),
)
SPLITS: tuple[str, ...] = ("train", "val", "test")
SCORED_SPLITS: tuple[str, ...] = ("val", "test")
VADER_THRESHOLD = 0.05
# Published TweetEval test-split figures (../shared/benchmarks/README.md), for reference only.
PUBLISHED_STANCE_TEST = {
    "SemEval-2016 organisers' SVM-ngrams": 68.98,
    "BERTweet": 71.2,
    "TimeLMs-2021": 72.9,
}


class BenchmarkDataError(Exception):
    """A benchmark folder or file is missing or malformed; the message names file and line."""


@dataclass(frozen=True)
class LabelledLines:
    """One split of one benchmark folder: parallel texts and project labels."""

    texts: list[str]
    labels: list[str]

    def __len__(self) -> int:
        return len(self.texts)

    def __add__(self, other: LabelledLines) -> LabelledLines:
        return LabelledLines(self.texts + other.texts, self.labels + other.labels)


def _read_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 file, split on `\\n` only (tweets may hold other line separators)."""
    if not path.is_file():
        raise BenchmarkDataError(f"{path}: file not found")

    def undecodable(line: int, column: int) -> None:
        raise BenchmarkDataError(f"{path}, line {line}: not valid UTF-8 (column {column})")

    try:
        with path.open("rb") as handle:
            lines = list(decoded_lines(handle, "utf-8", on_undecodable=undecodable))
    except BatchInputError as error:
        raise BenchmarkDataError(f"{path}: {error}") from None
    return [line.removesuffix("\n").removesuffix("\r") for line in lines]


def read_labelled_lines(
    text_path: Path, labels_path: Path, file_labels: Sequence[tuple[str, str]]
) -> LabelledLines:
    """Texts and labels from a pair of one-item-per-line files of the TweetEval layout.

    `file_labels[i]` is (name in the mapping file, project label) of the integer label `i`.
    """
    texts = _read_lines(text_path)
    raw_labels = _read_lines(labels_path)
    if len(texts) != len(raw_labels):
        raise BenchmarkDataError(
            f"{text_path} has {len(texts)} lines but {labels_path} has {len(raw_labels)}; "
            "they must match line for line"
        )
    known = {str(i): project for i, (_, project) in enumerate(file_labels)}
    labels = []
    for number, value in enumerate(raw_labels, start=1):
        label = known.get(value.strip())
        if label is None:
            expected = ", ".join(f"{i} {name}" for i, (name, _) in enumerate(file_labels))
            raise BenchmarkDataError(
                f"{labels_path}, line {number}: unknown label {value!r} (expected {expected})"
            )
        labels.append(label)
    return LabelledLines(texts, labels)


def stance_targets(data_dir: Path | str) -> list[str]:
    """The known TweetEval stance targets that have a folder in `data_dir`, in fixed order."""
    root = Path(data_dir)
    if not root.is_dir():
        raise BenchmarkDataError(f"{root}: folder not found")
    present = [target for target in STANCE_TARGETS if (root / target).is_dir()]
    if not present:
        raise BenchmarkDataError(
            f"{root}: no target folder found; expected one or more of {', '.join(STANCE_TARGETS)} "
            "(the TweetEval `datasets/stance` layout)"
        )
    return present


def read_tweeteval_stance(data_dir: Path | str, split: str) -> dict[str, LabelledLines]:
    """One split of every target present: {target: texts and labels support/oppose/neutral}."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    root = Path(data_dir)
    return {
        target: read_labelled_lines(
            root / target / f"{split}_text.txt",
            root / target / f"{split}_labels.txt",
            STANCE_FILE_LABELS,
        )
        for target in stance_targets(root)
    }


# -- stance -------------------------------------------------------------------------------


@dataclass
class StanceOnlyModel:
    """The features and stance head of `StanceSentimentModel`, fitted without sentiment labels."""

    params: dict[str, Any]
    features: TextFeatures
    head: Any

    def predict(self, texts: Sequence[str]) -> list[str]:
        # The temperature rescales the logits only: it never changes the argmax.
        logits = head_logits(self.head, self.features.transform(list(texts)), STANCE_LABELS)
        return [STANCE_LABELS[i] for i in np.argmax(logits, axis=1)]


def train_stance(
    texts: list[str],
    stance: list[str],
    params: dict[str, Any] | None = None,
    n_jobs: int = -1,
    folds: int = 5,
    seed: int = 0,
) -> tuple[StanceOnlyModel, dict[str, Any]]:
    """Search the stance head's C and temperature as `stance train` does, then fit on all rows.

    Returns the fitted model and the search's evidence (chosen C, temperature, folds).
    """
    # The target window's anchor words and the scope columns name this project's question (NATO,
    # membership, another candidate country, the EU); on another target's tweets the window would
    # only show the stance head each text twice, and the scopes mean nothing.
    params = {"target_window": None, "scope_features": False, **(params or {})}
    search = cross_validate(texts, stance, None, params, folds, seed, n_jobs=n_jobs)
    base = StanceSentimentModel(**search.params)
    features = base.make_features().fit(texts)
    head = fit_head(features.transform(texts), stance, base.stance_C, base.class_weight)
    evidence = {
        "stance_C": search.params["stance_C"],
        "stance_temperature": search.params["stance_temperature"],
        "cv_folds": search.folds,
        "cv_macro_f1_by_C": search.scores["stance"],
        "cv_f_avg": 100 * head_metrics(stance, search.oof_stance, STANCE_LABELS)["f_avg"],
    }
    return StanceOnlyModel(search.params, features, head), evidence


def polar_figures(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """F1 of against and favor, their mean F_avg (percent), and the counts behind them."""
    m = head_metrics(gold, predicted, STANCE_LABELS)
    return {
        "n": m["n"],
        "f1_against": 100 * m["per_class"]["oppose"]["f1"],
        "f1_favor": 100 * m["per_class"]["support"]["f1"],
        "f_avg": 100 * m["f_avg"],
        "macro_f1": 100 * m["macro_f1"],
        "accuracy": 100 * m["accuracy"],
        "confusion": m["confusion"],
    }


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def run_tweeteval_stance(
    data_dir: Path | str,
    split: str = "val",
    n_jobs: int = -1,
    params: dict[str, Any] | None = None,
    folds: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """Train one stance model per target and score `split`; a JSON-ready result.

    `params` are `StanceSentimentModel` parameters (C and temperature are searched). Keys:
    `f_avg`, `f1_against`, `f1_favor` (pooled over targets, percent), `per_target`
    ({target: the same figures, rows trained on and scored, chosen C}), `split`, `trained_on`.
    """
    if split not in SCORED_SPLITS:
        raise ValueError(f"split must be one of {', '.join(SCORED_SPLITS)}, got {split!r}")
    started = time.perf_counter()
    trained_on = ["train"] if split == "val" else ["train", "val"]
    training = read_tweeteval_stance(data_dir, "train")
    if split == "test":
        extra = read_tweeteval_stance(data_dir, "val")
        training = {target: rows + extra[target] for target, rows in training.items()}
    scored = read_tweeteval_stance(data_dir, split)
    per_target: dict[str, Any] = {}
    gold: list[str] = []
    predicted: list[str] = []
    chosen: dict[str, Any] = {}
    for target, rows in training.items():
        model, evidence = train_stance(rows.texts, rows.labels, params, n_jobs, folds, seed)
        chosen = model.params
        predictions = model.predict(scored[target].texts)
        gold += scored[target].labels
        predicted += predictions
        per_target[target] = {
            **polar_figures(scored[target].labels, predictions),
            "n_train": len(rows),
            **evidence,
        }
    pooled = polar_figures(gold, predicted)
    searched = ("stance_C", "stance_temperature")
    base = {k: v for k, v in chosen.items() if k not in searched}
    return {
        "benchmark": "tweeteval-stance",
        "data": str(data_dir),
        "split": split,
        "trained_on": trained_on,
        **pooled,
        "n_train": sum(len(rows) for rows in training.values()),
        "per_target": per_target,
        "params": _jsonable(base),
        "seconds": round(time.perf_counter() - started, 1),
    }


# -- sentiment ----------------------------------------------------------------------------


def vader_labels(texts: Sequence[str], threshold: float = VADER_THRESHOLD) -> list[str]:
    """VADER alone, the reference `vaderSentiment` package (not the model's fast tone scores):
    compound >= threshold positive, <= -threshold negative, else neutral."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    polarity = SentimentIntensityAnalyzer().polarity_scores
    labels = []
    for text in texts:
        c = polarity(text)["compound"]
        labels.append(
            "positive" if c >= threshold else "negative" if c <= -threshold else "neutral"
        )
    return labels


def sentiment_dir(data_dir: Path | str) -> Path:
    """The sentiment folder: `data_dir` itself, or its `tweeteval-sentiment` subfolder."""
    root = Path(data_dir)
    if (root / "tweeteval-sentiment").is_dir() and not (root / "val_text.txt").exists():
        return root / "tweeteval-sentiment"
    if not root.is_dir():
        raise BenchmarkDataError(f"{root}: folder not found")
    return root


def recall_by_class(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    """Recall of each sentiment label, percent."""
    per_class = recall_score(
        gold, predicted, labels=list(SENTIMENT_LABELS), average=None, zero_division=0
    )
    return {label: 100 * float(r) for label, r in zip(SENTIMENT_LABELS, per_class, strict=True)}


def run_tweeteval_sentiment(data_dir: Path | str, model: Any, split: str = "val") -> dict[str, Any]:
    """Macro-averaged recall (percent) of `model`'s sentiment head and of VADER alone.

    `data_dir` is the `tweeteval-sentiment` folder or its parent; `model` is anything with the
    `predict_proba(texts) -> (stance, sentiment)` of `StanceSentimentModel` (e.g. `LoadedModel`).
    Keys: `model_macro_recall`, `vader_macro_recall`, and per-label `model_recall`,
    `vader_recall`.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    root = sentiment_dir(data_dir)
    rows = read_labelled_lines(
        root / f"{split}_text.txt", root / f"{split}_labels.txt", SENTIMENT_FILE_LABELS
    )
    started = time.perf_counter()
    _, probabilities = model.predict_proba(rows.texts)
    head = [SENTIMENT_LABELS[i] for i in np.argmax(probabilities, axis=1)]
    model_recall = recall_by_class(rows.labels, head)
    vader_recall = recall_by_class(rows.labels, vader_labels(rows.texts))
    return {
        "benchmark": "tweeteval-sentiment",
        "data": str(root),
        "split": split,
        "n": len(rows),
        "model_macro_recall": sum(model_recall.values()) / len(model_recall),
        "vader_macro_recall": sum(vader_recall.values()) / len(vader_recall),
        "model_recall": model_recall,
        "vader_recall": vader_recall,
        "seconds": round(time.perf_counter() - started, 1),
    }


# -- report -------------------------------------------------------------------------------


def format_tweeteval(result: dict[str, Any]) -> str:
    """A plain-text table of a `run_tweeteval_stance` or `run_tweeteval_sentiment` result."""
    if result.get("benchmark") == "tweeteval-sentiment":
        lines = [
            f"TweetEval sentiment, {result['split']} split ({result['n']} tweets): "
            "macro-averaged recall, percent",
            f"  {'system':<16}{'macro-R':>9}{'negative':>10}{'neutral':>9}{'positive':>10}",
        ]
        for name, key in (("sentiment head", "model"), ("VADER alone", "vader")):
            r = result[f"{key}_recall"]
            lines.append(
                f"  {name:<16}{result[f'{key}_macro_recall']:>9.1f}{r['negative']:>10.1f}"
                f"{r['neutral']:>9.1f}{r['positive']:>10.1f}"
            )
        return "\n".join(lines)
    lines = [
        f"TweetEval stance, {result['split']} split (trained on "
        f"{' + '.join(result['trained_on'])}, one model per target): F1 in percent",
        f"  {'target':<10}{'train':>7}{'scored':>8}{'C':>6}{'F1 against':>12}{'F1 favor':>10}"
        f"{'F_avg':>8}",
    ]
    for target, t in result["per_target"].items():
        lines.append(
            f"  {target:<10}{t['n_train']:>7}{t['n']:>8}{t['stance_C']:>6g}{t['f1_against']:>12.1f}"
            f"{t['f1_favor']:>10.1f}{t['f_avg']:>8.1f}"
        )
    lines.append(
        f"  {'pooled':<10}{result['n_train']:>7}{result['n']:>8}{'':>6}"
        f"{result['f1_against']:>12.1f}{result['f1_favor']:>10.1f}{result['f_avg']:>8.1f}"
    )
    lines.append(
        f"  official F_avg (pooled over targets): {result['f_avg']:.2f}"
        f"  [{result['seconds']:.0f} s]"
    )
    published = ", ".join(f"{name} {v}" for name, v in PUBLISHED_STANCE_TEST.items())
    lines.append(f"  published on the test split: {published}")
    return "\n".join(lines)
