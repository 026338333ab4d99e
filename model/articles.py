"""Article mode: who said what in a news article, by rules (no parser model, nothing downloaded).

`extract_statements(text)` finds, in order of position:
- direct quotes in straight, curly and guillemet marks (a quote split by its attribution is two
  statements of the same speaker; scare quotes of fewer than four words are not statements),
  attributed from the words next to them ("..., he said.", "Zelenskiy emphasized, "...",
  "said the minister"), or to the previous quote's speaker when a paragraph goes on quoting;
- indirect speech: "X said (on Tuesday) (that) ...", "X, responding to ..., stated that ...",
  "According to X, ...", "..., X said." with the common speech verbs in all their forms;
- narration: every other sentence, with no speaker, so the article's own framing is scored too.

Speakers are parsed into a name and a role from titles and appositives ("Kremlin spokesman
Dmitry Peskov": role "Kremlin spokesman", name "Dmitry Peskov"); bodies ("the Foreign Ministry
of Ukraine") are speakers too; "he", "she" and bare surnames resolve to the last full mention
of a person. Offsets are character offsets into the text given (end exclusive).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

# -- vocabulary ------------------------------------------------------------------------------

_IRREGULAR = {
    "say": ("say", "says", "said", "saying"),
    "tell": ("tell", "tells", "told", "telling"),
    "write": ("write", "writes", "wrote", "writing"),
    "reply": ("reply", "replies", "replied", "replying"),
}
_REGULAR = [
    "state",
    "stress",
    "warn",
    "argue",
    "suggest",
    "insist",
    "emphasize",
    "emphasise",
    "add",
    "note",
    "claim",
    "declare",
    "announce",
    "urge",
    "reiterate",
    "explain",
    "assert",
    "affirm",
    "confirm",
    "deny",
    "acknowledge",
    "admit",
    "tweet",
    "respond",
    "maintain",
    "contend",
    "predict",
    "promise",
    "vow",
    "pledge",
    "caution",
    "complain",
    "accuse",
    "remark",
    "observe",
    "comment",
    "point",
]


def _forms(verb: str) -> tuple[str, ...]:
    if verb in _IRREGULAR:
        return _IRREGULAR[verb]
    stem = verb[:-1] if verb.endswith("e") else verb
    if verb in _DOUBLING:  # admit -> admitted, admitting
        stem = verb + verb[-1]
    third = verb + ("es" if verb.endswith(("s", "sh", "ch")) else "s")
    past = verb + "d" if verb.endswith("e") else stem + "ed"
    return (verb, third, past, stem + "ing")


_DOUBLING = frozenset({"admit", "regret", "commit"})


SPEECH_VERBS = frozenset(form for verb in (*_IRREGULAR, *_REGULAR) for form in _forms(verb))
# "pointed out" needs its particle; the rest stand alone.
_VERB = r"(?:" + "|".join(sorted(SPEECH_VERBS - set(_forms("point")), key=len, reverse=True))
_VERB += r"|point(?:s|ed|ing)? out)"

TITLE_WORDS = frozenset(
    [
        "president",
        "prime",
        "minister",
        "foreign",
        "defence",
        "defense",
        "interior",
        "finance",
        "secretary",
        "general",
        "chancellor",
        "spokesman",
        "spokeswoman",
        "spokesperson",
        "ambassador",
        "envoy",
        "senator",
        "sen.",
        "rep.",
        "representative",
        "deputy",
        "chief",
        "head",
        "chairman",
        "chairwoman",
        "chair",
        "speaker",
        "vice",
        "king",
        "queen",
        "pope",
        "gen.",
        "general",
        "lt.",
        "col.",
        "adm.",
        "admiral",
        "commander",
        "mr",
        "mr.",
        "mrs",
        "mrs.",
        "ms",
        "ms.",
        "dr",
        "dr.",
        "commissioner",
        "adviser",
        "advisor",
        "counsellor",
        "director",
        "governor",
        "mayor",
        "mp",
        "lawmaker",
        "leader",
        "official",
        "officials",
        "diplomat",
        "analyst",
        "professor",
        "colonel",
        "state",
        "department",
        "ministry",
    ]
)
BODY_WORDS = frozenset(
    [
        "ministry",
        "department",
        "office",
        "kremlin",
        "government",
        "council",
        "commission",
        "parliament",
        "rada",
        "duma",
        "alliance",
        "nato",
        "news",
        "agency",
        "times",
        "post",
        "press",
        "union",
        "committee",
        "party",
        "embassy",
        "summit",
        "house",
        "bank",
        "forces",
        "army",
        "institute",
        "center",
        "centre",
        "university",
        "foundation",
        "service",
        "administration",
        "cabinet",
        "senate",
        "congress",
        "assembly",
        "secretariat",
        "headquarters",
        "white",
    ]
)
PRONOUNS = {"he": "person", "she": "person", "they": "any", "it": "body"}
_NOT_SPEAKERS = frozenset(
    [
        "reports",
        "report",
        "data",
        "figures",
        "polls",
        "poll",
        "it",
        "this",
        "that",
        "which",
        "there",
        "studies",
        "documents",
        "document",
        "statement",
        "statements",
        "article",
    ]
)
# Nouns that make "a ... said" a speaker ("a participant said", "a government source said").
_PEOPLE_NOUNS = frozenset(
    [
        "source",
        "sources",
        "participant",
        "participants",
        "witness",
        "witnesses",
        "resident",
        "residents",
        "person",
        "people",
        "spokesperson",
        "aide",
        "aides",
        "insider",
        "insiders",
        "observer",
        "observers",
        "expert",
        "experts",
    ]
)

# -- sentences -------------------------------------------------------------------------------

_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "gen",
        "lt",
        "col",
        "adm",
        "sen",
        "rep",
        "st",
        "jr",
        "sr",
        "prof",
        "gov",
        "u.s",
        "u.k",
        "u.n",
        "e.g",
        "i.e",
        "vs",
        "no",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "inc",
        "co",
        "corp",
    ]
)
_SENTENCE_END = re.compile(r"[.!?…]+[\"”»’']?(?=\s+[\"“«‘(\[]?[A-ZА-ЯЁЄІЇҐ0-9])")


def sentences(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each sentence: paragraphs are split on line breaks, then on sentence
    ends that are not abbreviations ("Mr.", "U.S.") nor inside a quotation."""
    for paragraph in re.finditer(r"[^\n]+", text):
        start = paragraph.start()
        body = paragraph.group()
        cursor = 0
        for end in _SENTENCE_END.finditer(body):
            word = re.search(r"([\w.]+)[.!?…]*[\"”»’']?$", body[cursor : end.end()])
            if word and word.group(1).lower().rstrip(".") in _ABBREVIATIONS:
                continue
            if _inside_quote(body[cursor : end.end()]):
                continue
            yield from _trimmed(text, start + cursor, start + end.end())
            cursor = end.end()
        yield from _trimmed(text, start + cursor, paragraph.end())


