"""Classification figures for both heads, and their plain-text report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from model.labels import SENTIMENT_LABELS, STANCE_LABELS

# F_avg: the mean F1 of the two polar labels (SemEval-2016 convention).
POLAR = {"stance": ("support", "oppose"), "sentiment": ("positive", "negative")}
LABELS = {"stance": STANCE_LABELS, "sentiment": SENTIMENT_LABELS}


def head_metrics(
    gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> dict[str, Any]:
    """Per-class precision/recall/F1, macro-F1, F_avg, accuracy and the confusion matrix."""
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=list(labels), zero_division=0
    )
    per_class = {
        label: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, label in enumerate(labels)
    }
    polar = [per_class[label]["f1"] for label in labels[:2]]
    correct = sum(g == p for g, p in zip(gold, predicted, strict=True))
    return {
        "n": len(gold),
        "accuracy": correct / len(gold) if len(gold) else 0.0,
        "macro_f1": float(sum(f1) / len(labels)),
        "f_avg": float(sum(polar) / 2),
        "per_class": per_class,
        "labels": list(labels),
        "confusion": confusion_matrix(gold, predicted, labels=list(labels)).tolist(),
    }


def both_heads(
    gold_stance: Sequence[str],
    gold_sentiment: Sequence[str],
    predicted_stance: Sequence[str],
    predicted_sentiment: Sequence[str],
) -> dict[str, dict[str, Any]]:
    return {
        "stance": head_metrics(gold_stance, predicted_stance, STANCE_LABELS),
        "sentiment": head_metrics(gold_sentiment, predicted_sentiment, SENTIMENT_LABELS),
    }


def format_report(title: str, metrics: dict[str, dict[str, Any]]) -> str:
    """A human-readable table per head: per-class figures, macro-F1, F_avg, confusion matrix."""
    lines = [title]
    for head, m in metrics.items():
        labels = m["labels"]
        lines.append(
            f"  {head}: macro-F1 {m['macro_f1']:.3f}  F_avg({'/'.join(labels[:2])}) {m['f_avg']:.3f}"
            f"  accuracy {m['accuracy']:.3f}  n={m['n']}"
        )
        lines.append(f"    {'label':<10}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}")
        for label in labels:
            c = m["per_class"][label]
            lines.append(
                f"    {label:<10}{c['precision']:>10.3f}{c['recall']:>8.3f}{c['f1']:>8.3f}{c['support']:>9}"
            )
        lines.append(
            "    confusion (rows gold, columns predicted): "
            + " ".join(f"{lab[:4]:>6}" for lab in labels)
        )
        for label, row in zip(labels, m["confusion"], strict=True):
            lines.append(f"    {label:>42} " + " ".join(f"{v:>6}" for v in row))
    return "\n".join(lines)


def paired_bootstrap(
    gold: Sequence[str],
    predicted_a: Sequence[str],
    predicted_b: Sequence[str],
    labels: Sequence[str],
    samples: int = 2000,
    seed: int = 0,
) -> dict[str, float]:
    """How much better B's macro-F1 is than A's on the same rows, with a 95 % interval.

    Rows are resampled with replacement and both predictions are scored on the same resample
    (a paired bootstrap, Berg-Kirkpatrick et al. 2012); `p_not_better` is the share of
    resamples where B does not beat A.
    """
    gold_i, a_i, b_i = (
        np.array([labels.index(x) for x in seq]) for seq in (gold, predicted_a, predicted_b)
    )
    rng = np.random.default_rng(seed)
    n, k = len(gold_i), len(labels)
    deltas = np.empty(samples)
    for s in range(samples):
        rows = rng.integers(0, n, n)
        deltas[s] = _macro_f1(gold_i[rows], b_i[rows], k) - _macro_f1(gold_i[rows], a_i[rows], k)
    observed = _macro_f1(gold_i, b_i, k) - _macro_f1(gold_i, a_i, k)
    low, high = np.percentile(deltas, [2.5, 97.5])
    return {
        "delta": float(observed),
        "low": float(low),
        "high": float(high),
        "p_not_better": float(np.mean(deltas <= 0)),
    }


def _macro_f1(gold: np.ndarray, predicted: np.ndarray, k: int) -> float:
    """Macro-F1 over `k` integer labels, fast enough for thousands of bootstrap resamples."""
    counts = np.bincount(gold * k + predicted, minlength=k * k).reshape(k, k)
    tp = np.diag(counts).astype(float)
    denominator = counts.sum(axis=0) + counts.sum(axis=1)
    f1 = np.divide(2 * tp, denominator, out=np.zeros(k), where=denominator > 0)
    return float(f1.mean())
