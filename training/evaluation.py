"""How a model does on a labelled set: both heads, the high-confidence subset, errors by speaker.

Real-statement sets (such as the project's development set) carry a `confidence` column and a
free-text `speaker_role`; the corpus carries `speaker_type`. Whichever a file has is used to
group the errors, so a reader sees *whose* statements the model gets wrong.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from model.labels import SENTIMENT_LABELS, STANCE_LABELS
from training.dataset import LabelledQuotes
from training.metrics import both_heads, format_report, head_metrics, paired_bootstrap

# Coarse speaker groups from a free-text role, first match wins (order matters: "Deputy Foreign
# Minister" is a minister, "NATO Secretary General" a NATO official, "Prime Minister" a head of
# government).
SPEAKER_GROUPS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("nato_official", re.compile(r"\bNATO\b|North Atlantic|Alliance", re.I)),
    (
        "head_of_state_or_government",
        re.compile(r"\b(president|prime minister|chancellor|king|premier)\b", re.I),
    ),
    (
        "minister",
        re.compile(
            r"\b(minister|secretary of (state|defen[cs]e)|foreign secretary|defen[cs]e secretary)\b",
            re.I,
        ),
    ),
    ("spokesperson", re.compile(r"\b(spokes(man|woman|person)|press secretary)\b", re.I)),
    ("diplomat", re.compile(r"\b(ambassador|envoy|diplomat|representative)\b", re.I)),
    (
        "legislator",
        re.compile(
            r"\b(MP|MEP|senator|congress\w*|deputy|parliament\w*|duma|rada|lawmaker|speaker)\b",
            re.I,
        ),
    ),
    (
        "official_text",
        re.compile(
            r"\b(declaration|communiqu|treaty|draft|plan|statement|law|bill|resolution)\b", re.I
        ),
    ),
    (
        "media",
        re.compile(
            r"\b(news|agency|journalist|newspaper|editorial|columnist|report|outlet|media|tv)\b",
            re.I,
        ),
    ),
    (
        "analyst",
        re.compile(
            r"\b(analyst|think.?tank|scientist|economist|expert|professor|scholar|researcher|institute|policy)\b",
            re.I,
        ),
    ),
)


def speaker_group(role: str) -> str:
    """The coarse group of a free-text speaker role ("Foreign Minister of Poland" -> minister)."""
    for name, pattern in SPEAKER_GROUPS:
        if pattern.search(role):
            return name
    return "other" if role.strip() else "unknown"


def speaker_groups(quotes: LabelledQuotes) -> list[str] | None:
    """Each row's speaker group: its `speaker_type`, or the group of its `speaker_role`."""
    if "speaker_type" in quotes.columns:
        return quotes.columns["speaker_type"]
    if "speaker_role" in quotes.columns:
        return [speaker_group(role) for role in quotes.columns["speaker_role"]]
    return None


# Upper edges of the bins of the model's top probability (the last bin ends at 1).
CERTAINTY_EDGES = (0.5, 0.6, 0.7, 0.8, 0.9)


def certainty_table(top: Sequence[float], correct: Sequence[bool]) -> dict[str, Any]:
    """How often predictions are right at each level of the model's top probability.

    Per non-empty bin: its bounds, rows, the mean top probability and the share right; and the
    expected calibration error, the rows-weighted mean gap between the two (0 when a prediction
    made with probability p is right a share p of the time).
    """
    edges = (0.0, *CERTAINTY_EDGES, 1.0)
    bins = []
    gap = 0.0
    for low, high in pairwise(edges):
        members = [i for i, p in enumerate(top) if low <= p < high or (high == 1.0 and p == 1.0)]
        if not members:
            continue
        mean = sum(top[i] for i in members) / len(members)
        right = sum(bool(correct[i]) for i in members) / len(members)
        bins.append({"low": low, "high": high, "n": len(members), "mean": mean, "right": right})
        gap += len(members) * abs(mean - right)
    return {"bins": bins, "calibration_error": gap / len(top) if top else 0.0}


def evaluation_report(model: Any, quotes: LabelledQuotes) -> dict[str, Any]:
    """Figures of `model` on `quotes`: overall, high-confidence rows, errors by speaker, and how
    often the model is right at each level of its own certainty."""
    predictions = model.predict(quotes.texts)
    stance = [p["stance"]["label"] for p in predictions]
    sentiment = [p["sentiment"]["label"] for p in predictions]
    report: dict[str, Any] = {
        "n": len(quotes),
        "metrics": both_heads(quotes.stance, quotes.sentiment, stance, sentiment),
        "certainty": {
            head: certainty_table(
                [max(p[head]["probabilities"].values()) for p in predictions],
                [p[head]["label"] == g for p, g in zip(predictions, gold, strict=True)],
            )
            for head, gold in (("stance", quotes.stance), ("sentiment", quotes.sentiment))
        },
    }
    confidence = quotes.columns.get("confidence")
    if confidence:
        keep = [i for i, c in enumerate(confidence) if c.lower() == "high"]
        if keep:
            report["high_confidence"] = {
                "n": len(keep),
                "metrics": both_heads(
                    [quotes.stance[i] for i in keep],
                    [quotes.sentiment[i] for i in keep],
                    [stance[i] for i in keep],
                    [sentiment[i] for i in keep],
                ),
            }
    groups = speaker_groups(quotes)
    if groups is not None:
        report["by_speaker"] = errors_by_group(groups, quotes.stance, stance)
    return report


