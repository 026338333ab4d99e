"""The behavioural suite (CheckList-style) and the gate it puts in front of `make train`."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest

from model.store import ModelStore
from training.behaviour import (
    DEFAULT_GATE,
    GateThresholds,
    all_cases,
    format_suite,
    run_suite,
)
from training.dataset import normalized_key
from training.train import DEFAULT_DATA, DEFAULT_DEV, QualityFloorError, TrainConfig, train

SEED_ARTICLE = Path(__file__).resolve().parents[2] / "shared/seed/article.txt"


def oracle(texts):
    """A predictor that knows every expected label (invariance cases inherit their base's)."""
    expected = {c.text: c.expected for c in all_cases() if c.expected}
    for case in all_cases():
        if case.kind == "inv":
            expected.setdefault(case.text, expected.get(case.base, "neutral"))
            expected.setdefault(case.base, expected[case.text])
    return [expected.get(t, "support") for t in texts]  # directional bases are support


def test_suite_has_every_kind_of_case_for_every_label():
    """Minimum-functionality cases exist for each label, plus invariance and directional cases."""
    cases = all_cases()
    kinds = {c.kind for c in cases}
    assert {"mft", "inv", "dir"} == kinds
    for label in ("support", "oppose", "neutral"):
        assert sum(c.kind == "mft" and c.expected == label for c in cases) >= 30
    assert sum(c.kind == "inv" for c in cases) >= 100
    assert sum(c.kind == "dir" for c in cases) >= 30


def test_a_predictor_that_gets_everything_right_passes_the_gate():
    result = run_suite(oracle)
    assert result.passed
    assert [] == result.failures
    assert all(rate == 1.0 for rate in result.rates.values())


def test_a_predictor_that_always_says_support_fails_and_the_failures_are_listed():
    result = run_suite(lambda texts: ["support"] * len(texts))
    assert not result.passed
    assert 1.0 == result.rates["mft support"]
    assert 0.0 == result.rates["mft oppose"] == result.rates["mft neutral"]
    assert 1.0 == result.rates["inv"]  # constant predictions never change
    assert {"mft oppose", "mft neutral", "dir"} == set(result.gate["missed"])
    report = format_suite(result)
    assert "gate FAILED" in report
    assert "'Ukraine must never join NATO.': expected oppose, got support" in report


def test_an_invariance_failure_is_a_changed_prediction_not_a_wrong_label():
    """Adding 'On Thursday,' to a statement must keep the model's own label, whatever it is."""

    def date_sensitive(texts):
        return ["neutral" if t.startswith("On Thursday") else "support" for t in texts]

    result = run_suite(date_sensitive)
    failed = [f for f in result.failures if f["kind"] == "inv"]
    assert failed and all(f["text"].startswith("On Thursday") for f in failed)
    assert all(("support", "neutral") == (f["expected"], f["predicted"]) for f in failed)


def test_thresholds_decide_the_verdict():
    """One missed minimum-functionality case in a label fails a 100 % gate, not a 95 % one."""
    first_oppose = next(c.text for c in all_cases() if c.expected == "oppose" and c.kind == "mft")

    def one_wrong(texts):
        return [
            "neutral" if t == first_oppose else label
            for t, label in zip(texts, oracle(texts), strict=True)
        ]

    assert run_suite(one_wrong, DEFAULT_GATE).passed
    strict = GateThresholds(mft_per_label=1.0, invariance=0.9, directional=0.8)
    assert not run_suite(one_wrong, strict).passed


def test_behavioural_cases_are_not_in_the_training_corpus():
    """The suite is test data: none of its sentences may be trained on."""
    with DEFAULT_DATA.open(encoding="utf-8") as f:
        corpus = {normalized_key(row["text"]) for row in csv.DictReader(f)}
    texts = {c.text for c in all_cases()} | {c.base for c in all_cases() if c.base}
    assert set() == {t for t in texts if normalized_key(t) in corpus}


def test_a_model_that_fails_the_gate_is_written_but_not_made_current(tiny_csv, model_dir, tmp_path):
    """The tiny corpus cannot pass the gate: the version is saved, current stays, and the
    error names the missed thresholds."""
    models = tmp_path / "models"
    shutil.copytree(model_dir, models, symlinks=True)
    before = ModelStore(models).current_version()
    config = TrainConfig(data=tiny_csv, model_dir=models, quality_floor=0.0, folds=3, n_jobs=1)
    with pytest.raises(QualityFloorError, match="fails the behavioural gate") as caught:
        train(config, say=lambda _: None)
    store = ModelStore(models)
    assert before == store.current_version()
    assert 2 == len(store.versions())
    [new] = [v for v in store.versions() if v != before]
    behaviour = store.read_metadata(new)["behaviour"]
    assert not behaviour["gate"]["passed"] and behaviour["gate"]["enforced"]
    assert "NOT made current" in str(caught.value)


@pytest.fixture(scope="module")
def default_model(tmp_path_factory):
    """The default corpus trained exactly as `make train` trains it (5-fold CV search)."""
    models = tmp_path_factory.mktemp("default-model")
    dev = DEFAULT_DEV if DEFAULT_DEV.exists() else None
    report = train(TrainConfig(model_dir=models, dev=dev, n_jobs=1), say=lambda _: None)
    return report, ModelStore(models).load()


@pytest.mark.slow
def test_the_default_model_passes_the_gate_and_becomes_current(default_model):
    report, model = default_model
    assert report.promoted
    assert report.metadata["behaviour"]["gate"]["passed"]
    assert model.version == report.version


def seed_statements() -> dict[str, str]:
    """The seed article's statements, found by who makes them (the article is not copied)."""
    paragraphs = [p.strip() for p in SEED_ARTICLE.read_text(encoding="utf-8").splitlines()]
    sentences = [s for p in paragraphs for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", p)]

    def first(pattern: str) -> str:
        return next(s for s in sentences if re.search(pattern, s))

    drone = next(p for p in paragraphs if "drone" in p)
    return {
        "support: the Foreign Ministry": first(r"Foreign Ministry of Ukraine stated"),
        "support: Zelenskiy, reported": first(r"Zelenskiy, he suggested"),
        "support: Zelenskiy, direct": first(r"^Zelenskiy emphasized"),
        "oppose: Peskov": first(r"Peskov"),
        "neutral: the drone paragraph": drone,
    }


# The two reported support statements of the seed article, as whole sentences with their
# attribution, are still read as oppose, though close to the line since corpus round 7 (supporters
# arguing from war, peace and security; 2026-12-04): the Foreign Ministry's sentence scores -0.08
# (-0.56 before) and Zelenskiy's reported one -0.13 (-0.70). Zelenskiy's direct statement
# ("to stop the hot phase of the war, we need ...") came back to support (+0.09, from -0.17).
# Strict: the day the model gets one right, this test fails until the mark is removed.
KNOWN_MISSES = {
    "support: the Foreign Ministry",
    "support: Zelenskiy, reported",
}
SEED_NAMES = [
    "support: the Foreign Ministry",
    "support: Zelenskiy, reported",
    "support: Zelenskiy, direct",
    "oppose: Peskov",
    "neutral: the drone paragraph",
]


@pytest.mark.slow
@pytest.mark.skipif(not SEED_ARTICLE.exists(), reason="../shared/seed/article.txt is not here")
@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason="known miss, issue 10"))
        if n in KNOWN_MISSES
        else n
        for n in SEED_NAMES
    ],
)
def test_the_default_model_gets_the_seed_article_statement_right(default_model, name):
    _, model = default_model
    text = seed_statements()[name]
    assert name.split(":")[0] == model.predict([text])[0]["stance"]["label"]