def _inside_quote(fragment: str) -> bool:
    straight = fragment.count('"') % 2 == 1
    curly = fragment.count("“") > fragment.count("”")
    guillemet = fragment.count("«") > fragment.count("»")
    return straight or curly or guillemet


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield start, end


# -- speakers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Speaker:
    name: str | None
    role: str | None
    kind: str = "person"  # person, body, unnamed (a State Department spokesman), none

    def as_dict(self) -> dict[str, str | None]:
        return {"name": self.name, "role": self.role}


NOBODY = Speaker(None, None, "none")
_NAME_TOKEN = re.compile(r"[A-ZÀ-ÖØ-ÞА-ЯЁЄІЇҐ][\w'’.-]*")
# A run of capitalised words, with the small words names and titles contain ("Minister of
# Defence", "Ursula von Lehm"): the candidates for a named person or body.
_CAPITALISED_RUN = re.compile(
    r"[A-ZÀ-ÖØ-ÞА-ЯЁЄІЇҐ][\w'’.-]*(?:\s+(?:(?:of|de|von|van|al|bin|der)\s+)?"
    r"[A-ZÀ-ÖØ-ÞА-ЯЁЄІЇҐ][\w'’.-]*)*"
)


def parse_speaker(phrase: str) -> Speaker:
    """A speaker phrase split into name and role ("Ukrainian Foreign Minister Andriy Sybiha")."""
    words = phrase.strip().strip(",").split()
    if not words:
        return NOBODY
    if words[0].lower() in ("a", "an") or (
        words[0].lower() == "the" and all(w[0].islower() for w in words[1:])
    ):
        return Speaker(" ".join(words), None, "unnamed")
    lowered = [w.lower().strip(",") for w in words]
    if any(w in BODY_WORDS for w in lowered) and not _ends_with_person(words):
        name = " ".join(words[1:] if lowered[0] == "the" else words)
        return Speaker(name, None, "body")
    if lowered[0] == "the":
        words, lowered = words[1:], lowered[1:]
    last_title = max((i for i, w in enumerate(lowered) if w in TITLE_WORDS), default=-1)
    name_words = words[last_title + 1 :]
    role_words = words[: last_title + 1]
    # nationality or organisation words before a title belong to the role ("Ukrainian ...")
    if not name_words:
        return Speaker(" ".join(words), None, "unnamed")
    return Speaker(" ".join(name_words), " ".join(role_words) or None, "person")


