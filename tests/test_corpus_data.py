"""The bundled corpus and challenge set: schema, labels, balance, and no (near-)duplicates."""

import csv
import re
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest

from training.dataset import load_labelled_csv, normalized_key

DATA = Path(__file__).resolve().parents[1] / "training" / "data"
QUOTES = DATA / "quotes.csv"
CHALLENGE = DATA / "challenge.csv"
DEV = Path(__file__).resolve().parents[2] / "shared/benchmarks/real-statements/dev.csv"
SPEAKER_TYPES = {
    "head_of_state",
    "head_of_government",
    "minister",
    "diplomat",
    "legislator",
    "nato_official",
    "military",
    "analyst",
    "journalist",
    "state_media",
    "citizen",
    "activist",
    "social_media",
}
REGISTERS = {
    "speech",
    "interview",
    "press_conference",
    "statement",
    "reported",
    "social_media",
    "op_ed",
    "parliament",
    "conversation",
}
PHENOMENA = {
    "minimal_pair",
    "negation",
    "double_negation",
    "conditional",
    "deferral",
    "sarcasm",
    "rhetorical_question",
    "contrast",
    "hedging",
    "metaphor",
    "implicit",
    "reported_speech",
    "neutral_other_country",
    "neutral_eu_only",
    "neutral_procedural",
    "neutral_question",
    "neutral_not_nato",
}
NEAR_DUPLICATE_JACCARD = 0.6


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def trigrams(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return set(zip(words, words[1:], words[2:], strict=False))


def near_duplicates(
    left: list[str], right: list[str], same: bool, threshold: float = NEAR_DUPLICATE_JACCARD
) -> list[tuple[str, str, float]]:
    """Pairs whose word-trigram Jaccard similarity exceeds the threshold (indexed, so fast)."""
    right_grams = [trigrams(t) for t in right]
    index: dict[tuple[str, ...], set[int]] = {}
    for j, grams in enumerate(right_grams):
        for gram in grams:
            index.setdefault(gram, set()).add(j)
    found = []
    for i, text in enumerate(left):
        grams = trigrams(text)
        shared = Counter(j for gram in grams for j in index.get(gram, ()) if not same or j > i)
        for j, n in shared.items():
            jaccard = n / len(grams | right_grams[j])
            if jaccard > threshold:
                found.append((text, right[j], round(jaccard, 2)))
    return found


def test_corpus_passes_training_validation():
    """The corpus is valid training data: columns, labels, no empty or duplicate texts."""
    assert len(load_labelled_csv(QUOTES)) >= 2500


def test_challenge_set_passes_training_validation():
    """The challenge set is valid labelled data too."""
    assert len(load_labelled_csv(CHALLENGE)) >= 250


@pytest.mark.parametrize("label", ["support", "oppose", "neutral"])
def test_corpus_has_at_least_700_of_each_stance(label):
    """Every stance has at least 700 rows."""
    assert Counter(r["stance"] for r in rows(QUOTES))[label] >= 700


def test_corpus_classes_are_balanced_within_bounds():
    """No stance holds more than 45 % or less than 25 % of the rows. Tone follows real
    political speech, which is mostly flat: neutral 45-70 %, positive and negative 12 % each."""
    data = rows(QUOTES)
    stance = [n / len(data) for n in Counter(r["stance"] for r in data).values()]
    assert all(0.25 <= share <= 0.45 for share in stance), stance
    tone = {k: n / len(data) for k, n in Counter(r["sentiment"] for r in data).items()}
    assert 0.45 <= tone["neutral"] <= 0.70, tone
    assert tone["positive"] >= 0.12 and tone["negative"] >= 0.12, tone


def test_polar_rows_name_nato_alike():
    """Support and oppose rows name NATO about equally often (within 15 points), and most do:
    a corpus whose supporters say "the Alliance" teaches the model that "NATO" means oppose."""
    data = rows(QUOTES)
    shares = {}
    for label in ("support", "oppose"):
        texts = [r["text"] for r in data if r["stance"] == label]
        shares[label] = sum(bool(re.search(r"\bNATO\b", t)) for t in texts) / len(texts)
    assert abs(shares["support"] - shares["oppose"]) <= 0.15, shares
    assert min(shares.values()) >= 0.5, shares


@pytest.mark.skipif(not DEV.exists(), reason="the shared development set is not beside the project")
def test_no_corpus_row_is_close_to_a_development_statement():
    """The development set is for measuring only: no corpus row shares a fifth of its word
    trigrams with a real statement in it (a stricter bar than for near-duplicates)."""
    corpus = [r["text"] for r in rows(QUOTES)]
    dev = [r["text"] for r in rows(DEV)]
    assert [] == near_duplicates(corpus, dev, same=False, threshold=0.2)


def test_every_stance_sentiment_combination_is_represented():
    """All nine stance x sentiment combinations occur at least 50 times."""
    combos = Counter((r["stance"], r["sentiment"]) for r in rows(QUOTES))
    assert 9 == len(combos)
    assert min(combos.values()) >= 50


def test_corpus_metadata_columns_use_the_codebook_values():
    """ids are unique, speaker_type and register come from the codebook's lists."""
    data = rows(QUOTES)
    assert len(data) == len({r["id"] for r in data})
    assert {r["speaker_type"] for r in data} <= SPEAKER_TYPES
    assert {r["register"] for r in data} <= REGISTERS


def test_challenge_phenomena_are_known_and_each_has_15_rows():
    """Every challenge row names a known phenomenon; each phenomenon has at least 15 rows."""
    counts = Counter(r["phenomenon"] for r in rows(CHALLENGE))
    assert set(counts) <= PHENOMENA
    assert min(counts.values()) >= 15
    assert counts["minimal_pair"] >= 100


def test_challenge_minimal_pairs_flip_the_stance():
    """Minimal pairs come as consecutive rows whose stances differ."""
    pairs = [r for r in rows(CHALLENGE) if r["phenomenon"] == "minimal_pair"]
    assert 0 == len(pairs) % 2
    for first, second in list(pairwise(pairs))[::2]:
        assert first["stance"] != second["stance"], (first["text"], second["text"])


def test_no_near_duplicates_within_the_corpus():
    """No two corpus rows share most of their word trigrams."""
    texts = [r["text"] for r in rows(QUOTES)]
    assert [] == near_duplicates(texts, texts, same=True)


def test_no_overlap_between_corpus_and_challenge_set():
    """No challenge row is equal or nearly equal to a training row."""
    corpus = [r["text"] for r in rows(QUOTES)]
    challenge = [r["text"] for r in rows(CHALLENGE)]
    assert set() == {normalized_key(t) for t in corpus} & {normalized_key(t) for t in challenge}
    assert [] == near_duplicates(challenge, corpus, same=False)


def test_near_duplicate_check_catches_a_small_rewording():
    """The detector flags a sentence that differs from another by one word (it can fail)."""
    original = [
        "The allies will meet in Vilnius to discuss the wording on Ukraine's future membership."
    ]
    reworded = [
        "The allies will meet in Vilnius to debate the wording on Ukraine's future membership."
    ]
    assert 1 == len(near_duplicates(reworded, original, same=False))


AUDITS = DATA / "audits"


def test_audit_records_match_the_labels_they_changed():
    """Each audit file records label changes in order; the last change of every row is its label
    now, and each change starts from the label the previous one left."""
    labels = {
        r["id"]: r
        for path in (QUOTES, CHALLENGE)
        for r in csv.DictReader(path.open(encoding="utf-8"))
    }
    files = sorted(AUDITS.glob("*.csv"))
    assert files, "no audit records in training/data/audits"
    for path in files:
        column = path.name.split("-")[0]
        last: dict[str, str] = {}
        for row in csv.DictReader(path.open(encoding="utf-8")):
            assert row["id"] in labels, f"{path.name}: unknown id {row['id']}"
            assert row["old"] != row["new"] and row["reason"].strip(), row
            assert last.get(row["id"], row["old"]) == row["old"], f"{path.name}: {row}"
            last[row["id"]] = row["new"]
        for row_id, label in last.items():
            assert labels[row_id][column] == label, f"{path.name}: {row_id} is not {label} now"
