"""The stance + sentiment estimator: text-feature views of each statement, one linear head per
task. Both heads see the whole text; the stance head also sees the words near the question and
two scope columns.

Both heads are multinomial logistic regressions whose logits are divided by a temperature
fitted on out-of-fold predictions (temperature scaling), so probabilities are calibrated and
every prediction stays an exact sum of per-feature contributions (see `explain`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression

from model.errors import InputTextError
from model.features import TextFeatures
from model.labels import SENTIMENT_LABELS, STANCE_LABELS
from model.text import SCOPE_NAMES, normalize, scope_flags
from model.tone import TONE_NAMES, tone_matrix

HEADS: dict[str, tuple[str, ...]] = {"stance": STANCE_LABELS, "sentiment": SENTIMENT_LABELS}


def check_texts(texts: Sequence[Any]) -> list[str]:
    """The texts as a list of strings, or an `InputTextError` naming the first bad item."""
    if isinstance(texts, str):
        raise InputTextError("expected a list of texts, got a single string; wrap it in a list")
    checked = list(texts)
    for i, text in enumerate(checked):
        if not isinstance(text, str):
            raise InputTextError(f"text {i} is {type(text).__name__}, expected a string")
    return checked


# The shipped heads are fitted to this tolerance; the cross-validation folds that choose C and
# the temperature use scikit-learn's default, as they only compare candidates.
HEAD_TOLERANCE = 1e-6
SEARCH_TOLERANCE = 1e-4


def fit_head(
    X: Any, y: Sequence[str], C: float, class_weight: str | None, tol: float = HEAD_TOLERANCE
) -> LogisticRegression:
    """A multinomial logistic regression head, fitted to its optimum.

    newton-cg converges in a handful of iterations on these wide sparse matrices, about
    twenty times faster than lbfgs to the same optimum. With scikit-learn's default tolerance
    (1e-4) it stopped early enough that the order of a row's columns alone moved 14 of the 345
    real-statement predictions (macro-F1 0.569 against 0.555 on the same data); at 1e-6 both
    orders give the same model.
    """
    return LogisticRegression(
        C=C, class_weight=class_weight, solver="newton-cg", max_iter=1000, tol=tol
    ).fit(X, y)


def fit_view(view: TextFeatures, texts: Sequence[str]) -> tuple[TextFeatures, sp.csr_matrix]:
    """A view fitted on `texts`, and their matrix (a joblib task returns both)."""
    matrix = view.fit_transform(texts)
    return view, matrix


def scope_matrix(texts: Sequence[str]) -> np.ndarray:
    """`model.text.scope_flags` of each text, one row per text."""
    return np.array([scope_flags(text) for text in texts], dtype=np.float32).reshape(-1, 2)


def head_weights(head: LogisticRegression, labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """A head's (features x labels) weight matrix and bias, columns in `labels` order."""
    order = [list(head.classes_).index(label) for label in labels]
    return np.ascontiguousarray(head.coef_[order].T), head.intercept_[order].copy()


def head_logits(head: LogisticRegression, X: Any, labels: Sequence[str]) -> np.ndarray:
    """Decision values of a head with columns in `labels` order (decision_function, unchecked)."""
    weights, bias = head_weights(head, labels)
    return np.asarray(X @ weights + bias)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


