"""Text features shared by both heads: word and character n-gram TF-IDF, plus VADER tone scores."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer

from model.text import TARGET_TERMS, CharText, normalize, target_windows, tokenize


class WordNgrams:
    """Picklable analyzer: word n-grams of an already normalised text, negation-marked on request."""

    def __init__(
        self,
        ngram_range: tuple[int, int],
        mark_negation: bool,
        canonical: bool = False,
        mask_targets: bool = False,
    ) -> None:
        self.ngram_range = ngram_range
        self.mark_negation = mark_negation
        self.canonical = canonical
        self.mask_targets = mask_targets

    def __call__(self, normalized: str) -> list[str]:
        canonical = self.__dict__.get("canonical", False)  # analyzers pickled before the option
        tokens = tokenize(normalized, self.mark_negation, canonical)
        low, high = self.ngram_range
        grams = list(tokens) if low == 1 else []
        if grams and self.__dict__.get("mask_targets", False):
            grams = [t for t in grams if t not in TARGET_TERMS]
        for n in range(max(low, 2), high + 1):
            # n copies of the tokens, each shifted by one more: zip stops at the shortest.
            grams += map(" ".join, zip(*(tokens[i:] for i in range(n)), strict=False))
        return grams


def tfidf_rows(
    vectorizer: TfidfVectorizer, columns_of: Callable[[str], Iterable[int]], docs: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sublinear TF-IDF rows, l2-normalised, of a fitted `vectorizer`: CSR (data, indices, indptr).

    `columns_of(doc)` lists the vocabulary column of each of the doc's n-grams found in the
    vocabulary, once per occurrence.
    """
    occurrences: list[int] = []
    ends = [0]
    for doc in docs:
        occurrences.extend(columns_of(doc))
        ends.append(len(occurrences))
    # Each (row, column) pair counted at once, in C: unique keys come back sorted by row, then
    # by column.
    width = len(vectorizer.idf_)
    rows = np.repeat(np.arange(len(docs), dtype=np.int64), np.diff(ends))
    keys, counts = np.unique(
        rows * width + np.asarray(occurrences, dtype=np.int64), return_counts=True
    )
    row_of, columns = np.divmod(keys, width)
    columns = columns.astype(np.int32)
    pointers = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum(np.bincount(row_of, minlength=len(docs)), out=pointers[1:])
    values = (np.log(counts.astype(np.float64)) + 1.0) * vectorizer.idf_[columns]
    lengths = np.diff(pointers)
    if len(values):
        norms = np.sqrt(np.add.reduceat(values * values, pointers[:-1][lengths > 0]))
        values /= np.repeat(norms, lengths[lengths > 0])
    return values.astype(np.float32), columns, pointers


def analyzer_columns(vectorizer: TfidfVectorizer, analyzer: Any) -> Callable[[str], list[int]]:
    """`columns_of` for any analyzer: each n-gram looked up in the vocabulary."""
    vocabulary = vectorizer.vocabulary_

    def columns_of(doc: str) -> list[int]:
        return [j for gram in analyzer(doc) if (j := vocabulary.get(gram)) is not None]

    return columns_of


class CharColumns:
    """`columns_of` for character n-grams within words (`char_wb`), cached per word.

    A `char_wb` analyzer makes each word's n-grams on their own (the word padded with one
    space each side), so a text's n-grams are its words' n-grams in order, and the vocabulary
    columns of a word are worked out once. The cache holds at most `max_words` words; when it
    is full it starts again, so odd input cannot grow it without bound.
    """

    def __init__(self, vectorizer: TfidfVectorizer, max_words: int = 50_000) -> None:
        self._vocabulary = vectorizer.vocabulary_
        self._preprocess = vectorizer.build_preprocessor()
        self._word_ngrams = vectorizer._char_wb_ngrams  # the analyzer's own per-text function
        self._max_words = max_words
        self._cache: dict[str, tuple[int, ...]] = {}

    def _word(self, word: str) -> tuple[int, ...]:
        columns = self._cache.get(word)
        if columns is None:
            vocabulary = self._vocabulary
            columns = tuple(
                j for gram in self._word_ngrams(word) if (j := vocabulary.get(gram)) is not None
            )
            if len(self._cache) >= self._max_words:
                self._cache.clear()
            self._cache[word] = columns
        return columns

    def __call__(self, doc: str) -> Iterator[int]:
        return chain.from_iterable(map(self._word, self._preprocess(doc).split()))


def stack_columns(
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]], widths: list[int]
) -> sp.csr_matrix:
    """Side-by-side CSR blocks (same rows) as one CSR matrix, without scipy's generic hstack."""
    n_rows = len(blocks[0][2]) - 1
    offsets = np.cumsum([0, *widths[:-1]])
    rows = [np.repeat(np.arange(n_rows), np.diff(pointers)) for _, _, pointers in blocks]
    order = np.argsort(np.concatenate(rows), kind="stable")
    data = np.concatenate([values for values, _, _ in blocks])[order]
    indices = np.concatenate(
        [cols + off for (_, cols, _), off in zip(blocks, offsets, strict=True)]
    )[order]
    indptr = sum(pointers for _, _, pointers in blocks)
    matrix = sp.csr_matrix((data, indices.astype(np.int32), indptr), shape=(n_rows, sum(widths)))
    matrix.sort_indices()  # each row's columns come in first-seen order; scipy sorts them in C
    return matrix


