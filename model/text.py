"""Text normalisation shared by every feature: what the model sees of a statement."""

from __future__ import annotations

import re
import unicodedata

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MENTION = re.compile(r"@\w+")
_HASHTAG = re.compile(r"#(\w+)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "“": '"', "”": '"', "«": '"', "»": '"'})
_CONTRACTIONS = (
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"\bcan't\b"), "can not"),
    (re.compile(r"\bshan't\b"), "shall not"),
    (re.compile(r"\bain't\b"), "is not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"\bcannot\b"), "can not"),
)
_SPACES = re.compile(r"\s+")
_PUNCTUATION = re.compile(r"[^\w\s'#-]+|(?<!\w)['-]|['-](?!\w)")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

NEGATORS = frozenset(
    {"not", "no", "never", "nor", "neither", "without", "nobody", "nothing", "none", "against"}
)


def _split_hashtag(match: re.Match[str]) -> str:
    return " " + _CAMEL.sub(" ", match.group(1)).replace("_", " ") + " "


def _split_and_keep_hashtag(match: re.Match[str]) -> str:
    return _split_hashtag(match) + "#" + match.group(1).replace("_", "") + " "


# A person named after their title ("Foreign Minister Andriy Sybiha", "Kremlin spokesman Dmitry
# Peskov", "Secretary General Mark Rutte"): the name goes, the title stays. A statement's stance
# is in what is said, and a model that learned whose name comes with which side would change its
# label when only the speaker changes (the invariance tests in `training.behaviour`).
_TITLES = (
    r"President|Vice President|Prime Minister|Deputy Prime Minister|Premier|Chancellor|"
    r"(?:Deputy |Foreign |Defen[cs]e |Interior |Finance )?Minister|Secretary[- ]General|"
    r"Secretary of State|Secretary of Defen[cs]e|(?:Foreign|Defen[cs]e|Defense) Secretary|"
    r"Senator|Representative|Congress(?:man|woman)|Ambassador|Envoy|Speaker|"
    r"[Ss]pokes(?:man|woman|person)|[Ee]nvoy|[Aa]mbassador|[Mm]inister|[Pp]resident|"
    r"[Cc]hancellor|MP|MEP|[Ll]awmaker|[Cc]hief|[Ll]eader|[Aa]dviser|[Aa]dvisor"
)
_NAME_WORD = r"[A-ZÀ-ÖØ-ÞĀ-Ž][\w'’.-]*"
_PARTICLE = r"(?:von|van|der|den|de|da|di|al|bin|la|le)"
_TITLED_NAME = re.compile(
    rf"\b({_TITLES})\s+{_NAME_WORD}(?:\s+(?:{_PARTICLE}\s+)*{_NAME_WORD}){{0,3}}\b"
)


def mask_titled_names(text: str) -> str:
    """`text` with each titled person's name dropped: "Foreign Minister Andriy Sybiha said"
    becomes "Foreign Minister said"."""
    return _TITLED_NAME.sub(lambda m: m.group(1) + " ", text)


def normalize(text: str, hashtag_tokens: bool = False, mask_names: bool = False) -> str:
    """Lower-case, unify quotes and contractions, and reduce URLs, mentions and hashtags.

    `#UkraineInNATO` becomes `ukraine in nato`, so a hashtag shares features with prose; with
    `hashtag_tokens` the whole tag follows as one more word, `ukraine in nato #ukraineinnato`,
    so `#ProLife` and `#prolife` share a feature however they are cased.
    """
    # Each pattern runs only when the characters it needs are there: most statements have no
    # URL, mention, hashtag or contraction, and these steps run on every text scored.
    if not text.isascii():
        text = _SURROGATES.sub(" ", text)
    if not text.isprintable():
        text = _CONTROL.sub(" ", text)
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)
    if mask_names:
        text = mask_titled_names(text)
    if "://" in text or "www." in text.lower():
        text = _URL.sub(" url ", text)
    if "@" in text:
        text = _MENTION.sub(" @user ", text)
    if "#" in text:
        text = _HASHTAG.sub(_split_and_keep_hashtag if hashtag_tokens else _split_hashtag, text)
    text = text.lower()
    if "n't" in text or "cannot" in text:
        for pattern, replacement in _CONTRACTIONS:
            text = pattern.sub(replacement, text)
    return _SPACES.sub(" ", text).strip()