class StanceSentimentModel(BaseEstimator):
    """Stance (support/oppose/neutral) and sentiment (positive/negative/neutral) of statements.

    The sentiment head sees the shared n-gram features plus, with `use_vader`, four tone scores
    from VADER's lexicon and rules (`model.tone`) scaled by `vader_weight`.

    The defaults are the shipped model's: speakers' names dropped after their titles, the words
    naming the question kept out of unigrams and character n-grams, synonyms as one word, and
    character n-grams of bare words (see `model.features.TextFeatures`). With `target_window`,
    the stance head also sees a second view of each statement: only the words within that many
    words of a word naming the question (NATO, membership, accession, neutrality, ...), so what
    is said about the question weighs more than the context around it. With `scope_features`, it
    also sees two columns for the codebook's neutral scopes (`model.text.scope_flags`: another
    country named and Ukraine never, the EU named and NATO never). Each was measured on real
    statements and on the behavioural tests (README, "Accuracy on real statements").
    """

    def __init__(
        self,
        word_ngram_range: tuple[int, int] = (1, 3),
        char_ngram_range: tuple[int, int] | None = (3, 5),
        mark_negation: bool = True,
        min_df: int = 1,
        stance_C: float = 4.0,
        sentiment_C: float = 4.0,
        class_weight: str | None = "balanced",
        use_vader: bool = True,
        vader_weight: float = 1.0,
        stance_temperature: float = 1.0,
        sentiment_temperature: float = 1.0,
        hashtag_tokens: bool = False,
        canonical_terms: bool = True,
        char_words_only: bool = True,
        mask_target_terms: bool = True,
        mask_speaker_names: bool = True,
        target_window: int | None = 7,
        scope_features: bool = True,
    ) -> None:
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.mark_negation = mark_negation
        self.min_df = min_df
        self.stance_C = stance_C
        self.sentiment_C = sentiment_C
        self.class_weight = class_weight
        self.use_vader = use_vader
        self.vader_weight = vader_weight
        self.stance_temperature = stance_temperature
        self.sentiment_temperature = sentiment_temperature
        self.hashtag_tokens = hashtag_tokens
        self.canonical_terms = canonical_terms
        self.char_words_only = char_words_only
        self.mask_target_terms = mask_target_terms
        self.mask_speaker_names = mask_speaker_names
        self.target_window = target_window
        self.scope_features = scope_features

    # -- fitting -------------------------------------------------------------------------

    def make_features(self, window: int | None = None) -> TextFeatures:
        return TextFeatures(
            word_ngram_range=self.word_ngram_range,
            char_ngram_range=self.char_ngram_range,
            mark_negation=self.mark_negation,
            min_df=self.min_df,
            hashtag_tokens=self.hashtag_tokens,
            canonical_terms=self.__dict__.get("canonical_terms", False),
            char_words_only=self.__dict__.get("char_words_only", False),
            mask_target_terms=self.__dict__.get("mask_target_terms", False),
            mask_speaker_names=self.__dict__.get("mask_speaker_names", False),
            window=window,
        )

    def make_views(self) -> list[TextFeatures]:
        """Unfitted feature views: the whole text (both heads), then with `target_window` the
        words near the question (the stance head only; tone belongs to the whole text)."""
        window = self.__dict__.get("target_window")  # models fitted before the option: none
        return [self.make_features()] + ([self.make_features(window)] if window else [])

    def views(self) -> list[TextFeatures]:
        """The fitted feature views, in `make_views` order."""
        window = self.__dict__.get("window_features_")
        return [self.features_] if window is None else [self.features_, window]

    def view_matrices(self, texts: Sequence[str]) -> list[sp.csr_matrix]:
        """Each view's features of `texts`; the texts are normalised once for all views."""
        normalized = [self.features_.normalize(text) for text in texts]
        return [
            view.transform_normalized([view.narrow(text) for text in normalized])
            for view in self.views()
        ]

    def stance_matrix(self, matrices: list[sp.csr_matrix], texts: Sequence[str]) -> sp.csr_matrix:
        """Every view's columns side by side, then the scope columns when the model uses them."""
        blocks = list(matrices)
        if self.__dict__.get("scope_features"):  # models fitted before the option: none
            blocks.append(sp.csr_matrix(scope_matrix(texts)))
        return blocks[0] if len(blocks) == 1 else sp.hstack(blocks, format="csr")

    def sentiment_matrix(self, X: sp.csr_matrix, texts: Sequence[str]) -> sp.csr_matrix:
        """The whole-text view's features, plus the weighted VADER columns when the model uses
        them."""
        if not self.use_vader:
            return X
        tone = tone_matrix(list(texts)) * np.float32(self.vader_weight)
        return sp.hstack([X, sp.csr_matrix(tone)], format="csr")

    def fit(
        self,
        texts: Sequence[str],
        stance: Sequence[str],
        sentiment: Sequence[str],
        n_jobs: int | None = None,
    ) -> StanceSentimentModel:
        """Fit the views, then both heads; `n_jobs` (joblib's meaning) fits the views side by
        side and the two heads side by side."""
        texts = check_texts(texts)
        parallel = Parallel(n_jobs=n_jobs)
        fitted = parallel(delayed(fit_view)(view, texts) for view in self.make_views())
        self.features_, *window = [view for view, _ in fitted]
        self.window_features_ = window[0] if window else None
        matrices = [matrix for _, matrix in fitted]
        self.stance_head_, self.sentiment_head_ = parallel(
            [
                delayed(fit_head)(
                    self.stance_matrix(matrices, texts), stance, self.stance_C, self.class_weight
                ),
                delayed(fit_head)(
                    self.sentiment_matrix(matrices[0], texts),
                    sentiment,
                    self.sentiment_C,
                    self.class_weight,
                ),
            ]
        )
        return self

    # -- prediction ----------------------------------------------------------------------

    def predict_proba(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated probabilities, columns in `STANCE_LABELS` and `SENTIMENT_LABELS` order."""
        texts = check_texts(texts)
        if not texts:
            return np.empty((0, 3)), np.empty((0, 3))
        return self._proba(self.view_matrices(texts), texts)

    def _proba(
        self, matrices: list[sp.csr_matrix], texts: list[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities from already computed features of `texts`, one matrix per view."""
        stance_w, stance_b = self._weights("stance")
        sentiment_w, sentiment_b = self._weights("sentiment")
        stance = stance_b
        offset = 0
        for X in matrices:  # the stance weights of each view's columns, without stacking them
            stance = stance + X @ stance_w[offset : offset + X.shape[1]]
            offset += X.shape[1]
        if self.__dict__.get("scope_features"):
            scope = scope_matrix(texts)
            stance = stance + np.einsum("ij,jk->ik", scope, stance_w[offset:], optimize=False)
        n = matrices[0].shape[1]
        sentiment = matrices[0] @ sentiment_w[:n] + sentiment_b
        if self.use_vader:
            tone = tone_matrix(texts) * np.float32(self.vader_weight)
            # einsum, not BLAS: a row's result must not depend on how many rows share the call.
            sentiment += np.einsum("ij,jk->ik", tone, sentiment_w[n:], optimize=False)
        return softmax(stance / self.stance_temperature), softmax(
            sentiment / self.sentiment_temperature
        )

    def _weights(self, head: str) -> tuple[np.ndarray, np.ndarray]:
        """Each head's weights in label order, computed once per process (not pickled)."""
        cache = self.__dict__.setdefault("_weights_cache_", {})
        if head not in cache:
            fitted = self.stance_head_ if head == "stance" else self.sentiment_head_
            cache[head] = head_weights(fitted, HEADS[head])
        return cache[head]

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_weights_cache_", None)
        return state

    def predict(self, texts: Sequence[str]) -> list[dict[str, dict[str, Any]]]:
        """Per text: `stance` and `sentiment`, each {label, score, probabilities}.

        The stance score is P(support) - P(oppose); the sentiment score P(positive) - P(negative).
        """
        stance, sentiment = self.predict_proba(texts)
        return [
            {"stance": s, "sentiment": t}
            for s, t in zip(
                describe_rows(stance, STANCE_LABELS),
                describe_rows(sentiment, SENTIMENT_LABELS),
                strict=True,
            )
        ]

    # -- explanation ---------------------------------------------------------------------

    def explain(self, text: str, k: int = 5) -> dict[str, dict[str, Any]]:
        """The k features that pushed hardest toward and against each head's predicted label.

        A feature's weight is its exact contribution to the predicted label's centred
        log-probability, log p(label) - mean over labels of log p; the weights of every
        feature plus `bias` sum to that value. Character n-grams are credited to the words
        they occur in, so the features listed are words and word n-grams.
        """
        [text] = check_texts([text])
        matrices = self.view_matrices([text])
        stance, sentiment = self._proba(matrices, [text])
        prediction = {
            "stance": describe(stance[0], STANCE_LABELS),
            "sentiment": describe(sentiment[0], SENTIMENT_LABELS),
        }
        out: dict[str, dict[str, Any]] = {}
        for head_name, head, Xh, views, extra_names, temperature in (
            (
                "stance",
                self.stance_head_,
                self.stance_matrix(matrices, [text]),
                self.views(),
                SCOPE_NAMES,
                self.stance_temperature,
            ),
            (
                "sentiment",
                self.sentiment_head_,
                self.sentiment_matrix(matrices[0], [text]),
                self.views()[:1],
                TONE_NAMES,
                self.sentiment_temperature,
            ),
        ):
            label = prediction[head_name]["label"]
            contributions, bias = self._contributions(
                head, Xh, views, extra_names, label, temperature, text
            )
            ranked = sorted(contributions.items(), key=lambda item: item[1])
            toward = [
                {"feature": f, "weight": round(w, 6)} for f, w in reversed(ranked[-k:]) if w > 0
            ]
            against = [{"feature": f, "weight": round(w, 6)} for f, w in ranked[:k] if w < 0]
            out[head_name] = {
                "label": label,
                "toward": toward,
                "against": against,
                "bias": round(bias, 6),
                "all": contributions,
            }
        return out

    def _contributions(
        self,
        head: LogisticRegression,
        Xh: sp.csr_matrix,
        views: list[TextFeatures],
        extra_names: Sequence[str],
        label: str,
        temperature: float,
        text: str,
    ) -> tuple[dict[str, float], float]:
        classes = list(head.classes_)
        c = classes.index(label)
        direction = (head.coef_[c] - head.coef_.mean(axis=0)) / temperature
        bias = float((head.intercept_[c] - head.intercept_.mean()) / temperature)
        row = Xh.getrow(0).tocoo()
        weights = {
            int(j): float(value * direction[j]) for j, value in zip(row.col, row.data, strict=True)
        }
        contributions: dict[str, float] = {}

        def add(name: str, weight: float) -> None:
            contributions[name] = contributions.get(name, 0.0) + weight

        # Each view's word n-grams by name (the same n-gram in two views adds up), its
        # character n-grams credited to the words of the text as that view saw it.
        offset = 0
        for view in views:
            words, chars = view.feature_names()
            n_word = len(words)
            n_char = len(chars) if chars is not None else 0
            char_weights: dict[str, float] = {}
            for j, weight in weights.items():
                if offset <= j < offset + n_word:
                    add(words[j - offset], weight)
                elif offset + n_word <= j < offset + n_word + n_char:
                    char_weights[chars[j - offset - n_word]] = weight
            seen = view.char_text(view.normalize(text))
            for word, weight in credit_char_ngrams(
                char_weights, seen, self.char_ngram_range, normalized=True
            ).items():
                add(word, weight)
            offset += n_word + n_char
        for j, weight in weights.items():
            if j >= offset:
                add(extra_names[j - offset], weight)
        return contributions, bias


def credit_char_ngrams(
    char_weights: dict[str, float],
    text: str,
    ngram_range: tuple[int, int] | None,
    normalized: bool = False,
) -> dict[str, float]:
    """Split each character n-gram's weight over the words it occurs in (by occurrence count).

    `text` is normalised here with the default `normalize`, unless `normalized` says it is
    already in the form the features saw.
    """
    if not char_weights or ngram_range is None:
        return {}
    low, high = ngram_range
    occurrences: dict[str, list[str]] = {}
    for word in (text if normalized else normalize(text)).split():
        padded = f" {word} "
        for n in range(low, high + 1):
            for i in range(max(len(padded) - n + 1, 1)):
                occurrences.setdefault(padded[i : i + n], []).append(word)
            if len(padded) < n:
                break
    credited: dict[str, float] = {}
    for gram, weight in char_weights.items():
        owners = occurrences.get(gram)
        if not owners:
            credited[gram] = credited.get(gram, 0.0) + weight
            continue
        share = weight / len(owners)
        for word in owners:
            credited[word] = credited.get(word, 0.0) + share
    return credited


def describe(probabilities: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
    """{label, score, probabilities} for one row; score = P(first label) - P(second label)."""
    return describe_rows(np.asarray(probabilities)[None, :], labels)[0]


def describe_rows(probabilities: np.ndarray, labels: Sequence[str]) -> list[dict[str, Any]]:
    """`describe` of every row of an (n, labels) array, converted to Python numbers at once."""
    tops = probabilities.argmax(axis=1).tolist()
    return [
        {
            "label": labels[top],
            "score": row[0] - row[1],
            "probabilities": dict(zip(labels, row, strict=True)),
        }
        for top, row in zip(tops, probabilities.tolist(), strict=True)
    ]
