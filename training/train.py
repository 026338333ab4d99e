"""Training: validated CSV in, cross-validated, calibrated, versioned model out."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.classifier import StanceSentimentModel
from model.store import ModelStore
from training.dataset import LabelledQuotes, load_labelled_csv
from training.metrics import both_heads, format_report
from training.model_card import render_card
from training.search import cross_validate

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_DATA = DATA_DIR / "quotes.csv"
DEFAULT_CHALLENGE = DATA_DIR / "challenge.csv"
DEFAULT_QUALITY_FLOOR = 0.5


class QualityFloorError(Exception):
    """The new version was written but is not good enough to become current."""


@dataclass
class TrainConfig:
    data: Path = DEFAULT_DATA
    model_dir: Path | None = None
    challenge: Path | None = None
    quality_floor: float = DEFAULT_QUALITY_FLOOR
    folds: int = 5
    seed: int = 0
    n_jobs: int = -1
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainReport:
    version: str
    promoted: bool
    metadata: dict[str, Any]
    seconds: float
    text: str


def git_commit(directory: Path) -> str | None:
    """The commit of the checkout that holds `directory`, with `-dirty` if it has changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("-dirty" if dirty else "")


def fit_model(
    quotes: LabelledQuotes, config: TrainConfig
) -> tuple[StanceSentimentModel, dict[str, Any]]:
    """Search hyperparameters by CV, fit the final model on all rows; return it and its evidence."""
    search = cross_validate(
        quotes.texts,
        quotes.stance,
        quotes.sentiment,
        config.params,
        config.folds,
        config.seed,
        n_jobs=config.n_jobs,
    )
    estimator = StanceSentimentModel(**search.params).fit(
        quotes.texts, quotes.stance, quotes.sentiment
    )
    evidence = {
        "params": {k: list(v) if isinstance(v, tuple) else v for k, v in search.params.items()},
        "cv_folds": search.folds,
        "cv_metrics": both_heads(
            quotes.stance, quotes.sentiment, search.oof_stance, search.oof_sentiment
        ),
        "cv_scores_by_C": search.scores,
        "cv_log_loss": search.log_loss,
    }
    return estimator, evidence


def evaluate_labelled(estimator: Any, quotes: LabelledQuotes) -> dict[str, dict[str, Any]]:
    """Both heads' figures for `estimator` on a labelled set."""
    predictions = estimator.predict(quotes.texts)
    return both_heads(
        quotes.stance,
        quotes.sentiment,
        [p["stance"]["label"] for p in predictions],
        [p["sentiment"]["label"] for p in predictions],
    )


def train(config: TrainConfig, say: Callable[[str], None] = print) -> TrainReport:
    """Train, write a new version, and make it current if it passes the quality floor."""
    started = time.perf_counter()
    quotes = load_labelled_csv(config.data)
    challenge = load_labelled_csv(config.challenge) if config.challenge else None
    store = ModelStore(config.model_dir)
    say(f"training on {quotes.source}: {len(quotes)} rows, {quotes.counts()}")
    estimator, evidence = fit_model(quotes, config)
    metadata: dict[str, Any] = {
        "git_commit": git_commit(Path(__file__).resolve().parent),
        "training_data": {
            "source": str(config.data),
            "sha256": quotes.sha256,
            "rows": len(quotes),
            "counts": quotes.counts(),
        },
        **evidence,
        "labels": {
            "stance": ["support", "oppose", "neutral"],
            "sentiment": ["positive", "negative", "neutral"],
        },
        "quality_floor": {"metric": "cv stance macro_f1", "value": config.quality_floor},
    }
    lines = [
        format_report(
            f"cross-validated ({evidence['cv_folds']}-fold, out-of-fold)", evidence["cv_metrics"]
        )
    ]
    if challenge is not None:
        metadata["challenge_metrics"] = evaluate_labelled(estimator, challenge)
        metadata["challenge_data"] = {"source": str(config.challenge), "sha256": challenge.sha256}
        lines.append(
            format_report(f"challenge set ({challenge.source})", metadata["challenge_metrics"])
        )
    version = store.save(estimator, metadata, render_card(metadata))
    stance_f1 = evidence["cv_metrics"]["stance"]["macro_f1"]
    promoted = stance_f1 >= config.quality_floor
    if promoted:
        store.promote(version)
    seconds = time.perf_counter() - started
    saved = store.read_metadata(version)
    report = TrainReport(version, promoted, saved, seconds, "\n".join(lines))
    say(report.text)
    if not promoted:
        raise QualityFloorError(
            f"model {version} was written to {store.root / version} but NOT made current: "
            f"cross-validated stance macro-F1 {stance_f1:.3f} is below the quality floor "
            f"{config.quality_floor:.3f} (add or fix training rows, or lower --quality-floor)"
        )
    say(f"model {version} is now current ({store.root / version}); trained in {seconds:.1f} s")
    return report