# Names that mean the same thing in this domain, as one word feature each: supporters say "the
# Alliance" where opponents say "NATO", and a model should not learn the synonym as a stance.
# Other countries that are or were candidates share one word, so "Finland should join" and
# "Georgia should join" teach the same lesson: another country's accession.
_CANONICAL_PHRASES = (  # (a word each match contains, pattern, replacement)
    ("north", re.compile(r"\bnorth atlantic treaty organi[sz]ation\b"), "nato"),
    ("north", re.compile(r"\b(?:the )?north atlantic alliance\b"), "nato"),
    ("north", re.compile(r"\bnorth macedonia\b"), "macedonia"),
    ("bosnia", re.compile(r"\bbosnia and herzegovina\b"), "bosnia"),
)
CANONICAL_WORDS = {
    "alliance": "nato",
    "alliance's": "nato's",
    "kyiv": "ukraine",
    "kiev": "ukraine",
    "kyiv's": "ukraine's",
    "kiev's": "ukraine's",
    **{
        name + suffix: "othercountry" + suffix
        for name in (
            "finland",
            "sweden",
            "georgia",
            "moldova",
            "montenegro",
            "macedonia",
            "bosnia",
            "serbia",
            "armenia",
            "azerbaijan",
            "tbilisi",
            "chisinau",
            "helsinki",
            "stockholm",
        )
        for suffix in ("", "'s")
    },
}


def canonicalize(normalized: str) -> str:
    """A normalised text with multi-word names reduced to one word ("north atlantic alliance")."""
    for hint, pattern, replacement in _CANONICAL_PHRASES:
        if hint in normalized:
            normalized = pattern.sub(replacement, normalized)
    return normalized


# The words that name the question itself. Nearly every on-topic statement uses them, on every
# side, so what they say about stance is an accident of how a corpus was written ("Ukraine's"
# and "NATO." at the end of a sentence were support cues in ours). With `mask_target_terms`
# they give no unigram and no character n-grams; the word n-grams around them stay
# ("oppose ukraine's", "in nato").
TARGET_TERMS = frozenset(
    [
        "ukraine",
        "ukraine's",
        "ukrainian",
        "ukrainians",
        "kyiv",
        "kiev",
        "kyiv's",
        "kiev's",
        "nato",
        "nato's",
        "alliance",
        "alliance's",
        "membership",
        "member",
        "members",
        "accession",
        "join",
        "joining",
        "joined",
        "joins",
    ]
)


def strip_punctuation(normalized: str) -> str:
    """Words only: punctuation becomes a space; apostrophes and hyphens inside words, and the
    `#` of a whole hashtag (`normalize(..., hashtag_tokens=True)`), stay."""
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", normalized)).strip()


class CharText:
    """Picklable preprocessor: the normalised text as character n-grams see it."""

    def __init__(self, words_only: bool, mask_targets: bool) -> None:
        self.words_only = words_only
        self.mask_targets = mask_targets

    def __call__(self, normalized: str) -> str:
        text = strip_punctuation(normalized) if self.words_only else normalized
        if self.mask_targets:
            text = " ".join(w for w in text.split() if w.strip(_EDGE) not in TARGET_TERMS)
        return text


_EDGE = "\"'.,;:!?()[]…"


# The words that say a sentence is about the question: the Alliance, joining it, the road to it
# and the alternatives to it. A statement's stance is said near them ("allies should invite Kyiv
# once the guns fall silent"); the rest of a long real statement is context (arms
# deliveries, the war, the economy) whose words the corpus ties to one side by accident.
ANCHOR_TERMS = frozenset(
    [
        "nato",
        "nato's",
        "alliance",
        "alliance's",
        "bloc",
        "membership",
        "member",
        "accession",
        "accede",
        "join",
        "joining",
        "joined",
        "joins",
        "admission",
        "admit",
        "admitting",
        "invitation",
        "invite",
        "invited",
        "map",
        "door",
        "enlargement",
        "expansion",
        "euro-atlantic",
        "article",
        "neutral",
        "neutrality",
        "non-bloc",
        "non-aligned",
    ]
)


