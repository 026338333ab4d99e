"""The estimator's prediction contract and its exact explanations."""

import numpy as np
import pytest

from model.classifier import StanceSentimentModel, credit_char_ngrams
from model.errors import InputTextError
from model.labels import SENTIMENT_LABELS, STANCE_LABELS
from model.text import SCOPE_NAMES


def test_predict_returns_one_result_per_text_in_order(loaded_model):
    """predict gives one result per input text, each with both heads."""
    texts = ["Ukraine belongs in NATO.", "Never, ever in NATO.", "The meeting is on Tuesday."]
    results = loaded_model.predict(texts)
    assert 3 == len(results)
    assert all(set(r) == {"stance", "sentiment"} for r in results)


def test_predict_matches_predict_proba_row_by_row(loaded_model):
    """Each result's probabilities are the calibrated probabilities of its own row."""
    texts = ["Kyiv must get an invitation now", "Neutral status is the only way"]
    stance, sentiment = loaded_model.predict_proba(texts)
    results = loaded_model.predict(texts)
    for i, result in enumerate(results):
        assert pytest.approx(list(stance[i])) == [
            result["stance"]["probabilities"][k] for k in STANCE_LABELS
        ]
        assert pytest.approx(list(sentiment[i])) == [
            result["sentiment"]["probabilities"][k] for k in SENTIMENT_LABELS
        ]


def test_scores_are_probability_differences_in_range(loaded_model):
    """stance score = P(support) - P(oppose), sentiment score = P(positive) - P(negative)."""
    [result] = loaded_model.predict(["We will never accept Ukraine in the Alliance"])
    stance, sentiment = result["stance"], result["sentiment"]
    assert (
        pytest.approx(stance["probabilities"]["support"] - stance["probabilities"]["oppose"])
        == stance["score"]
    )
    assert (
        pytest.approx(
            sentiment["probabilities"]["positive"] - sentiment["probabilities"]["negative"]
        )
        == sentiment["score"]
    )
    assert -1 <= stance["score"] <= 1
    assert pytest.approx(1.0) == sum(stance["probabilities"].values())


def test_label_is_the_most_probable_one(loaded_model):
    """The reported label is the argmax of the probabilities."""
    [result] = loaded_model.predict(["Ukraine should join NATO right after the war"])
    for head in ("stance", "sentiment"):
        probabilities = result[head]["probabilities"]
        assert max(probabilities, key=probabilities.get) == result[head]["label"]


def test_predict_on_empty_list_is_empty(loaded_model):
    """No texts in, no results out."""
    assert [] == loaded_model.predict([])


def test_predict_rejects_a_bare_string(loaded_model):
    """A single string instead of a list is a clear error, not 40 one-letter predictions."""
    with pytest.raises(InputTextError, match="got a single string"):
        loaded_model.predict("Ukraine in NATO")


def test_predict_rejects_non_string_items(loaded_model):
    """A non-string item is named by its index and type."""
    with pytest.raises(InputTextError, match="text 1 is int, expected a string"):
        loaded_model.predict(["ok", 5])


def test_explanation_weights_sum_exactly_to_the_centred_log_probability(loaded_model):
    """All contributions plus the bias equal log p(label) minus the mean log p (exact, linear)."""
    text = "We do not oppose Ukraine joining NATO after the war"
    explanation = loaded_model.explain(text, k=3)
    stance, sentiment = loaded_model.predict_proba([text])
    for head, probabilities, labels in (
        ("stance", stance[0], STANCE_LABELS),
        ("sentiment", sentiment[0], SENTIMENT_LABELS),
    ):
        e = explanation[head]
        log_p = np.log(probabilities)
        centred = log_p[labels.index(e["label"])] - log_p.mean()
        assert pytest.approx(centred, abs=1e-4) == sum(e["all"].values()) + e["bias"]


