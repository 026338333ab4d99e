"""The gold articles (training/data/articles/) are well-formed, and article mode keeps the
figures measured on them (`stance evaluate-articles`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training.article_eval import GOLD, evaluate_articles, load_gold, match, same_speaker

FILES = sorted(GOLD.glob("*.json"))
LABELS = {
    "stance": {"support", "oppose", "neutral"},
    "sentiment": {"positive", "negative", "neutral"},
}


def test_there_are_at_least_30_gold_articles() -> None:
    assert len(FILES) >= 30


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_a_gold_article_is_well_formed(path: Path) -> None:
    """Keys, id = file name, 150-600 words, every span is the article's text at its offsets,
    in order without overlap, labels and kinds from their sets, several speakers."""
    article = json.loads(path.read_text(encoding="utf-8"))
    assert ["id", "setting", "outlet", "title", "text", "statements"] == list(article)
    assert path.stem == article["id"]
    assert 150 <= len(article["text"].split()) <= 600
    previous_end = 0
    for statement in article["statements"]:
        assert article["text"][statement["start"] : statement["end"]] == statement["text"]
        assert statement["start"] >= previous_end
        previous_end = statement["end"]
        assert statement["kind"] in {"direct", "indirect"}
        assert statement["stance"] in LABELS["stance"]
        assert statement["sentiment"] in LABELS["sentiment"]
        assert set(statement["speaker"]) == {"name", "role"}
    assert len({s["speaker"]["name"] for s in article["statements"]}) >= 3


def test_spans_match_by_half_the_longer_span_one_to_one() -> None:
    """The matching rule: overlap of at least half the longer span, each statement once."""
    gold = [{"start": 0, "end": 10}, {"start": 20, "end": 30}]
    found = [{"start": 0, "end": 9}, {"start": 2, "end": 8}, {"start": 24, "end": 40}]
    assert [(0, 0)] == match(gold, found)


def test_speaker_names_agree_on_surnames_and_possessives() -> None:
    assert same_speaker("President Volodymyr Lysenko", "Volodymyr Lysenko")
    assert same_speaker("Ukraine's Foreign Ministry", "the Foreign Ministry")
    assert same_speaker(None, None)
    assert not same_speaker("Dmitry Orlovsky", "Sergei Lomakin")
    assert not same_speaker(None, "Sergei Lomakin")


def test_article_mode_keeps_its_measured_figures_on_the_gold_set(loaded_model) -> None:
    """Measured on 2026-12-03: precision 0.925, recall 0.977, speaker accuracy 0.900 (the
    tiny model changes only the stances, not the extraction). Floors a little under those."""
    report = evaluate_articles(loaded_model, load_gold())
    assert report["recall"] >= 0.95
    assert report["precision"] >= 0.90
    assert report["speaker_accuracy"] >= 0.88
    assert report["kind_accuracy"] >= 0.98