class TextFeatures(BaseEstimator, TransformerMixin):
    """Normalises each text once, then stacks word and character n-gram TF-IDF columns.

    Column order: every word n-gram, then every character n-gram (`char_wb`, so n-grams never
    cross a word boundary and can be attributed to words by `model.explain`). With
    `hashtag_tokens`, each hashtag is also one whole word (see `model.text.normalize`); with
    `canonical_terms`, word n-grams see domain synonyms as one word (`model.text.tokenize`); with
    `char_words_only`, character n-grams see words without the punctuation around them, so
    "NATO." at the end of a sentence and "NATO" inside it share their n-grams; with
    `mask_target_terms`, the words that name the question (`model.text.TARGET_TERMS`) give no
    unigram and no character n-grams, only word n-grams with their neighbours; with
    `mask_speaker_names`, a titled person's name is dropped and the title kept
    (`model.text.mask_titled_names`), so the speaker's name never decides the label; with
    `window`, the features see only the words within `window` words of a word that names the
    question (`model.text.target_windows`): the same statement seen a second time, closer up.
    """

    def __init__(
        self,
        word_ngram_range: tuple[int, int] = (1, 3),
        char_ngram_range: tuple[int, int] | None = (3, 5),
        mark_negation: bool = True,
        min_df: int = 1,
        max_features: int | None = None,
        hashtag_tokens: bool = False,
        canonical_terms: bool = False,
        char_words_only: bool = False,
        mask_target_terms: bool = False,
        mask_speaker_names: bool = False,
        window: int | None = None,
    ) -> None:
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.mark_negation = mark_negation
        self.min_df = min_df
        self.max_features = max_features
        self.hashtag_tokens = hashtag_tokens
        self.canonical_terms = canonical_terms
        self.char_words_only = char_words_only
        self.mask_target_terms = mask_target_terms
        self.mask_speaker_names = mask_speaker_names
        self.window = window

    def normalize(self, text: str) -> str:
        """The text as these features see it (features pickled before an option: without it)."""
        normalized = normalize(
            text,
            self.__dict__.get("hashtag_tokens", False),
            self.__dict__.get("mask_speaker_names", False),
        )
        return self.narrow(normalized)

    def narrow(self, normalized: str) -> str:
        """A normalised text as this view sees it: its target windows, or all of it."""
        window = self.__dict__.get("window")  # features pickled before the option: all of it
        return target_windows(normalized, window) if window else normalized

    def fit(self, texts: Sequence[str], y: Any = None) -> TextFeatures:
        self.fit_transform(texts)
        return self

    def fit_transform(self, texts: Sequence[str], y: Any = None) -> sp.csr_matrix:
        """Fit on `texts` and return their matrix (what `transform` gives them), built from the
        counts the fit makes anyway rather than by counting every text a second time."""
        normalized = [self.normalize(t) for t in texts]
        self.word_ = TfidfVectorizer(
            analyzer=WordNgrams(
                tuple(self.word_ngram_range),
                self.mark_negation,
                self.canonical_terms,
                self.mask_target_terms,
            ),
            lowercase=False,
            sublinear_tf=True,
            min_df=self.min_df,
            max_features=self.max_features,
            dtype=np.float32,
        )
        blocks = [self.word_.fit_transform(normalized)]
        self.char_ = None
        if self.char_ngram_range is not None:
            self.char_ = TfidfVectorizer(
                analyzer="char_wb",
                preprocessor=self._char_preprocessor(),
                ngram_range=tuple(self.char_ngram_range),
                lowercase=False,
                sublinear_tf=True,
                min_df=self.min_df,
                max_features=self.max_features,
                dtype=np.float32,
            )
            blocks.append(self.char_.fit_transform(normalized))
        matrix = sp.hstack(blocks, format="csr")
        matrix.sort_indices()
        return matrix

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The same matrix as the vectorizers' own `transform`, without their per-call checks.

        scikit-learn validates inputs on every call, which costs more than the features of a
        single statement; here each block is counted, weighted and normalised directly.
        """
        return self.transform_normalized([self.normalize(t) for t in texts])

    def transform_normalized(self, normalized: Sequence[str]) -> sp.csr_matrix:
        """`transform` of texts already in the form `normalize` gives."""
        words = analyzer_columns(self.word_, self.word_.analyzer)
        blocks = [tfidf_rows(self.word_, words, normalized)]
        widths = [len(self.word_.vocabulary_)]
        if self.char_ is not None:
            blocks.append(tfidf_rows(self.char_, self._char_columns(), normalized))
            widths.append(len(self.char_.vocabulary_))
        return stack_columns(blocks, widths)

    @property
    def n_features_(self) -> int:
        return self.n_word_features_ + (len(self.char_.vocabulary_) if self.char_ else 0)

    def _char_preprocessor(self) -> CharText | None:
        words_only = self.__dict__.get("char_words_only", False)
        mask = self.__dict__.get("mask_target_terms", False)
        return CharText(words_only, mask) if words_only or mask else None

    def char_text(self, normalized: str) -> str:
        """The normalised text as the character n-grams see it (features pickled before these
        options see it unchanged)."""
        preprocessor = self._char_preprocessor()
        return preprocessor(normalized) if preprocessor else normalized

    def _char_columns(self) -> CharColumns:
        columns = self.__dict__.get("_char_columns_")
        if columns is None:
            columns = self.__dict__["_char_columns_"] = CharColumns(self.char_)
        return columns

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_char_analyzer_", None)
        state.pop("_char_columns_", None)
        state.pop("_names_", None)
        return state

    @property
    def n_word_features_(self) -> int:
        return len(self.word_.vocabulary_)

    def feature_names(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Word and character vocabularies, each indexed by its own column offset.

        Built once per process: rebuilding them took most of the time of an explanation.
        """
        names = self.__dict__.get("_names_")
        if names is None:
            words = self.word_.get_feature_names_out()
            chars = self.char_.get_feature_names_out() if self.char_ is not None else None
            names = self.__dict__["_names_"] = (words, chars)
        return names
