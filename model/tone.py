"""Tone scores from VADER's lexicon and rules, computed fast enough for batch scoring.

`vaderSentiment.SentimentIntensityAnalyzer.polarity_scores` costs about 280 us a statement,
as much as all n-gram features together. This applies VADER's core rules (its lexicon, booster
words, negation within three words, capitalisation emphasis, the "but" shift, exclamation and
question emphasis, and its normalisation) to VADER's own lexicon in about a tenth of the time.
Idioms and a few special cases of the original are left out; the tests check agreement.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

import numpy as np

_WORD = re.compile(r"[^\s]+")
_STRIP = ".,;:!?\"'()[]{}*…“”‘’«»"
ALPHA = 15.0
TONE_NAMES = ("vader_compound", "vader_positive", "vader_negative", "vader_neutral")


@lru_cache(maxsize=1)
def vader_resources() -> tuple[dict[str, float], dict[str, str], Any]:
    """VADER's lexicon and emoji descriptions, and its module of constants (loaded once)."""
    from vaderSentiment import vaderSentiment as vader

    analyzer = vader.SentimentIntensityAnalyzer()
    return analyzer.lexicon, analyzer.emojis, vader


def _describe_emoji(text: str, emojis: dict[str, str]) -> str:
    return "".join(f" {emojis[ch]} " if ch in emojis else ch for ch in text)


def tone_scores(text: str) -> tuple[float, float, float, float]:
    """(compound, positive, negative, neutral) in VADER's sense for one text."""
    lexicon, emojis, vader = vader_resources()
    if not text.isascii():
        text = _describe_emoji(text, emojis)
    words = [w.strip(_STRIP) or w for w in _WORD.findall(text)]
    words = [w for w in words if len(w) > 1 or w in lexicon]
    lowered = [w.lower() for w in words]
    shouting = [w.isupper() and any(c.isalpha() for c in w) for w in words]
    caps_differential = any(shouting) and not all(shouting)
    boosters, negations = vader.BOOSTER_DICT, set(vader.NEGATE)
    sentiments: list[float] = []
    for i, word in enumerate(lowered):
        valence = lexicon.get(word)
        if valence is None or word in boosters:
            sentiments.append(0.0)
            continue
        if caps_differential and shouting[i]:
            valence += vader.C_INCR if valence > 0 else -vader.C_INCR
        for distance, decay in ((1, 1.0), (2, 0.95), (3, 0.9)):
            j = i - distance
            if j < 0:
                break
            previous = lowered[j]
            boost = boosters.get(previous)
            if boost is not None and previous not in lexicon:
                scalar = boost if valence > 0 else -boost
                if caps_differential and shouting[j]:
                    scalar += vader.C_INCR if valence > 0 else -vader.C_INCR
                valence += scalar * decay
            if previous in negations or previous.endswith("n't"):
                valence *= vader.N_SCALAR
        sentiments.append(valence)
    if "but" in lowered:
        at = lowered.index("but")
        sentiments = [
            s * 0.5 if i < at else s * 1.5 if i > at else s for i, s in enumerate(sentiments)
        ]
    return _score(sentiments, text)


def _score(sentiments: list[float], text: str) -> tuple[float, float, float, float]:
    if not sentiments:
        return 0.0, 0.0, 0.0, 0.0
    total = sum(sentiments)
    emphasis = min(text.count("!"), 4) * 0.292
    questions = text.count("?")
    if questions > 1:
        emphasis += questions * 0.18 if questions <= 3 else 0.96
    if total > 0:
        total += emphasis
    elif total < 0:
        total -= emphasis
    compound = total / math.sqrt(total * total + ALPHA)
    compound = max(-1.0, min(1.0, compound))
    positive = sum(s + 1 for s in sentiments if s > 0)
    negative = sum(s - 1 for s in sentiments if s < 0)
    neutral = sum(1 for s in sentiments if s == 0)
    if positive > abs(negative):
        positive += emphasis
    elif positive < abs(negative):
        negative -= emphasis
    whole = positive + abs(negative) + neutral
    if whole == 0:
        return compound, 0.0, 0.0, 0.0
    return compound, positive / whole, abs(negative) / whole, neutral / whole


def tone_matrix(texts: list[str]) -> np.ndarray:
    """Tone scores of many texts as an (n, 4) float32 array."""
    out = np.empty((len(texts), 4), dtype=np.float32)
    for i, text in enumerate(texts):
        out[i] = tone_scores(text)
    return out
