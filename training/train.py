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
from training.behaviour import DEFAULT_GATE, GateThresholds, SuiteResult, format_suite, run_suite
from training.dataset import LabelledQuotes, load_labelled_csv
from training.evaluation import evaluation_report, format_evaluation
from training.metrics import both_heads, format_report
from training.model_card import render_card
from training.search import cross_validate

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_DATA = DATA_DIR / "quotes.csv"
DEFAULT_CHALLENGE = DATA_DIR / "challenge.csv"
# Real statements for measuring, never training: the team's shared development set, when present.
DEFAULT_DEV = Path(__file__).resolve().parents[2] / "shared/benchmarks/real-statements/dev.csv"
DEFAULT_QUALITY_FLOOR = 0.5
FAILURES_KEPT = 50


class QualityFloorError(Exception):
    """The new version was written but is not good enough to become current."""


@dataclass
class TrainConfig:
    data: Path = DEFAULT_DATA
    model_dir: Path | None = None
    challenge: Path | None = None
    dev: Path | None = None
    quality_floor: float = DEFAULT_QUALITY_FLOOR
    gate: GateThresholds | None = DEFAULT_GATE  # None: run the behavioural tests, never block
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
        groups=quotes.columns.get("batch"),
    )
    estimator = StanceSentimentModel(**search.params).fit(
        quotes.texts, quotes.stance, quotes.sentiment, n_jobs=config.n_jobs
    )
    evidence = {
        "params": {k: list(v) if isinstance(v, tuple) else v for k, v in search.params.items()},
        "cv_folds": search.folds,
        "cv_grouped_by": "batch" if search.grouped else None,
        "cv_metrics": both_heads(
            quotes.stance, quotes.sentiment, search.oof_stance, search.oof_sentiment
        ),
        "cv_scores_by_C": search.scores,
        "cv_log_loss": search.log_loss,
    }
    return estimator, evidence


def cv_title(evidence: dict[str, Any]) -> str:
    """How the cross-validated figures were made, for their heading."""
    held_out = ", whole batches held out" if evidence.get("cv_grouped_by") else ""
    return f"cross-validated ({evidence['cv_folds']}-fold{held_out}, out-of-fold)"


def evaluate_labelled(estimator: Any, quotes: LabelledQuotes) -> dict[str, dict[str, Any]]:
    """Both heads' figures for `estimator` on a labelled set."""
    predictions = estimator.predict(quotes.texts)
    return both_heads(
        quotes.stance,
        quotes.sentiment,
        [p["stance"]["label"] for p in predictions],
        [p["sentiment"]["label"] for p in predictions],
    )


def behaviour_suite(estimator: Any, gate: GateThresholds | None) -> SuiteResult:
    """The behavioural tests of `estimator`, judged against `gate` (the defaults when None)."""
    return run_suite(
        lambda texts: [p["stance"]["label"] for p in estimator.predict(texts)],
        gate or DEFAULT_GATE,
    )


def summary_line(metadata: dict[str, Any]) -> str:
    """Stance and sentiment macro-F1 side by side: cross-validated, challenge set, dev set."""
    columns = [("cross-validated", metadata["cv_metrics"])]
    if "challenge_metrics" in metadata:
        columns.append(("challenge set", metadata["challenge_metrics"]))
    if "dev_metrics" in metadata:
        columns.append(("real statements (dev)", metadata["dev_metrics"]["metrics"]))
    head = "  ".join(f"{name:>22}" for name, _ in columns)
    lines = [f"macro-F1         {head}"]
    for task in ("stance", "sentiment"):
        cells = "  ".join(f"{m[task]['macro_f1']:>22.3f}" for _, m in columns)
        lines.append(f"  {task:<14} {cells}")
    return "\n".join(lines)


def refusals(config: TrainConfig, stance_f1: float, suite: SuiteResult) -> list[str]:
    """Why the new version must not become current (empty when it may)."""
    reasons = []
    if stance_f1 < config.quality_floor:
        reasons.append(
            f"cross-validated stance macro-F1 {stance_f1:.3f} is below the quality floor "
            f"{config.quality_floor:.3f} (add or fix training rows, or lower --quality-floor)"
        )
    if config.gate is not None and not suite.passed:
        missed = ", ".join(
            f"{group} {m['rate']:.1%} < {m['threshold']:.0%}"
            for group, m in suite.gate["missed"].items()
        )
        reasons.append(
            f"it fails the behavioural gate ({missed}; the failed cases are listed above; "
            "fix the training data, or pass --no-gate for a model of another question)"
        )
    return reasons


def train(config: TrainConfig, say: Callable[[str], None] = print) -> TrainReport:
    """Train, write a new version, and make it current if it passes the floor and the gate."""
    started = time.perf_counter()
    quotes = load_labelled_csv(config.data)
    challenge = load_labelled_csv(config.challenge) if config.challenge else None
    dev = load_labelled_csv(config.dev) if config.dev else None
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
    lines = [format_report(cv_title(evidence), evidence["cv_metrics"])]
    if challenge is not None:
        metadata["challenge_metrics"] = evaluate_labelled(estimator, challenge)
        metadata["challenge_data"] = {"source": str(config.challenge), "sha256": challenge.sha256}
        lines.append(
            format_report(f"challenge set ({challenge.source})", metadata["challenge_metrics"])
        )
    if dev is not None:
        metadata["dev_metrics"] = evaluation_report(estimator, dev)
        metadata["dev_data"] = {"source": str(config.dev), "sha256": dev.sha256}
        lines.append(
            format_evaluation(
                f"real statements ({dev.source}), never trained on", metadata["dev_metrics"]
            )
        )
    suite = behaviour_suite(estimator, config.gate)
    metadata["behaviour"] = suite.as_dict() | {"failures": suite.failures[:FAILURES_KEPT]}
    metadata["behaviour"]["gate"]["enforced"] = config.gate is not None
    lines.append(format_suite(suite))
    lines.append(summary_line(metadata))
    version = store.save(estimator, metadata, render_card(metadata))
    stance_f1 = evidence["cv_metrics"]["stance"]["macro_f1"]
    reasons = refusals(config, stance_f1, suite)
    promoted = not reasons
    if promoted:
        store.promote(version)
    seconds = time.perf_counter() - started
    saved = store.read_metadata(version)
    report = TrainReport(version, promoted, saved, seconds, "\n".join(lines))
    say(report.text)
    if not promoted:
        raise QualityFloorError(
            f"model {version} was written to {store.root / version} but NOT made current: "
            + "; and ".join(reasons)
        )
    say(f"model {version} is now current ({store.root / version}); trained in {seconds:.1f} s")
    return report
