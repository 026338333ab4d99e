"""The form of a labelled set: who speaks, how long, how often NATO is named, reported speech.

Used to put the training corpus beside real statements: a corpus that does not look like the
speech it will score teaches the wrong cues (for example "NATO" as an oppose word, when the
corpus's supporters said "the Alliance").
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from typing import Any

from model.labels import SENTIMENT_LABELS, STANCE_LABELS
from training.dataset import LabelledQuotes
from training.evaluation import speaker_group

NATO = re.compile(r"\bNATO\b|\bNato\b")
ALLIANCE = re.compile(r"\b[Aa]lliance\b")
UKRAINE = re.compile(r"\bUkrain\w*|\bKyiv\b|\bKiev\b")
REPORTED = re.compile(
    r"\b(said|says|told|stated|added|noted|warned|declared|insisted|stressed|according to|"
    r"emphasi[sz]ed|announced|wrote|argued|claimed|urged)\b",
    re.I,
)
QUOTED = re.compile(r"[\"“”«»]")
# A negation anywhere in the row. Its share per label was the corpus's largest measured gap in
# form (2026-12-04: 22 % of neutral rows against 40 % of real neutral statements), and the model
# had learned "not" as an oppose word from it.
NEGATION = re.compile(
    r"\b(?:not|no|never|nor|neither|without|none|nothing|nobody|cannot)\b|n't\b", re.I
)

# Corpus speaker types folded into the groups `speaker_group` gives free-text roles.
TYPE_GROUPS = {
    "head_of_state": "head_of_state_or_government",
    "head_of_government": "head_of_state_or_government",
    "minister": "minister",
    "nato_official": "nato_official",
    "diplomat": "diplomat",
    "legislator": "legislator",
    "journalist": "media",
    "state_media": "media",
    "analyst": "analyst",
}


def share(texts: list[str], pattern: re.Pattern[str]) -> float:
    return sum(bool(pattern.search(t)) for t in texts) / len(texts) if texts else 0.0


def speakers(quotes: LabelledQuotes) -> Counter[str] | None:
    """Speaker groups of a set, from `speaker_type` or from a free-text `speaker_role`."""
    if "speaker_type" in quotes.columns:
        return Counter(TYPE_GROUPS.get(t, "other") for t in quotes.columns["speaker_type"])
    if "speaker_role" in quotes.columns:
        return Counter(speaker_group(r) for r in quotes.columns["speaker_role"])
    return None


def profile(quotes: LabelledQuotes) -> dict[str, Any]:
    """Form and label mix of a set, as shares of its rows."""
    texts = quotes.texts
    n = len(texts)
    out: dict[str, Any] = {
        "rows": n,
        "median words": statistics.median(len(t.split()) for t in texts) if texts else 0,
        "names NATO": share(texts, NATO),
        "says the Alliance": share(texts, ALLIANCE),
        "names Ukraine or Kyiv": share(texts, UKRAINE),
        "reported speech": share(texts, REPORTED),
        "quotation marks": share(texts, QUOTED),
    }
    for label in STANCE_LABELS:
        out[f"stance {label}"] = quotes.stance.count(label) / n
        rows = [t for t, s in zip(texts, quotes.stance, strict=True) if s == label]
        out[f"  {label} rows naming NATO"] = share(rows, NATO)
        out[f"  {label} rows with a negation"] = share(rows, NEGATION)
    for label in SENTIMENT_LABELS:
        out[f"sentiment {label}"] = quotes.sentiment.count(label) / n
    groups = speakers(quotes)
    if groups is not None:
        for group, count in sorted(groups.items(), key=lambda item: -item[1]):
            out[f"speaker {group}"] = count / n
    return out


def format_profiles(named: dict[str, dict[str, Any]]) -> str:
    """Profiles side by side, one column per set, as a Markdown table."""
    keys: list[str] = []
    for p in named.values():
        keys += [k for k in p if k not in keys]
    lines = [
        "| | " + " | ".join(named) + " |",
        "|---|" + "---:|" * len(named),
    ]
    for key in keys:
        cells = []
        for p in named.values():
            value = p.get(key)
            if value is None:
                cells.append("")
            elif key in ("rows", "median words"):
                cells.append(f"{value:g}")
            else:
                cells.append(f"{value:.0%}")
        lines.append(
            f"| {key.strip() if not key.startswith('  ') else '… ' + key.strip()} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines)
