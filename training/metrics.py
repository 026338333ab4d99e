"""Classification figures for both heads, and their plain-text report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