def _ends_with_person(words: list[str]) -> bool:
    """ "NATO Secretary General Jens Olsen": body words, then a title, then a name (but not
    "the Foreign Ministry of Ukraine", where the body follows the title)."""
    lowered = [w.lower() for w in words]
    titles = [i for i, w in enumerate(lowered) if w in TITLE_WORDS and w not in BODY_WORDS]
    if not titles:
        return False
    tail = words[titles[-1] + 1 :]
    return bool(tail) and all(
        w[0].isupper() and w.lower() not in BODY_WORDS and w.lower() not in TITLE_WORDS
        for w in tail
    )


@dataclass
class Mentions:
    """The people and bodies named so far, to resolve "he", "she" and bare surnames."""

    people: list[Speaker] = field(default_factory=list)
    bodies: list[Speaker] = field(default_factory=list)

    def add(self, speaker: Speaker) -> Speaker:
        if speaker.kind == "person" and speaker.name:
            known = self.by_surname(speaker.name.split()[-1])
            if known is not None and len(known.name.split()) > len(speaker.name.split()):
                speaker = known  # "Zelenskiy" after "President Volodymyr Zelenskiy"
            elif known is not None and speaker.role is None and known.name == speaker.name:
                speaker = known
            self.people.append(speaker)
        elif speaker.kind == "body":
            self.bodies.append(speaker)
        return speaker

    def by_surname(self, surname: str) -> Speaker | None:
        for person in reversed(self.people):
            if person.name and person.name.split()[-1] == surname:
                return person
        return None

    def scan(self, sentence: str) -> None:
        """Record every titled or full name in a sentence (antecedents for later pronouns)."""
        for match in _CAPITALISED_RUN.finditer(sentence):
            speaker = parse_speaker(match.group())
            if speaker.kind == "person" and speaker.name and len(speaker.name.split()) >= 2:
                self.add(speaker)

    def resolve(self, phrase: str) -> Speaker:
        word = phrase.strip().lower()
        if word in PRONOUNS:
            if word in ("he", "she") and self.people:
                return self.people[-1]
            if word == "it" and self.bodies:
                return self.bodies[-1]
            if word == "they":
                pool = self.people + self.bodies
                return pool[-1] if pool else NOBODY
            return NOBODY
        speaker = parse_speaker(phrase)
        if speaker.kind == "person" and speaker.name and len(speaker.name.split()) == 1:
            known = self.by_surname(speaker.name)
            if known is not None:
                return known
        return self.add(speaker) if speaker.kind in ("person", "body") else speaker


def _speaker_phrase(subject: str) -> str | None:
    """The speaker in the words before a speech verb, or None if they do not name one:
    "Kremlin spokesman Dmitry Peskov, responding to ...," -> "Kremlin spokesman Dmitry Peskov";
    "In a recent statement by President X, he" -> "he"."""
    segments = [s.strip() for s in subject.split(",") if s.strip()]
    if not segments:
        return None
    for candidate in (segments[-1], segments[0]):
        words = candidate.split()
        while words and words[-1].lower() in _ADVERBS:
            words.pop()
        if words and _looks_like_speaker(words):
            return " ".join(words)
    return None


