"""Text normalisation, tokenisation and the shared feature step."""

import numpy as np
import pytest

from model.features import TextFeatures, WordNgrams
from model.text import normalize, scope_flags, target_windows, tokenize
from model.tone import tone_matrix, tone_scores


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("#UkraineInNATO now", "ukraine in nato now"),
        ("#NoToNATO!", "no to nato !"),
        ("We don't oppose it", "we do not oppose it"),
        ("Kyiv won't wait", "kyiv will not wait"),
        ("They can't say no", "they can not say no"),
        ("It cannot happen", "it can not happen"),
        ("Kyiv’s bid", "kyiv's bid"),
        ("see https://example.org/x?y=1 now", "see url now"),
        ("@NATO_Spokes said", "@user said"),
        ("  many\n\tspaces  ", "many spaces"),
        ("ＮＡＴＯ", "nato"),
    ],
)
def test_normalize_maps_surface_variants_to_one_form(raw, expected):
    """Hashtags, contractions, curly quotes, URLs, mentions, spacing and width are unified."""
    assert expected == normalize(raw)


def test_normalize_removes_lone_surrogates_and_control_characters():
    """Text that cannot be encoded, or carries control bytes, still normalises to plain text."""
    assert "a b c" == normalize("a\ud800b\x00c")


def test_tokenize_marks_the_three_tokens_after_a_negator():
    """With negation marking, tokens in a negation scope get a neg_ prefix until the scope ends."""
    tokens = tokenize("we do not support this bid at all", mark_negation=True)
    assert ["we", "do", "not", "neg_support", "neg_this", "neg_bid", "at", "all"] == tokens


def test_tokenize_ends_negation_scope_at_a_question_mark():
    """A question mark closes the negation scope."""
    assert ["no", "?", "yes"] == tokenize("no ? yes", mark_negation=True)


def test_word_ngrams_produce_unigrams_to_trigrams():
    """The analyzer yields every 1- to 3-gram of the tokens, in order of n."""
    grams = WordNgrams((1, 3), mark_negation=False)("kyiv joins nato")
    assert ["kyiv", "joins", "nato", "kyiv joins", "joins nato", "kyiv joins nato"] == grams


def test_text_features_put_word_columns_before_character_columns():
    """The feature matrix has every word n-gram column, then every character n-gram column."""
    features = TextFeatures(word_ngram_range=(1, 1), char_ngram_range=(2, 2)).fit(["ab cd"])
    words, chars = features.feature_names()
    assert ["ab", "cd"] == list(words)
    assert len(words) + len(chars) == features.transform(["ab cd"]).shape[1]


def test_text_features_without_character_ngrams():
    """char_ngram_range=None keeps only the word columns."""
    features = TextFeatures(char_ngram_range=None).fit(["one two", "two three"])
    words, chars = features.feature_names()
    assert chars is None
    assert len(words) == features.transform(["one"]).shape[1]


def test_text_features_ignore_unseen_words():
    """A text made only of unseen words gives an all-zero row, not an error."""
    features = TextFeatures(char_ngram_range=None).fit(["alpha beta"])
    assert 0 == features.transform(["gamma delta"]).nnz


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("#UkraineInNATO now", "ukraine in nato #ukraineinnato now"),
        ("#ProLife and #prolife", "pro life #prolife and prolife #prolife"),
        ("#No_To_NATO!", "no to nato #notonato !"),
    ],
)
def test_normalize_can_keep_each_hashtag_as_one_word(raw, expected):
    """With hashtag_tokens the split words are followed by the whole tag, lower-cased."""
    assert expected == normalize(raw, hashtag_tokens=True)


def test_whole_hashtags_are_never_negation_marked():
    """A kept hashtag neither takes a neg_ prefix nor uses up the negation scope."""
    tokens = tokenize(normalize("not #ProLife at all", hashtag_tokens=True), mark_negation=True)
    assert ["not", "neg_pro", "neg_life", "#prolife", "neg_at", "all"] == tokens


def test_hashtag_tokens_add_the_whole_tag_only_when_asked():
    """By default no word feature starts with `#`; with hashtag_tokens the tag is a word."""
    texts = ["#ProLife rally", "#prolife march"]
    default = TextFeatures(char_ngram_range=None).fit(texts)
    tagged = TextFeatures(char_ngram_range=None, hashtag_tokens=True).fit(texts)
    assert [] == [w for w in default.feature_names()[0] if "#" in w]
    assert ["#prolife", "#prolife march", "#prolife rally"] == sorted(
        w for w in tagged.feature_names()[0] if w.startswith("#")
    )


def test_tone_scores_polarity_in_range():
    """The compound score is positive for praise and negative for anger, within [-1, 1]."""
    scores = tone_matrix(["What a wonderful, hopeful day!", "This is a disgusting betrayal."])
    assert scores[0, 0] > 0.3
    assert scores[1, 0] < -0.3
    assert np.all(np.abs(scores) <= 1.0)