def test_explanation_lists_top_k_by_weight_in_each_direction(loaded_model):
    """toward holds up to k positive weights, largest first; against up to k negative, most negative first."""
    e = loaded_model.explain("Ukraine belongs in NATO and Moscow has no veto", k=4)["stance"]
    toward = [f["weight"] for f in e["toward"]]
    against = [f["weight"] for f in e["against"]]
    assert len(toward) <= 4 and len(against) <= 4
    assert toward == sorted(toward, reverse=True) and all(w > 0 for w in toward)
    assert against == sorted(against) and all(w < 0 for w in against)


def test_explanation_credits_character_ngrams_to_words(loaded_model):
    """Features are words or word n-grams of the text, never raw character fragments."""
    text = "Zelensky demands an invitation"
    e = loaded_model.explain(text, k=50)["stance"]
    words = set(text.lower().split())
    for feature in e["toward"] + e["against"]:
        name = feature["feature"].replace("neg_", "")
        assert all(part in words for part in name.split()) or name.startswith("vader_")


def test_credit_char_ngrams_splits_weight_by_occurrence():
    """A character n-gram occurring in two words gives each half of its weight."""
    credited = credit_char_ngrams({"at": 1.0}, "cat bat", (2, 2))
    assert {"cat": 0.5, "bat": 0.5} == credited


def test_model_without_vader_or_char_ngrams_still_explains_exactly():
    """Explanations stay exact for a word-only model without VADER."""
    texts = ["join now", "never join", "meeting today", "yes join", "no never", "summit today"]
    stance = ["support", "oppose", "neutral", "support", "oppose", "neutral"]
    sentiment = ["positive", "negative", "neutral", "positive", "negative", "neutral"]
    model = StanceSentimentModel(char_ngram_range=None, use_vader=False).fit(
        texts, stance, sentiment
    )
    e = model.explain("join today", k=2)["stance"]
    probabilities = model.predict_proba(["join today"])[0][0]
    log_p = np.log(probabilities)
    assert pytest.approx(log_p[STANCE_LABELS.index(e["label"])] - log_p.mean(), abs=1e-5) == (
        sum(e["all"].values()) + e["bias"]
    )


def test_hashtag_tokens_model_explains_with_whole_hashtags_exactly():
    """With hashtag_tokens, a hashtag is one explained feature and the weights stay exact."""
    texts = ["#JoinNow yes", "#NeverJoin no", "summit today", "#JoinNow go", "#NeverJoin stop"]
    texts += ["meeting today"]
    stance = ["support", "oppose", "neutral", "support", "oppose", "neutral"]
    sentiment = ["positive", "negative", "neutral", "positive", "negative", "neutral"]
    model = StanceSentimentModel(hashtag_tokens=True, use_vader=False).fit(texts, stance, sentiment)
    text = "#JoinNow today"
    e = model.explain(text, k=50)["stance"]
    assert "#joinnow" in e["all"]
    assert all(set(f.split()) <= {"join", "now", "#joinnow", "today"} for f in e["all"])
    log_p = np.log(model.predict_proba([text])[0][0])
    assert pytest.approx(log_p[STANCE_LABELS.index(e["label"])] - log_p.mean(), abs=1e-5) == (
        sum(e["all"].values()) + e["bias"]
    )


def test_words_only_character_ngrams_explain_exactly_with_bare_words():
    """With char_words_only, "NATO." and "NATO" share n-grams, explanations name bare words,
    and the weights still sum exactly."""
    texts = ["Join NATO.", "Never NATO!", "Meeting today.", "Join NATO now", "Never, ever", "Today"]
    stance = ["support", "oppose", "neutral", "support", "oppose", "neutral"]
    sentiment = ["positive", "negative", "neutral", "positive", "negative", "neutral"]
    model = StanceSentimentModel(char_words_only=True, use_vader=False).fit(
        texts, stance, sentiment
    )
    a, b = model.features_.transform(["in NATO.", "in NATO"])
    words = model.features_.n_word_features_
    assert 0 == (a[:, words:] != b[:, words:]).nnz  # the character columns are the same
    text = "Join NATO, today."
    e = model.explain(text, k=50)["stance"]
    assert {"join", "nato", "today"} >= {f for f in e["all"] if " " not in f and "_" not in f}
    log_p = np.log(model.predict_proba([text])[0][0])
    assert pytest.approx(log_p[STANCE_LABELS.index(e["label"])] - log_p.mean(), abs=1e-5) == (
        sum(e["all"].values()) + e["bias"]
    )