_ADVERBS = frozenset(
    [
        "also",
        "again",
        "later",
        "then",
        "once",
        "further",
        "repeatedly",
        "publicly",
        "recently",
        "previously",
        "earlier",
        "separately",
        "privately",
        "bluntly",
        "flatly",
        "firmly",
        "reportedly",
        "has",
        "have",
        "had",
        "had",
        "also",
    ]
)


def _looks_like_speaker(words: list[str]) -> bool:
    if len(words) > 10:
        return False
    first = words[0].lower()
    if first in PRONOUNS:
        return len(words) == 1
    if first in _NOT_SPEAKERS or words[-1].lower() in _NOT_SPEAKERS:
        return False
    if words[-1].lower() in ("is", "was", "are", "were", "be", "been", "being"):
        return False  # a passive ("... is underscored by"), not a speaker
    if first in ("a", "an", "the", "one", "two", "three", "several", "many", "some"):
        nouns = TITLE_WORDS | BODY_WORDS | _PEOPLE_NOUNS
        return any(w.lower().rstrip("s") in nouns or w.lower() in nouns for w in words[1:])
    lowered = [w.lower() for w in words]
    if lowered[0] in ("officials", "diplomats", "analysts", "critics", "allies", "lawmakers"):
        return True
    return words[0][0].isupper() and all(
        w[0].isupper()
        or w.lower() in ("of", "the", "for", "and", "de", "von", "van")
        or w.lower() in TITLE_WORDS
        for w in words
    )


# -- statements ------------------------------------------------------------------------------


@dataclass
class Statement:
    speaker: Speaker
    kind: str  # direct, indirect, narration
    start: int
    end: int
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "speaker": self.speaker.as_dict(),
            "unattributed": self.kind != "narration" and self.speaker.kind == "none",
            "kind": self.kind,
            "start": self.start,
            "end": self.end,
            "text": self.text,
        }


_QUOTES = re.compile(r'"([^"\n]+)"|“([^”\n]+)”|«([^»\n]+)»|„([^“”\n]+)[“”]')
_MIN_QUOTE_WORDS = 4
_SPEAKER = r"(?P<speaker>(?:[A-Za-zÀ-ÿ.'’-]+\s+){0,8}?[A-Za-zÀ-ÿ.'’-]+)"
_AFTER_QUOTE = [
    re.compile(r"^\s*,?\s*" + _SPEAKER + r"\s+(?:\w+ly\s+)?" + _VERB + r"\b"),  # , he said
    re.compile(r"^\s*,?\s*" + _VERB + r"\s+" + _SPEAKER + r"\s*[.,;]"),  # , said Peskov.
]
_BEFORE_QUOTE = re.compile(
    _SPEAKER + r"\s+(?:\w+ly\s+)?" + _VERB + r"(?:\s+(?:reporters|journalists|[A-Z][\w-]*))?"
    r"(?:\s+(?:on|in|at|during|after)\s+[^,:\"“«]{1,40})?\s*[,:]?\s*$"
)
# The main verb of indirect speech: not an -ing form (", responding to ...," is an appositive).
_MAIN_VERB = re.compile(
    r"\b(?:"
    + "|".join(sorted((v for v in SPEECH_VERBS if not v.endswith("ing")), key=len, reverse=True))
    + r"|point(?:s|ed)? out)\b"
)
_ACCORDING = re.compile(r"^According to (?P<speaker>[^,]{2,80}),\s*(?P<content>.+)$", re.S)
_TRAILING = [
    re.compile(
        r"^(?P<content>.+?),\s*" + order + r"(?:\s+(?:on|in|at)\s+[^,]{1,40})?\s*[.!?]?$", re.S
    )
    for order in (_SPEAKER + r"\s+" + _VERB, _VERB + r"\s+" + _SPEAKER)
]
# What may stand between a speech verb and the words reported: the person told, and when or
# where it was said ("told reporters in Kyiv on Tuesday that ...").
_ADDRESSEE = re.compile(
    r"^\s*(?:reporters|journalists|lawmakers|parliament|the\s+[A-Z][\w-]*(?:\s+[A-Z][\w-]*)*"
    r"|[A-Z][\w-]*(?:\s+[A-Z][\w-]*)*)"
)
_WHEN_WHERE = re.compile(
    r"^\s*,?\s*(?:(?:late|early|earlier|later)\s+)?(?:on|in|at|during|after|before|this|last)\s+"
    r"(?:[A-Z][\w-]*|\d[\w-]*|an?\s+\w+|the\s+\w+)(?:\s+(?:[A-Z][\w-]*|\d+\w*|with\s+[A-Z][\w-]*"
    r"(?:\s+[A-Z][\w-]*)*|interview|statement|speech|briefing|week|month|year|morning|evening))*"
)
_THAT_NEAR = re.compile(r"^\s*,?\s*that\s+")


