"""The hand-written fast paths against the library code they stand in for, on the whole corpus.

`TextFeatures.transform` counts and weights n-grams itself instead of calling scikit-learn's
`TfidfVectorizer.transform`, and `model.tone` re-implements VADER's rules instead of calling
vaderSentiment. Both were checked on a handful of sentences; these tests check them on every
statement of the default corpus (training/data/quotes.csv), and that `predict` answers in the
order it was asked.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import scipy.sparse as sp

from model.classifier import StanceSentimentModel
from model.features import TextFeatures
from model.store import LoadedModel
from model.tone import tone_scores
from training.dataset import load_labelled_csv
from training.train import DEFAULT_DATA


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    return list(load_labelled_csv(DEFAULT_DATA).texts)


@pytest.mark.slow
@pytest.mark.parametrize(
    "make_features",
    [
        lambda: StanceSentimentModel().make_features(),
        lambda: TextFeatures(),
        lambda: TextFeatures(
            canonical_terms=True,
            char_words_only=True,
            hashtag_tokens=True,
            mask_target_terms=True,
            mask_speaker_names=True,
            min_df=2,
        ),
        lambda: TextFeatures(char_ngram_range=None, mark_negation=False, word_ngram_range=(1, 2)),
        lambda: StanceSentimentModel().make_views()[-1],
    ],
    ids=[
        "as-the-model-ships",
        "textfeatures-defaults",
        "every-option",
        "words-only",
        "target-window-view",
    ],
)
def test_tfidf_transform_equals_scikit_learns_on_the_corpus(
    corpus: list[str], make_features: Callable[[], TextFeatures]
) -> None:
    """On every corpus statement, TextFeatures.transform gives the matrix that the fitted
    vectorizers' own `transform` give, stacked side by side: the same non-zero cells, values
    equal to float32 precision (largest difference measured on 2026-12-03: 6e-8, one float32
    step)."""
    features = make_features().fit(corpus)
    normalized = [features.normalize(text) for text in corpus]
    blocks = [features.word_.transform(normalized)]
    if features.char_ is not None:
        blocks.append(features.char_.transform(normalized))
    expected = sp.hstack(blocks, format="csr")
    actual = features.transform(corpus)
    expected.sort_indices()
    actual.has_sorted_indices = False  # see the next test: the flag is set on unsorted rows
    actual.sort_indices()
    assert expected.shape == actual.shape
    assert np.array_equal(expected.indptr, actual.indptr)
    assert np.array_equal(expected.indices, actual.indices)
    assert float(np.abs(expected.data - actual.data).max()) < 1e-6


def test_transform_claims_sorted_indices_only_when_they_are() -> None:
    """A CSR matrix that says its column indices are sorted must have them sorted."""
    texts = ["Ukraine belongs in NATO now", "NATO must never admit Ukraine"]
    matrix = TextFeatures(char_ngram_range=None).fit(texts).transform(texts)
    rows = np.split(matrix.indices, matrix.indptr[1:-1])
    assert matrix.has_sorted_indices
    assert all(np.all(np.diff(row) > 0) for row in rows)


@pytest.mark.slow
def test_tone_agrees_with_vader_on_the_corpus(corpus: list[str]) -> None:
    """model.tone against vaderSentiment's polarity_scores on every corpus statement
    (6,480 on 2026-12-03). Measured then: all four scores within 0.05 for 95.8 % of the
    statements (within 0.01 for 79.9 %, median largest difference 0.0005); VADER's label
    (compound >= 0.05 positive, <= -0.05 negative) the same for 98.5 %; but 75 statements
    (1.2 %) get the opposite sign, and the largest difference is 1.39 on the compound score
    ("We are asking that Ukraine not become a member of NATO and that no offensive weapons be
    placed...": VADER 0.60, model.tone -0.80). On the previous corpus (4,497 statements):
    95.7 %, 98.7 %, 42 opposite signs, largest 1.27 ("the least bad option"). Most
    disagreements come from VADER rules that model.tone leaves out: "no" before a sentiment
    word, "least", and its negation idioms ("never so", "without doubt"). This test keeps the
    agreement from getting worse; closing the gap changes the features and needs a retrained
    model."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    expected = np.array(
        [
            [s["compound"], s["pos"], s["neg"], s["neu"]]
            for s in (analyzer.polarity_scores(text) for text in corpus)
        ]
    )
    actual = np.array([tone_scores(text) for text in corpus])
    largest = np.abs(expected - actual).max(axis=1)

    def label(compound: np.ndarray) -> np.ndarray:
        return np.where(compound >= 0.05, 1, np.where(compound <= -0.05, -1, 0))

    assert float(np.mean(largest <= 0.05)) >= 0.95
    assert float(np.median(largest)) <= 0.001
    assert float(np.mean(label(expected[:, 0]) == label(actual[:, 0]))) >= 0.98
    assert int(np.sum(expected[:, 0] * actual[:, 0] < 0)) <= 0.015 * len(corpus)


def test_predict_answers_in_the_order_asked(loaded_model: LoadedModel) -> None:
    """Each result of a batch is the one its own text gets alone, at its own position: the
    batch reversed gives the results reversed, and duplicates get identical results."""
    texts = [
        "Ukraine's place is in NATO and the path there is irreversible.",
        "Membership for Kyiv is not on the agenda and will not be.",
        "The defence ministers met in Brussels on Tuesday.",
        "We will never accept Ukraine in the Alliance.",
        "Ukraine's place is in NATO and the path there is irreversible.",
        "A wonderful day for the Alliance and for Ukraine!",
    ]
    alone = [loaded_model.predict([text])[0] for text in texts]
    assert alone == loaded_model.predict(texts)
    assert alone[::-1] == loaded_model.predict(texts[::-1])
    assert alone[0] == alone[4]
    stance, sentiment = loaded_model.predict_proba(texts)
    for i, text in enumerate(texts):
        one_stance, one_sentiment = loaded_model.predict_proba([text])
        np.testing.assert_allclose(one_stance[0], stance[i], rtol=1e-6)
        np.testing.assert_allclose(one_sentiment[0], sentiment[i], rtol=1e-6)