@pytest.mark.parametrize(
    "text",
    [
        "We are NOT happy about this delay!!",
        "This is not a good deal for Kyiv.",
        "The summit was very successful, but the outcome for Ukraine was extremely disappointing.",
        "Great news 🎉 for Ukraine",
        "Is this really a victory??",
        "The ministers met on Tuesday.",
    ],
)
def test_tone_scores_agree_with_vader(text):
    """The fast scorer reproduces VADER's polarity_scores on its core rules (within 0.05)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    expected = SentimentIntensityAnalyzer().polarity_scores(text)
    actual = tone_scores(text)
    assert pytest.approx(
        [expected["compound"], expected["pos"], expected["neg"], expected["neu"]], abs=0.05
    ) == list(actual)


def test_not_only_is_one_word_that_negates_nothing():
    tokens = tokenize(normalize("Not only for Ukraine but also for Europe, not ready"), True)
    assert ["not-only", "for", "ukraine", "but", "also", "for", "europe", "not"] == tokens[:8]
    assert ["neg_ready"] == tokens[8:]


def test_tone_features_read_the_whole_text():
    """No silent cut: a warm word after 2,000 characters of flat text still counts (the batch
    and HTTP limits on text length are applied once, by the caller, not here)."""
    flat = "The committee met on Tuesday in the main hall. " * 50
    assert len(flat) > 2000
    before, after = tone_matrix([flat, flat + "What a wonderful, happy day."])
    assert after[1] > before[1]  # the positive share


def test_the_per_word_char_cache_is_bounded_and_changes_no_value():
    """Character n-gram columns are cached per word; a full cache starts again, and the
    matrix is the same as without any cache (the vectorizer's own analyzer)."""
    from model.features import CharColumns, analyzer_columns, tfidf_rows

    texts = ["Ukraine belongs in NATO", "NATO must never admit Ukraine", "Kyiv waits in NATO"]
    features = TextFeatures(char_words_only=False).fit(texts)
    docs = [features.normalize(t) for t in texts]
    small = CharColumns(features.char_, max_words=2)
    cached = tfidf_rows(features.char_, small, docs)
    plain = tfidf_rows(
        features.char_, analyzer_columns(features.char_, features.char_.build_analyzer()), docs
    )
    assert len(small._cache) <= 2
    for got, expected in zip(cached, plain, strict=True):
        np.testing.assert_array_equal(got, expected)


def test_target_windows_keep_only_the_words_near_a_word_naming_the_question():
    """Words within `reach` of NATO, membership, neutrality and the like stay, in order; the
    context further away goes, and overlapping windows merge."""
    text = "after months of shelling and sanctions the alliance should help kyiv soon, he said"
    assert "the alliance should" == target_windows(text, 1)
    assert "sanctions the alliance should help" == target_windows(text, 2)
    assert "a neutral b c membership d" == target_windows("x y a neutral b c membership d", 1)


def test_target_windows_keep_a_text_that_never_names_the_question_whole():
    """A statement without any such word is seen whole, not as nothing."""
    assert "grain exports rose last month." == target_windows("grain exports rose last month.", 3)


def test_window_features_see_only_the_words_near_the_question():
    """A `window` view has no features for context words far from NATO or membership."""
    texts = ["weapons and money arrive while ukraine must join nato soon", "nato meets today"]
    features = TextFeatures(window=2, char_ngram_range=None).fit(texts)
    words = set(features.feature_names()[0])
    assert {"must", "join", "nato", "soon", "today"} <= words
    assert not {"weapons", "money", "arrive"} & words


def test_fit_transform_gives_the_matrix_transform_gives():
    """The matrix made from the fit's own counts is the matrix `transform` makes afterwards."""
    texts = ["Ukraine must join NATO.", "Never: Kyiv stays neutral!", "Ministers meet today"]
    features = TextFeatures(window=2, canonical_terms=True, char_words_only=True)
    fitted = features.fit_transform(texts)
    again = features.transform(texts)
    assert fitted.shape == again.shape
    assert np.array_equal(fitted.indices, again.indices)
    assert np.array_equal(fitted.indptr, again.indptr)
    assert float(np.abs(fitted.data - again.data).max()) < 1e-6


@pytest.mark.parametrize(
    ("text", "flags"),
    [
        ("Finland belongs in NATO.", (1.0, 0.0)),
        ("Georgia must stay neutral, says Tbilisi.", (1.0, 0.0)),
        ("Kyiv and Tbilisi should both join the Alliance.", (0.0, 0.0)),
        ("Ukraine's place is in the European Union.", (0.0, 1.0)),
        (
            "The accession talks with Kyiv should open before the summer, says the Commission.",
            (0.0, 0.0),
        ),
        ("Kyiv should open accession talks with the European Commission this spring.", (0.0, 1.0)),
        ("The EU and NATO must both open their doors to Ukraine.", (0.0, 0.0)),
        ("The Soviet Union is gone, and Ukraine must join NATO.", (0.0, 0.0)),
        ("Ukraine must join NATO.", (0.0, 0.0)),
    ],
)
def test_scope_flags_mark_another_country_and_the_eu_alone(text, flags):
    """Another candidate country without Ukraine, or the EU without NATO: the codebook's two
    neutral scopes."""
    assert flags == scope_flags(text)