def _content_start(verb: str, rest: str) -> int:
    """Where the reported words begin after the speech verb: past the person told ("told
    reporters"), any "on Tuesday"/"in an interview" and a "that"."""
    at = 0
    if verb.startswith(("told", "tell")):
        addressee = _ADDRESSEE.match(rest)
        at = addressee.end() if addressee else at
    while True:
        when = _WHEN_WHERE.match(rest[at:])
        if not when or when.end() == 0:
            break
        at += when.end()
    that = _THAT_NEAR.match(rest[at:])
    if that:
        return at + that.end()
    colon = re.match(r"^\s*[,:]\s*", rest[at:])
    return at + (colon.end() if colon else 0)


def extract_statements(text: str) -> list[Statement]:
    """Every attributed statement and every narration sentence, in order of position."""
    found: list[Statement] = []
    mentions = Mentions()
    quotes = [q for q in _direct_quotes(text)]
    covered = [(q.start - 1, q.end + 1) for q in quotes]
    last_quote_speaker: dict[int, Speaker] = {}
    for start, end in sentences(text):
        sentence = text[start:end]
        inside = [q for q in quotes if start <= q.start and q.end <= end]
        paragraph = text.rfind("\n", 0, start)
        if inside:
            for quote in inside:
                speaker = _attribute_quote(text, quote, start, end, mentions)
                if speaker.kind == "none" and paragraph in last_quote_speaker:
                    speaker = last_quote_speaker[paragraph]  # the paragraph goes on quoting
                if speaker.kind != "none":
                    last_quote_speaker[paragraph] = speaker
                found.append(Statement(speaker, "direct", quote.start, quote.end, quote.text))
            mentions.scan(_blank_quotes(sentence, covered, start))
            continue
        statement = _indirect(text, start, end, mentions)
        mentions.scan(sentence)
        if statement is not None:
            found.append(statement)
        elif len(sentence.split()) >= 3:
            found.append(Statement(NOBODY, "narration", start, end, sentence))
    return sorted(found, key=lambda s: s.start)


@dataclass
class _Quote:
    start: int
    end: int
    text: str


def _direct_quotes(text: str) -> Iterator[_Quote]:
    for match in _QUOTES.finditer(text):
        group = next(i for i in range(1, 5) if match.group(i) is not None)
        start, end = match.start(group), match.end(group)
        while end > start and text[end - 1] in " ,":
            end -= 1
        if len(text[start:end].split()) >= _MIN_QUOTE_WORDS:
            yield _Quote(start, end, text[start:end])


def _blank_quotes(sentence: str, covered: list[tuple[int, int]], offset: int) -> str:
    chars = list(sentence)
    for start, end in covered:
        for i in range(max(start, offset), min(end, offset + len(chars))):
            chars[i - offset] = " "
    return "".join(chars)


def _attribute_quote(text: str, quote: _Quote, start: int, end: int, mentions: Mentions) -> Speaker:
    after = text[quote.end + 1 : min(end, quote.end + 120)]
    after = after.lstrip('"”»“ ')
    for pattern in _AFTER_QUOTE:
        match = pattern.match(after if after.startswith(",") else ", " + after)
        if match and (phrase := _speaker_phrase(match.group("speaker"))):
            return mentions.resolve(phrase)
    before = text[start : max(start, quote.start - 1)]
    before = before[-160:]
    match = _BEFORE_QUOTE.search(before)
    if match:
        phrase = _speaker_phrase(match.group("speaker"))
        if phrase:
            return mentions.resolve(phrase)
    return NOBODY