def errors_by_group(
    groups: list[str], gold: list[str], predicted: list[str]
) -> dict[str, dict[str, Any]]:
    """Per speaker group: rows, stance errors, accuracy and the commonest confusions."""
    rows: Counter[str] = Counter(groups)
    wrong: dict[str, Counter[str]] = defaultdict(Counter)
    for group, g, p in zip(groups, gold, predicted, strict=True):
        if g != p:
            wrong[group][f"{g}->{p}"] += 1
    out = {}
    for group, n in rows.most_common():
        errors = sum(wrong[group].values())
        out[group] = {
            "n": n,
            "errors": errors,
            "accuracy": (n - errors) / n,
            "confusions": dict(wrong[group].most_common(3)),
        }
    return out


def format_evaluation(title: str, report: dict[str, Any]) -> str:
    """The report as text: the per-class tables, then the subset and the speaker groups."""
    lines = [format_report(title, report["metrics"])]
    subset = report.get("high_confidence")
    if subset:
        m = subset["metrics"]
        lines.append(
            f"  high-confidence rows (n={subset['n']}): stance macro-F1 "
            f"{m['stance']['macro_f1']:.3f}, sentiment macro-F1 {m['sentiment']['macro_f1']:.3f}"
        )
    groups = report.get("by_speaker")
    if groups:
        lines.append("  stance errors by speaker group (gold->predicted):")
        for group, g in groups.items():
            confusions = ", ".join(f"{k} {v}" for k, v in g["confusions"].items())
            lines.append(
                f"    {group:<30} n={g['n']:<5} errors {g['errors']:<4} "
                f"accuracy {g['accuracy']:.2f}  {confusions}"
            )
    if "certainty" in report:
        lines.extend(format_certainty(report["certainty"]))
    return "\n".join(lines)


def certainty_rows(
    tables: dict[str, dict[str, Any]],
) -> list[tuple[str, dict[str, dict[str, Any] | None]]]:
    """The bins of several heads' certainty tables aligned: (name, {head: bin or None}), one
    per bin any head has, lowest first ("below 0.50", "0.50-0.60", ...)."""
    by_head = {head: {(b["low"], b["high"]): b for b in t["bins"]} for head, t in tables.items()}
    bounds = sorted({bound for bins in by_head.values() for bound in bins})
    return [
        (
            f"below {high:.2f}" if low == 0.0 else f"{low:.2f}-{high:.2f}",
            {head: bins.get((low, high)) for head, bins in by_head.items()},
        )
        for low, high in bounds
    ]


def format_certainty(tables: dict[str, dict[str, Any]]) -> list[str]:
    """Both heads' certainty tables side by side, one line per bin of the top probability."""
    header = "".join(f"   {head + ' rows':>14}  {'mean':>4}  {'right':>5}" for head in tables)
    lines = [
        "  how often the model is right at each level of its top probability:",
        f"    {'top probability':<17}{header}",
    ]
    for name, bins in certainty_rows(tables):
        cells = "".join(
            f"   {b['n']:>14}  {b['mean']:>4.2f}  {b['right']:>5.2f}"
            if b
            else f"   {0:>14}  {'':>4}  {'':>5}"
            for b in bins.values()
        )
        lines.append(f"    {name:<17}{cells}")
    errors = "".join(
        f"   {'':>14}  {'':>4}  {t['calibration_error']:>5.3f}" for t in tables.values()
    )
    lines.append(f"    {'calibration error':<17}{errors}")
    return lines


def compare_models(
    a: Any, b: Any, quotes: LabelledQuotes, samples: int
) -> dict[str, dict[str, float]]:
    """Both heads' macro-F1 for models `a` and `b` on `quotes`, and B - A by paired bootstrap."""
    pa, pb = a.predict(quotes.texts), b.predict(quotes.texts)
    out = {}
    for head, gold, labels in (
        ("stance", quotes.stance, STANCE_LABELS),
        ("sentiment", quotes.sentiment, SENTIMENT_LABELS),
    ):
        la = [p[head]["label"] for p in pa]
        lb = [p[head]["label"] for p in pb]
        out[head] = {
            "a": head_metrics(gold, la, labels)["macro_f1"],
            "b": head_metrics(gold, lb, labels)["macro_f1"],
            **paired_bootstrap(gold, la, lb, labels, samples),
        }
    return out