def test_canonical_terms_make_synonyms_one_word_feature():
    """With canonical_terms, "the Alliance" and "NATO", "Kyiv" and "Ukraine" are one feature,
    and another candidate country is `othercountry`."""
    from model.text import normalize, tokenize

    tokens = tokenize(
        normalize("Kyiv's place is in the North Atlantic Alliance, like Finland"), canonical=True
    )
    assert ["ukraine's", "place", "is", "in", "nato", "like", "othercountry"] == [
        t for t in tokens if t not in {"the"}
    ]
    assert ["alliance"] == tokenize(normalize("Alliance"))


def test_masked_target_terms_give_no_unigram_or_character_features_and_explain_exactly():
    """With mask_target_terms, "Ukraine" and "NATO" alone carry no weight (only the n-grams
    they form with other words), and the explanation still sums exactly."""
    texts = ["Ukraine must join NATO", "Ukraine must never join NATO", "NATO ministers meet"]
    texts += ["Let Kyiv join the alliance", "Keep Ukraine out of NATO", "The NATO summit opens"]
    stance = ["support", "oppose", "neutral", "support", "oppose", "neutral"]
    sentiment = ["positive", "negative", "neutral"] * 2
    model = StanceSentimentModel(mask_target_terms=True, char_words_only=True).fit(
        texts, stance, sentiment
    )
    words, chars = model.features_.feature_names()
    assert not {"ukraine", "nato", "join", "kyiv", "alliance"} & set(words)
    assert "ukraine must" in set(words)
    assert not any("nato" in gram or "kra" in gram for gram in chars)
    text = "Ukraine must stay out of NATO."
    e = model.explain(text, k=50)["stance"]
    assert not {"ukraine", "nato", "nato."} & set(e["all"])
    log_p = np.log(model.predict_proba([text])[0][0])
    assert pytest.approx(log_p[STANCE_LABELS.index(e["label"])] - log_p.mean(), abs=1e-5) == (
        sum(e["all"].values()) + e["bias"]
    )


def test_a_statement_scores_the_same_alone_and_in_any_batch(loaded_model):
    """Exactly the same probabilities whether a text is scored alone or among others."""
    texts = [
        "Ukraine belongs in NATO!",
        "Never. Ukraine must stay neutral.",
        "The ministers meet on Thursday in Brussels.",
        "What a disgrace: another summit without an invitation for Kyiv.",
    ]
    together = loaded_model.predict(texts)
    for text, in_batch in zip(texts, together, strict=True):
        assert loaded_model.predict([text])[0] == in_batch
    assert loaded_model.predict(texts[::-1]) == together[::-1]


WINDOW_TEXTS = [
    "After a long and bitter winter of shelling, Ukraine must join NATO now",
    "After a long and bitter winter of shelling, Ukraine must never join NATO",
    "After a long and bitter winter of shelling, the ministers met in Brussels",
    "Grateful and hopeful: the Alliance should invite Kyiv this year",
    "Furious: the Alliance should keep Kyiv out for good",
    "Calm talks today on grain exports and energy",
]
WINDOW_STANCE = ["support", "oppose", "neutral", "support", "oppose", "neutral"]
WINDOW_SENTIMENT = ["negative", "negative", "neutral", "positive", "negative", "neutral"]