def target_windows(normalized: str, reach: int) -> str:
    """The words of a normalised text within `reach` words of an `ANCHOR_TERMS` word, in order
    (overlapping windows merge); the whole text when no word names the question."""
    words = normalized.split()
    anchors = [i for i, word in enumerate(words) if word.strip(_EDGE) in ANCHOR_TERMS]
    if not anchors:
        return normalized
    near = {i for anchor in anchors for i in range(anchor - reach, anchor + reach + 1)}
    return " ".join(word for i, word in enumerate(words) if i in near)


# The two scopes the codebook labels neutral whatever their lean (section 2.3): another country's
# accession or neutrality, and Ukraine's accession to the EU alone. The n-grams see the words;
# these say what is absent too (no Ukraine in a statement about Georgia, no NATO in one about
# the EU), which a sum of n-gram weights cannot.
_OTHER_COUNTRY = re.compile(
    r"\b(?:finland|sweden|georgia|moldova|montenegro|macedonia|bosnia|serbia|kosovo|armenia|"
    r"azerbaijan|austria|switzerland|ireland|tbilisi|chisinau|helsinki|stockholm|finnish|"
    r"swedish|georgian|moldovan)\b",
    re.IGNORECASE,
)
_UKRAINE = re.compile(r"\bukrain|\bkyiv\b|\bkiev\b", re.IGNORECASE)
_EU = re.compile(
    r"\beu\b|\beu's\b|\beuropean (?:union|commission|council)\b|(?<!soviet )\bunion\b",
    re.IGNORECASE,
)
_NATO = re.compile(
    r"\bnato\b|\balliance\b|\balliance's\b|\bbloc\b|\barticle 5\b|euro-atlantic|\bmap\b",
    re.IGNORECASE,
)
SCOPE_NAMES = ("scope: another country", "scope: the EU only")


def scope_flags(text: str) -> tuple[float, float]:
    """(names another candidate country and never Ukraine, names the EU and never NATO)."""
    other = bool(_OTHER_COUNTRY.search(text)) and not _UKRAINE.search(text)
    eu_only = bool(_EU.search(text)) and not _NATO.search(text)
    return float(other), float(eu_only)


# A `#` only ever starts a token in text normalised with `hashtag_tokens`.
_TOKEN = re.compile(r"#?[^\W_]+(?:['-][^\W_]+)*|[?!]")
_CLAUSE_END = frozenset({"?", "!"})


# "not only ... but also", "not just", "not least" add, they do not deny: as one word each they
# neither open a negation scope nor count as "not".
_NOT_NEGATING = frozenset({"only", "just", "merely", "simply", "least"})


def _join_false_negations(tokens: list[str]) -> list[str]:
    joined: list[str] = []
    for token in tokens:
        if token in _NOT_NEGATING and joined and joined[-1] == "not":
            joined[-1] = "not-" + token
        else:
            joined.append(token)
    return joined


def tokenize(normalized: str, mark_negation: bool = False, canonical: bool = False) -> list[str]:
    """Word tokens of a normalised text; `?` and `!` are tokens too.

    With `mark_negation`, the up to three tokens after a negator carry a `neg_` prefix,
    so "not ready" and "ready" are distinct features (the negator itself is kept); "not only"
    and its kind are one word that negates nothing. With
    `canonical`, domain synonyms become one word ("the Alliance" and "NATO" are both `nato`). Whole
    hashtags (`#tag`) are topic markers: never marked, and they do not use up the scope.
    """
    if canonical:
        normalized = canonicalize(normalized)
    tokens = _TOKEN.findall(normalized)
    if canonical:
        tokens = [CANONICAL_WORDS.get(token, token) for token in tokens]
    if not mark_negation:
        return tokens
    tokens = _join_false_negations(tokens)
    marked: list[str] = []
    scope = 0
    for token in tokens:
        if token in _CLAUSE_END:
            scope = 0
            marked.append(token)
        elif token in NEGATORS:
            scope = 3
            marked.append(token)
        elif token[0] == "#":
            marked.append(token)
        elif scope:
            scope -= 1
            marked.append("neg_" + token)
        else:
            marked.append(token)
    return marked
