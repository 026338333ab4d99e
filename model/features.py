"""Text features shared by both heads: word and character n-gram TF-IDF, plus VADER tone scores."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer

from model.text import normalize, tokenize


class WordNgrams:
    """Picklable analyzer: word n-grams of an already normalised text, negation-marked on request."""

    def __init__(self, ngram_range: tuple[int, int], mark_negation: bool) -> None:
        self.ngram_range = ngram_range
        self.mark_negation = mark_negation

    def __call__(self, normalized: str) -> list[str]:
        tokens = tokenize(normalized, self.mark_negation)
        low, high = self.ngram_range
        grams = list(tokens) if low == 1 else []
        for n in range(max(low, 2), high + 1):
            grams += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
        return grams


class TextFeatures(BaseEstimator, TransformerMixin):
    """Normalises each text once, then stacks word and character n-gram TF-IDF columns.

    Column order: every word n-gram, then every character n-gram (`char_wb`, so n-grams never
    cross a word boundary and can be attributed to words by `model.explain`).
    """

    def __init__(
        self,
        word_ngram_range: tuple[int, int] = (1, 3),
        char_ngram_range: tuple[int, int] | None = (2, 5),
        mark_negation: bool = True,
        min_df: int = 1,
        max_features: int | None = None,
    ) -> None:
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.mark_negation = mark_negation
        self.min_df = min_df
        self.max_features = max_features

    def fit(self, texts: Sequence[str], y: Any = None) -> TextFeatures:
        normalized = [normalize(t) for t in texts]
        self.word_ = TfidfVectorizer(
            analyzer=WordNgrams(tuple(self.word_ngram_range), self.mark_negation),
            lowercase=False,
            sublinear_tf=True,
            min_df=self.min_df,
            max_features=self.max_features,
            dtype=np.float32,
        ).fit(normalized)
        self.char_ = None
        if self.char_ngram_range is not None:
            self.char_ = TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=tuple(self.char_ngram_range),
                lowercase=False,
                sublinear_tf=True,
                min_df=self.min_df,
                max_features=self.max_features,
                dtype=np.float32,
            ).fit(normalized)
        return self

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        normalized = [normalize(t) for t in texts]
        blocks = [self.word_.transform(normalized)]
        if self.char_ is not None:
            blocks.append(self.char_.transform(normalized))
        return sp.hstack(blocks, format="csr")

    @property
    def n_word_features_(self) -> int:
        return len(self.word_.vocabulary_)

    def feature_names(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Word and character vocabularies, each indexed by its own column offset."""
        words = self.word_.get_feature_names_out()
        chars = self.char_.get_feature_names_out() if self.char_ is not None else None
        return words, chars


class VaderTone:
    """VADER's lexicon scores (compound, positive, negative, neutral) as four dense columns.

    Built lazily and never pickled: the lexicon ships with the `vaderSentiment` package.
    """

    names = ("vader_compound", "vader_positive", "vader_negative", "vader_neutral")

    @cached_property
    def _analyzer(self) -> Any:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        return SentimentIntensityAnalyzer()

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        return None

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        scores = np.empty((len(texts), 4), dtype=np.float32)
        polarity = self._analyzer.polarity_scores
        for i, text in enumerate(texts):
            s = polarity(text[:2000])
            scores[i] = (s["compound"], s["pos"], s["neg"], s["neu"])
        return scores
