"""How well article mode finds statements and their speakers, on the gold articles in
training/data/articles/ (format in its README), and how its stances compare with the gold ones.

A found statement matches a gold statement when their character spans overlap by at least half
of the longer of the two (each gold statement matched at most once, best overlap first).
Narration is not a statement here. On matched statements: the speaker is right when the names
agree after dropping case, a leading "the" and a possessive, or one name contains the other, or
two person names share their last word (a surname), or both are unattributed; the kind is
right when direct/indirect agree. Per speaker (article by article): the gold stance is the one
stance of their statements if they have only one besides neutral (neutral if all are), and is
compared with the label article mode gives that speaker.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from model.articles import score_article
from training.metrics import head_metrics

GOLD = Path(__file__).resolve().parent / "data" / "articles"
STANCES = ("support", "oppose", "neutral")


def load_gold(folder: Path = GOLD) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def _norm(name: str | None) -> str | None:
    if name is None:
        return None
    name = re.sub(r"['’]s\b", "", name.lower())
    return re.sub(r"^(the|a|an)\s+", "", name).strip()


def same_speaker(gold: str | None, found: str | None) -> bool:
    g, f = _norm(gold), _norm(found)
    if g is None or f is None:
        return g is None and f is None
    return g == f or g in f or f in g or g.split()[-1] == f.split()[-1]


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> float:
    shared = min(a["end"], b["end"]) - max(a["start"], b["start"])
    longest = max(a["end"] - a["start"], b["end"] - b["start"], 1)
    return max(shared, 0) / longest


def match(gold: list[dict[str, Any]], found: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """(gold index, found index) pairs, one-to-one, best overlap first, overlap >= 0.5."""
    pairs = sorted(
        (
            (_overlap(g, f), i, j)
            for i, g in enumerate(gold)
            for j, f in enumerate(found)
            if _overlap(g, f) >= 0.5
        ),
        reverse=True,
    )
    used_gold: set[int] = set()
    used_found: set[int] = set()
    matched = []
    for _, i, j in pairs:
        if i not in used_gold and j not in used_found:
            used_gold.add(i)
            used_found.add(j)
            matched.append((i, j))
    return sorted(matched)


def _gold_speaker_stance(statements: list[dict[str, Any]]) -> str | None:
    polar = {s["stance"] for s in statements} - {"neutral"}
    if len(polar) > 1:
        return None  # mixed: no single gold stance
    return polar.pop() if polar else "neutral"


def evaluate_articles(model: Any, articles: list[dict[str, Any]]) -> dict[str, Any]:
    n_gold = n_found = 0
    speaker_right = kind_right = 0
    gold_stance: list[str] = []
    found_stance: list[str] = []
    speaker_gold: list[str] = []
    speaker_found: list[str] = []
    misses: list[dict[str, Any]] = []
    for article in articles:
        scored = score_article(model, article["text"])
        found = [s for s in scored["statements"] if s["kind"] != "narration"]
        gold = article["statements"]
        pairs = match(gold, found)
        n_gold += len(gold)
        n_found += len(found)
        for i, j in pairs:
            g, f = gold[i], found[j]
            speaker_right += same_speaker(g["speaker"]["name"], f["speaker"]["name"])
            kind_right += g["kind"] == f["kind"]
            gold_stance.append(g["stance"])
            found_stance.append(f["stance"]["label"])
        missed = sorted(set(range(len(gold))) - {i for i, _ in pairs})
        misses += [{"article": article["id"], "text": gold[i]["text"][:80]} for i in missed]
        by_name: dict[str | None, list[dict[str, Any]]] = {}
        for g in gold:
            if g["speaker"]["name"] is not None:
                by_name.setdefault(g["speaker"]["name"], []).append(g)
        for name, said in by_name.items():
            expected = _gold_speaker_stance(said)
            label = next(
                (s["stance"]["label"] for s in scored["speakers"] if same_speaker(name, s["name"])),
                None,
            )
            if expected is not None and label is not None:
                speaker_gold.append(expected)
                speaker_found.append(label)
    matched = len(gold_stance)
    precision = matched / n_found if n_found else 0.0
    recall = matched / n_gold if n_gold else 0.0
    return {
        "articles": len(articles),
        "gold_statements": n_gold,
        "found_statements": n_found,
        "matched": matched,
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "speaker_accuracy": speaker_right / matched if matched else 0.0,
        "kind_accuracy": kind_right / matched if matched else 0.0,
        "statement_stance": head_metrics(gold_stance, found_stance, list(STANCES)),
        "speaker_stance_accuracy": (
            sum(a == b for a, b in zip(speaker_gold, speaker_found, strict=True))
            / len(speaker_gold)
            if speaker_gold
            else 0.0
        ),
        "speakers_judged": len(speaker_gold),
        "missed": misses,
    }


def format_report(report: dict[str, Any]) -> str:
    stance = report["statement_stance"]
    lines = [
        f"{report['articles']} articles, {report['gold_statements']} gold statements, "
        f"{report['found_statements']} found, {report['matched']} matched (span overlap >= 50 %)",
        f"  statements  precision {report['precision']:.3f}  recall {report['recall']:.3f}  "
        f"F1 {report['f1']:.3f}",
        f"  on matched statements: speaker accuracy {report['speaker_accuracy']:.3f}, "
        f"kind accuracy {report['kind_accuracy']:.3f}",
        f"  stance of matched statements: accuracy {stance['accuracy']:.3f}, "
        f"macro-F1 {stance['macro_f1']:.3f}",
        f"  per-speaker stance accuracy {report['speaker_stance_accuracy']:.3f} "
        f"({report['speakers_judged']} speakers with one gold stance)",
    ]
    if report["missed"]:
        lines.append(f"  missed gold statements ({len(report['missed'])}; first 10):")
        lines += [f"    {m['article']}: {m['text']}" for m in report["missed"][:10]]
    return "\n".join(lines)