def test_target_window_view_feeds_the_stance_head_only():
    """With `target_window`, the stance head sees the whole text and the words near the
    question; the sentiment head, judging the tone of the whole text, is the same model as
    without the window."""
    plain = StanceSentimentModel(target_window=None).fit(
        WINDOW_TEXTS, WINDOW_STANCE, WINDOW_SENTIMENT
    )
    windowed = StanceSentimentModel(target_window=3).fit(
        WINDOW_TEXTS, WINDOW_STANCE, WINDOW_SENTIMENT
    )
    assert 1 == len(plain.views()) and 2 == len(windowed.views())
    width = sum(view.n_features_ for view in windowed.views()) + len(SCOPE_NAMES)
    assert width == windowed.stance_head_.coef_.shape[1]
    texts = ["Bitter winter, but Ukraine must join NATO", "Calm talks on grain"]
    _, plain_tone = plain.predict_proba(texts)
    stance, windowed_tone = windowed.predict_proba(texts)
    np.testing.assert_allclose(plain_tone, windowed_tone)
    assert not np.allclose(plain.predict_proba(texts)[0], stance)


def test_target_window_model_explains_exactly_with_one_entry_per_word():
    """A word seen by both views is one explained feature, and the weights still sum to the
    centred log-probability."""
    model = StanceSentimentModel(target_window=3).fit(WINDOW_TEXTS, WINDOW_STANCE, WINDOW_SENTIMENT)
    text = "After the winter of shelling, Ukraine must join NATO"
    e = model.explain(text, k=50)["stance"]
    names = [f["feature"] for f in e["toward"] + e["against"]]
    assert len(names) == len(set(names))
    assert "must" in e["all"]
    log_p = np.log(model.predict_proba([text])[0][0])
    assert pytest.approx(log_p[STANCE_LABELS.index(e["label"])] - log_p.mean(), abs=1e-5) == (
        sum(e["all"].values()) + e["bias"]
    )


def test_fitting_views_and_heads_in_parallel_gives_the_same_model():
    """n_jobs only changes where the work runs, not the model."""
    serial = StanceSentimentModel().fit(WINDOW_TEXTS, WINDOW_STANCE, WINDOW_SENTIMENT)
    parallel = StanceSentimentModel().fit(WINDOW_TEXTS, WINDOW_STANCE, WINDOW_SENTIMENT, n_jobs=2)
    for a, b in zip(
        serial.predict_proba(WINDOW_TEXTS), parallel.predict_proba(WINDOW_TEXTS), strict=True
    ):
        np.testing.assert_allclose(a, b)


SCOPE_TEXTS = [
    "Ukraine must join NATO now",
    "Ukraine must never join NATO",
    "Finland must join NATO now",
    "Kyiv deserves a place in the Alliance",
    "Keep Kyiv out of the bloc",
    "Ukraine deserves a place in the EU",
]
SCOPE_STANCE = ["support", "oppose", "neutral", "support", "oppose", "neutral"]
SCOPE_TONE = ["positive", "negative", "neutral"] * 2


def test_scope_columns_feed_the_stance_head_and_explain_by_name():
    """A statement about another country (no Ukraine) or the EU alone (no NATO) lights a scope
    column of the stance head; the explanation names it and still sums exactly."""
    model = StanceSentimentModel().fit(SCOPE_TEXTS, SCOPE_STANCE, SCOPE_TONE)
    plain = StanceSentimentModel(scope_features=False).fit(SCOPE_TEXTS, SCOPE_STANCE, SCOPE_TONE)
    assert plain.stance_head_.coef_.shape[1] + 2 == model.stance_head_.coef_.shape[1]
    text = "Sweden must join NATO now"
    e = model.explain(text, k=50)["stance"]
    assert SCOPE_NAMES[0] in e["all"] and SCOPE_NAMES[1] not in e["all"]
    log_p = np.log(model.predict_proba([text])[0][0])
    assert pytest.approx(log_p[STANCE_LABELS.index(e["label"])] - log_p.mean(), abs=1e-5) == (
        sum(e["all"].values()) + e["bias"]
    )
    assert SCOPE_NAMES[0] not in model.explain("Ukraine must join NATO", k=50)["stance"]["all"]