def _indirect(text: str, start: int, end: int, mentions: Mentions) -> Statement | None:
    sentence = text[start:end]
    according = _ACCORDING.match(sentence)
    if according:
        content_start = start + according.start("content")
        return _statement(text, content_start, end, mentions.resolve(according.group("speaker")))
    for verb in _MAIN_VERB.finditer(sentence):
        phrase = _speaker_phrase(sentence[: verb.start()])
        if phrase is None:
            continue
        if phrase.lower() in PRONOUNS:  # its antecedent may open the same sentence
            mentions.scan(sentence[: verb.start()])
        rest = sentence[verb.end() :]
        skip = _content_start(verb.group(), rest)
        if len(rest[skip:].split()) < 3:
            continue
        speaker = mentions.resolve(phrase)
        return _statement(text, start + verb.end() + skip, end, speaker)
    for pattern in _TRAILING:
        trailing = pattern.match(sentence)
        if trailing is None:
            continue
        phrase = _speaker_phrase(trailing.group("speaker"))
        if phrase and len(trailing.group("content").split()) >= 3:
            content_end = start + trailing.end("content")
            return _statement(text, start, content_end, mentions.resolve(phrase))
    return None


def _statement(text: str, start: int, end: int, speaker: Speaker) -> Statement | None:
    while end > start and text[end - 1] in ".!?,; ":
        end -= 1
    while start < end and text[start] in " ,:":
        start += 1
    if end - start < 3:
        return None
    return Statement(speaker, "indirect", start, end, text[start:end])


# -- HTML ------------------------------------------------------------------------------------


class _TextOfHtml(HTMLParser):
    BLOCKS = frozenset(
        [
            "p",
            "div",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "li",
            "blockquote",
            "br",
            "tr",
            "section",
            "article",
        ]
    )
    SKIP = frozenset(["script", "style", "noscript", "template", "head", "nav", "footer"])

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The readable text of an HTML page: one paragraph per line, scripts and styles dropped."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = (
        re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in "".join(parser.parts).split("\n")
    )
    return "\n".join(line for line in lines if line)


def looks_like_html(text: str) -> bool:
    return bool(re.match(r"\s*(?:<!doctype html|<html|<body|<p[ >]|<article)", text, re.I))


# -- scoring ---------------------------------------------------------------------------------


def score_article(model: Any, text: str) -> dict[str, Any]:
    """The text analysed (statement offsets point into it), its statements with the model's
    stance and sentiment (the /v1/score shape), and its speakers."""
    statements = extract_statements(text)
    scored = model.predict([s.text for s in statements]) if statements else []
    items = []
    for statement, result in zip(statements, scored, strict=True):
        items.append(
            statement.as_dict() | {"stance": result["stance"], "sentiment": result["sentiment"]}
        )
    return {"text": text, "statements": items, "speakers": speakers_of(items)}


def speakers_of(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per speaker (narration and unattributed quotes left out): statements, mean stance score,
    the mean probabilities and their label; most statements first, then first to speak."""
    groups: dict[tuple[str | None, str | None], list[dict[str, Any]]] = {}
    for item in items:
        speaker = item["speaker"]
        if item["kind"] == "narration" or speaker["name"] is None:
            continue
        groups.setdefault((speaker["name"], speaker["role"]), []).append(item)
    out = []
    for (name, role), said in groups.items():
        labels = list(said[0]["stance"]["probabilities"])
        mean_p = {
            label: sum(s["stance"]["probabilities"][label] for s in said) / len(said)
            for label in labels
        }
        out.append(
            {
                "name": name,
                "role": role,
                "statements": len(said),
                "stance": {
                    "score": sum(s["stance"]["score"] for s in said) / len(said),
                    "label": max(mean_p, key=mean_p.__getitem__),
                    "probabilities": mean_p,
                },
                "first": said[0]["start"],
            }
        )
    out.sort(key=lambda s: (-s["statements"], s["first"]))
    for speaker in out:
        del speaker["first"]
    return out
