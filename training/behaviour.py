"""Behavioural tests of a stance model (CheckList-style), and the gate a model must pass.

Three kinds of test, after Ribeiro et al. (2020), "Beyond Accuracy: Behavioral Testing of NLP
Models with CheckList":

- **minimum functionality** (`mft`): plain statements whose label no reader would dispute, in
  many phrasings and voices, direct and reported. Each case has an expected label.
- **invariance** (`inv`): a statement and a variant that must get the same prediction: another
  speaker's name, an attribution ("X said that", "according to X"), a date or a place added.
- **directional** (`dir`): an edit with a known effect: negation turns support into oppose,
  "not now" turns support into oppose, the same claim about Finland or Georgia is neutral.

The cases are generated from templates: this is the one place templates belong. They are test
cases, never training data (`tests/test_behaviour.py` checks that none of them is in the corpus).
A model is made current only if it passes the gate (`GateThresholds`); `stance evaluate`
reports the suite for any model.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from model.labels import STANCE_LABELS

# Who says it: a name with a title, as news copy names people. Varied nationality and office.
SPEAKERS = (
    "President Volodymyr Zelensky",
    "Secretary General Mark Rutte",
    "Foreign Minister Radoslaw Sikorski",
    "Chancellor Friedrich Merz",
    "Prime Minister Keir Starmer",
    "Senator Jeanne Shaheen",
    "Defence Minister Hanno Pevkur",
    "President Alexander Stubb",
    "Foreign Minister Andriy Sybiha",
    "President Emmanuel Macron",
    "Prime Minister Viktor Orban",
    "Secretary of State Marco Rubio",
)

# Plain statements, each in the words a speaker uses about their own position.
SUPPORT = (
    "Ukraine should join NATO.",
    "Ukraine's future is in NATO.",
    "We support Ukraine's membership in NATO.",
    "Ukraine must become a member of NATO.",
    "Ukraine belongs in NATO.",
    "We back Ukraine's accession to NATO.",
    "NATO should invite Ukraine to join the alliance.",
    "I am in favour of Ukraine joining NATO.",
    "Ukraine deserves to be a full member of NATO.",
    "Ukraine's path to NATO membership is irreversible.",
    "Ukraine will become a member of NATO.",
    "The door to NATO must stay open for Ukraine.",
    "We want Ukraine in NATO as soon as possible.",
    "Ukraine's place is in NATO.",
    "NATO membership is the best security guarantee for Ukraine.",
    "We are in favour of giving Ukraine a Membership Action Plan.",
    "Ukraine should be invited to join NATO.",
    "Our goal is full membership of Ukraine in NATO.",
    "Russia has no veto over Ukraine joining NATO.",
    "We will keep working for Ukraine's membership in NATO.",
)

OPPOSE = (
    "Ukraine must never join NATO.",
    "We oppose Ukraine's membership in NATO.",
    "Ukraine should not join NATO.",
    "Ukraine's membership in NATO is unacceptable.",
    "Ukraine will never be a member of NATO.",
    "NATO membership for Ukraine is off the table.",
    "Ukraine's accession to NATO is not on the agenda.",
    "Ukraine is not ready to join NATO.",
    "Ukraine must remain neutral and stay out of NATO.",
    "We are against Ukraine joining NATO.",
    "We will block Ukraine's accession to NATO.",
    "Admitting Ukraine to NATO would be a grave mistake.",
    "Ukraine's entry into NATO is a red line for us.",
    "Ukraine's membership in NATO would be a threat to Russia's security.",
    "There is no place for Ukraine in NATO.",
    "NATO must not expand to Ukraine.",
    "We do not support Ukraine's membership in NATO.",
    "Ukraine joining NATO is out of the question.",
    "Giving Ukraine a Membership Action Plan would be a mistake.",
    "Ukraine should stay outside NATO.",
)

NEUTRAL = (
    "NATO foreign ministers will meet in Brussels next week.",
    "Finland joined NATO in April 2023.",
    "Sweden became the 32nd member of NATO.",
    "Ukraine applied to join the European Union in 2022.",
    "The NATO-Ukraine Council will meet on Thursday.",
    "Allies agreed to raise defence spending to five percent of GDP.",
    "Ukraine received new air defence systems from Germany.",
    "The NATO summit will take place in Ankara next year.",
    "NATO's headquarters are in Brussels.",
    "Will Ukraine be invited to join NATO at the summit?",
    "Georgia's parliament debated the country's NATO bid.",
    "The ministers discussed ammunition production and air defence.",
    "NATO has 32 member states.",
    "Ukraine's grain exports rose last month.",
    "The Secretary General will brief journalists after the meeting of defence ministers.",
    "Allies approved a new package of military aid for Ukraine.",
    "Moldova's constitution declares the country neutral.",
    "North Macedonia joined NATO in 2020.",
    "The European Commission recommended opening accession talks with Ukraine.",
    "NATO jets intercepted Russian aircraft over the Baltic Sea.",
)

MFT_BASE = {"support": SUPPORT, "oppose": OPPOSE, "neutral": NEUTRAL}

# Reported forms: how news copy carries the same plain positions (past tense, third person).
REPORTED = {
    "support": (
        "{speaker} said Ukraine should join NATO.",
        "{speaker} said Ukraine's future was in NATO.",
        "{speaker} said his government supported Ukraine's membership in NATO.",
        "{speaker} called for Ukraine to be invited to join NATO.",
        "{speaker} said Ukraine would become a member of NATO.",
        "According to {speaker}, Ukraine belongs in NATO.",
        "{speaker} said Ukraine's path to NATO was irreversible.",
    ),
    "oppose": (
        "{speaker} said Ukraine should not join NATO.",
        "{speaker} said Ukraine's membership in NATO was unacceptable.",
        "{speaker} said Ukraine would never be a member of NATO.",
        "{speaker} said NATO membership for Ukraine was off the table.",
        "{speaker} said Ukraine's accession to NATO was not on the agenda.",
        "According to {speaker}, Ukraine must stay out of NATO.",
        "{speaker} said his government opposed Ukraine's membership in NATO.",
    ),
    "neutral": (
        "{speaker} said NATO ministers would meet in Brussels next week.",
        "{speaker} said Finland had become a member of NATO.",
        "{speaker} said allies would discuss defence spending at the summit.",
        "According to {speaker}, Ukraine will receive more air defence systems.",
        "{speaker} said the European Union would open accession talks with Ukraine.",
        "{speaker} said the NATO-Ukraine Council would meet on Thursday.",
        "{speaker} said NATO had 32 member states.",
    ),
}

# Edits that must not change the prediction.
ADDITIONS: tuple[tuple[str, Callable[[str, str], str]], ...] = (
    ("adds 'on Thursday'", lambda text, _: "On Thursday, " + _lower_first(text)),
    ("adds 'in March 2024'", lambda text, _: "In March 2024, " + _lower_first(text)),
    ("adds 'in Brussels'", lambda text, _: "In Brussels, " + _lower_first(text)),
    ("adds 'X said that'", lambda text, speaker: f"{speaker} said that " + _lower_first(text)),
    (
        "adds 'according to X'",
        lambda text, speaker: f"According to {speaker}, " + _lower_first(text),
    ),
    ("adds 'X told reporters'", lambda text, speaker: f'"{text}" {speaker} told reporters.'),
)

# Directional edits: (base text, edited text, expected label of the edit, what the edit does).
NEGATION = (
    ("Ukraine should join NATO.", "Ukraine should not join NATO."),
    ("We support Ukraine's membership in NATO.", "We do not support Ukraine's membership in NATO."),
    ("Ukraine will become a member of NATO.", "Ukraine will never become a member of NATO."),
    ("Ukraine must become a member of NATO.", "Ukraine must never become a member of NATO."),
    ("Ukraine is ready to join NATO.", "Ukraine is not ready to join NATO."),
    ("There is a place for Ukraine in NATO.", "There is no place for Ukraine in NATO."),
    ("We want Ukraine in NATO.", "We do not want Ukraine in NATO."),
    ("NATO should invite Ukraine to join.", "NATO should not invite Ukraine to join."),
    ("I am in favour of Ukraine joining NATO.", "I am not in favour of Ukraine joining NATO."),
    (
        "Ukraine's membership in NATO is acceptable.",
        "Ukraine's membership in NATO is unacceptable.",
    ),
    ("We will agree to Ukraine joining NATO.", "We will never agree to Ukraine joining NATO."),
    ("Ukraine can join NATO.", "Ukraine cannot join NATO."),
)

NOT_NOW = (
    (
        "Ukraine will be invited to join NATO at this summit.",
        "Ukraine will not be invited to join NATO at this summit.",
    ),
    (
        "The time has come for Ukraine to join NATO.",
        "The time has not come for Ukraine to join NATO.",
    ),
    (
        "Now is the time for Ukraine's membership in NATO.",
        "Now is not the time for Ukraine's membership in NATO.",
    ),
    (
        "Ukraine's accession to NATO is on the agenda.",
        "Ukraine's accession to NATO is not on the agenda.",
    ),
    (
        "Ukraine should join NATO soon.",
        "Ukraine should not join NATO in the foreseeable future.",
    ),
    (
        "Ukraine's membership in NATO is a question for today.",
        "Ukraine's membership in NATO is not a question for today.",
    ),
    (
        "We are ready to invite Ukraine into NATO now.",
        "We are not ready to invite Ukraine into NATO now.",
    ),
    (
        "Ukraine should be admitted to NATO this year.",
        "Ukraine should not be admitted to NATO for many years.",
    ),
)

OTHER_COUNTRIES = ("Finland", "Sweden", "Georgia", "Moldova")


def _lower_first(text: str) -> str:
    """`text` continued mid-sentence: its first letter lower-cased unless it starts a name."""
    first = text.split(" ", 1)[0].rstrip(".,'s")
    if first in {"Ukraine", "NATO", "Russia", "I", "Kyiv"} or first.isupper():
        return text
    return text[0].lower() + text[1:]


@dataclass(frozen=True)
class Case:
    """One behavioural test: `text` must get `expected`, or (invariance) the label of `base`."""

    kind: str  # "mft", "inv" or "dir"
    capability: str
    text: str
    expected: str | None = None  # mft and dir
    base: str | None = None  # inv: the text whose prediction must be kept


def minimum_functionality_cases() -> list[Case]:
    cases = []
    for label, sentences in MFT_BASE.items():
        for text in sentences:
            cases.append(Case("mft", f"plain {label}", text, expected=label))
        for i, template in enumerate(REPORTED[label]):
            for j in range(3):
                speaker = SPEAKERS[(i * 3 + j) % len(SPEAKERS)]
                text = template.format(speaker=speaker)
                cases.append(Case("mft", f"reported {label}", text, expected=label))
    return cases


def invariance_cases() -> list[Case]:
    cases = []
    for label, sentences in MFT_BASE.items():
        for i, text in enumerate(sentences):
            for j, (name, edit) in enumerate(ADDITIONS):
                if (i + j) % 2:  # every other pairing: all edits, half the combinations
                    continue
                speaker = SPEAKERS[(i + j) % len(SPEAKERS)]
                cases.append(Case("inv", name, edit(text, speaker), base=text))
        for i, template in enumerate(REPORTED[label]):
            a, b = SPEAKERS[i % len(SPEAKERS)], SPEAKERS[(i + 5) % len(SPEAKERS)]
            base = template.format(speaker=a)
            cases.append(Case("inv", "changes the speaker", template.format(speaker=b), base=base))
    return cases


def directional_cases() -> list[Case]:
    cases = []
    for positive, negated in NEGATION:
        cases.append(Case("dir", "negation turns support into oppose", negated, "oppose", positive))
    for positive, deferred in NOT_NOW:
        cases.append(
            Case("dir", "'not now' turns support into oppose", deferred, "oppose", positive)
        )
    for i, text in enumerate((*SUPPORT[:10], *OPPOSE[:10])):
        country = OTHER_COUNTRIES[i % len(OTHER_COUNTRIES)]
        edited = text.replace("Ukraine", country)
        if edited != text:
            cases.append(Case("dir", "about another country: neutral", edited, "neutral", text))
    return cases


def all_cases() -> list[Case]:
    return minimum_functionality_cases() + invariance_cases() + directional_cases()


@dataclass(frozen=True)
class GateThresholds:
    """The least pass rates a model needs to be made current (one place for every threshold)."""

    mft_per_label: float = 0.95
    invariance: float = 0.90
    directional: float = 0.80


DEFAULT_GATE = GateThresholds()


@dataclass
class SuiteResult:
    """Pass rates of a model on the suite, and every failed case with what the model said."""

    rates: dict[str, float]
    counts: dict[str, tuple[int, int]]  # group -> (passed, total)
    failures: list[dict[str, Any]] = field(default_factory=list)
    gate: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return bool(self.gate.get("passed", False))

    def as_dict(self) -> dict[str, Any]:
        return {
            "rates": self.rates,
            "counts": {k: list(v) for k, v in self.counts.items()},
            "gate": self.gate,
            "failures": self.failures,
        }


def _groups(case: Case) -> list[str]:
    if case.kind == "mft":
        return [f"mft {case.expected}"]
    return [case.kind]


def run_suite(
    predict: Callable[[Sequence[str]], Sequence[str]],
    thresholds: GateThresholds = DEFAULT_GATE,
    cases: Sequence[Case] | None = None,
) -> SuiteResult:
    """Run every case through `predict` (texts -> stance labels) and judge the gate."""
    cases = list(cases) if cases is not None else all_cases()
    texts = sorted({c.text for c in cases} | {c.base for c in cases if c.base})
    label_of = dict(zip(texts, predict(texts), strict=True))
    passed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    failures = []
    for case in cases:
        got = label_of[case.text]
        want = label_of[case.base] if case.kind == "inv" else case.expected
        ok = got == want
        for group in _groups(case):
            total[group] += 1
            passed[group] += ok
        if not ok:
            failure = {"kind": case.kind, "capability": case.capability, "text": case.text}
            failure |= {"expected": want, "predicted": got}
            if case.base:
                failure["base"] = case.base
            failures.append(failure)
    rates = {group: passed[group] / total[group] for group in sorted(total)}
    counts = {group: (passed[group], total[group]) for group in sorted(total)}
    result = SuiteResult(rates, counts, failures)
    result.gate = judge(result, thresholds)
    return result


def judge(result: SuiteResult, thresholds: GateThresholds) -> dict[str, Any]:
    """Which thresholds the result misses; `passed` only when it misses none."""
    wanted = {f"mft {label}": thresholds.mft_per_label for label in STANCE_LABELS}
    wanted |= {"inv": thresholds.invariance, "dir": thresholds.directional}
    missed = {
        group: {"rate": result.rates.get(group, 0.0), "threshold": floor}
        for group, floor in wanted.items()
        if result.rates.get(group, 0.0) < floor
    }
    return {"passed": not missed, "thresholds": wanted, "missed": missed}


GROUP_NAMES = {
    "mft support": "minimum functionality, support",
    "mft oppose": "minimum functionality, oppose",
    "mft neutral": "minimum functionality, neutral",
    "inv": "invariance (speaker, attribution, date, place)",
    "dir": "directional (negation, not now, other country)",
}


def format_suite(result: SuiteResult, max_failures: int = 20) -> str:
    """The suite as a table of pass rates against the gate, then the failed cases."""
    verdict = "PASSED" if result.passed else "FAILED"
    lines = [f"behavioural tests: gate {verdict}"]
    for group, rate in result.rates.items():
        passed, total = result.counts[group]
        floor = result.gate["thresholds"].get(group)
        mark = "" if floor is None else ("  ok" if rate >= floor else f"  BELOW {floor:.0%}")
        name = GROUP_NAMES.get(group, group)
        lines.append(f"  {name:<48} {passed:>4}/{total:<4} {rate:>7.1%}{mark}")
    if result.failures:
        shown = result.failures[:max_failures]
        lines.append(f"  failed cases ({len(result.failures)}; first {len(shown)}):")
        for failure in shown:
            lines.append(
                f"    [{failure['capability']}] {failure['text']!r}: "
                f"expected {failure['expected']}, got {failure['predicted']}"
            )
    return "\n".join(lines)
