"""An oracle of plan quality: pure checks of a ``PlanDraft`` against the mission it plans.

It reads only the plan contract (``missionctl.schemas.plans``), the planning input
(``missionctl.planning.base``) and its own word lists, never a planner's code or vocabularies,
so it measures any planner (local or model) by the same yardstick:

- :func:`noun_coverage`: the share of the goal's domain nouns (:func:`domain_nouns`) that the
  plan's requirements and tasks mention;
- :func:`stack_leaks`: advice for a language ecosystem other than the one the mission names;
- :func:`duplicate_artifacts` and :func:`near_duplicate_risks`: things the plan says twice;
- :func:`grammar_slips`: the slips a template-filling planner makes ("a API", "the the").

:func:`judge` runs them all. The word lists are data: ``quality_words.yaml`` (stop-lists,
grammar exceptions) and ``quality_ecosystems.yaml`` (markers of each ecosystem), beside this file.

Words are compared after ``quality_text.fold`` (plural and verb endings folded); the grammar
rules live in ``quality_grammar``.
"""

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from re import Match, Pattern

import yaml
from pydantic import field_validator, model_validator

from missionctl.planning.base import PlanningInput
from missionctl.schemas.plans import PlanDraft
from tests.planning.quality_grammar import grammar_slips, plan_grammar_slips
from tests.planning.quality_text import (
    WORD,
    DataModel,
    content_folds,
    fold,
    plan_texts,
    singular,
    words,
    work_text,
)

__all__ = [
    "PlanQuality",
    "domain_nouns",
    "duplicate_artifacts",
    "grammar_slips",
    "judge",
    "near_duplicate_requirements",
    "near_duplicate_risks",
    "near_duplicates",
    "noun_coverage",
    "plan_grammar_slips",
    "stack_leaks",
]

ECOSYSTEMS_FILE = Path(__file__).with_name("quality_ecosystems.yaml")

SIMILARITY_THRESHOLD = 0.6
"""Titles whose content words overlap this much (Jaccard) say the same thing.

Examples that set it (content words after stop-words and folding):
"Offline sync conflicts" / "Sync conflicts after offline use": 3 of 3 shared → 1.0, same;
"Missed notifications" / "Notifications missed": 1.0, same;
"Vendor API rate limits" / "Vendor API changes": 2 of 5 → 0.4, different risks;
"Push notifications not delivered" / "Push notification fatigue": 2 of 4 → 0.5, different;
"Data loss or corruption" / "Data loss during cutover": 2 of 4 → 0.5, different emphasis.
Besides, a title whose two or more content words all occur in the other ("Scope creep" /
"Scope creep from stakeholders") says the same thing.
"""


# --- ecosystems ------------------------------------------------------------------------------


class EcosystemEntry(DataModel):
    """One ecosystem of ``quality_ecosystems.yaml``."""

    label: str
    markers: tuple[str, ...]
    platforms: tuple[str, ...] = ()
    allows: frozenset[str] = frozenset()
    exempt: tuple[str, ...] = ()

    @field_validator("markers", "platforms", "exempt")
    @classmethod
    def _compiles(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            re.compile(pattern, re.IGNORECASE)
        return patterns


class EcosystemTable(DataModel):
    """All ecosystems, by name; every ``allows`` names one of them."""

    ecosystems: dict[str, EcosystemEntry]

    @model_validator(mode="after")
    def _allies_exist(self) -> "EcosystemTable":
        for name, entry in self.ecosystems.items():
            unknown = entry.allows - self.ecosystems.keys()
            if unknown:
                raise ValueError(f"ecosystems.{name}.allows names unknown {sorted(unknown)}")
        return self


@dataclass(frozen=True, slots=True)
class Ecosystem:
    """An ecosystem with its patterns compiled."""

    name: str
    label: str
    markers: tuple[Pattern[str], ...]
    platforms: tuple[Pattern[str], ...]
    allows: frozenset[str]
    exempt: tuple[Pattern[str], ...]


@cache
def ecosystems() -> tuple[Ecosystem, ...]:
    """The validated ecosystems with compiled patterns (read once)."""
    table = EcosystemTable.model_validate(
        yaml.safe_load(ECOSYSTEMS_FILE.read_text(encoding="utf-8"))
    )
    return tuple(
        Ecosystem(
            name=name,
            label=entry.label,
            markers=tuple(re.compile(p, re.IGNORECASE) for p in entry.markers),
            platforms=tuple(re.compile(p, re.IGNORECASE) for p in entry.platforms),
            allows=entry.allows,
            exempt=tuple(re.compile(p, re.IGNORECASE) for p in entry.exempt),
        )
        for name, entry in table.ecosystems.items()
    )


@cache
def _generic_folds() -> frozenset[str]:
    return frozenset(fold(word) for word in words().generic_words)


# --- domain nouns --------------------------------------------------------------------------


def domain_nouns(goal: str) -> list[str]:
    """The goal's domain nouns, singular and lower case, in the goal's order, each once.

    A word of the goal is kept unless it is a function word, a number, a generic software word,
    verb or adjective (``quality_words.yaml``), an adverb (-ly), or read as a verb: the word
    after "that"/"which"/"who", a word directly followed by an article ("files a postmortem"),
    or a first word followed by "and"/"or" ("Train and deploy …").

    Example: "Build an inventory management system for a small bakery with supplier orders
    and expiry alerts" → inventory, bakery, supplier, order, expiry, alert.
    """
    text = _without_generic_phrases(goal)
    tokens = list(WORD.finditer(text))
    nouns: dict[str, str] = {}
    for i, token in enumerate(tokens):
        if _is_domain_noun(text, tokens, i):
            nouns.setdefault(fold(token.group()), singular(token.group()))
    return list(nouns.values())


def _without_generic_phrases(text: str) -> str:
    for phrase in words().generic_phrases:
        text = re.sub(rf"(?i)(?<![\w-]){re.escape(phrase)}(?![\w-])", " ", text)
    return text


def _is_domain_noun(text: str, tokens: Sequence[Match[str]], i: int) -> bool:
    word = tokens[i].group().lower()
    lists = words()
    if word in lists.function_words or len(word) < 2 or not any(c.isalpha() for c in word):
        return False
    if _generic(word):
        return False
    if word.endswith("ly") and len(word) > 4 and word not in lists.ly_nouns:
        return False
    return not _reads_as_verb(text, tokens, i)


def _generic(word: str) -> bool:
    # A gerund names an activity of its own ("versioning", "tracking"), so only an -ing form
    # listed as it is counts as generic; other forms fold ("builds" is "build").
    if word.endswith("ing"):
        return singular(word) in words().generic_words
    return fold(word) in _generic_folds()


def _reads_as_verb(text: str, tokens: Sequence[Match[str]], i: int) -> bool:
    lists = words()
    before = tokens[i - 1] if i > 0 else None
    after = tokens[i + 1] if i + 1 < len(tokens) else None
    if (
        before
        and _adjacent(text, before, tokens[i])
        and before.group().lower() in lists.relative_pronouns
    ):
        return True
    if after and _adjacent(text, tokens[i], after):
        following = after.group().lower()
        if following in lists.determiners:
            return True
        if i == 0 and following in ("and", "or"):
            return True
    return False


def _adjacent(text: str, left: Match[str], right: Match[str]) -> bool:
    """Whether only spaces stand between two tokens (no comma, colon or hyphen)."""
    return text[left.end() : right.start()].isspace()


def noun_coverage(plan: PlanDraft, mission: PlanningInput) -> tuple[float, list[str]]:
    """The share of the goal's domain nouns that the plan's work mentions, and those missing.

    A noun is covered when any inflection of it occurs in a requirement text or a task's title,
    description, acceptance criteria or artifacts. A goal without domain nouns is fully
    covered (1.0): there is nothing to miss.
    """
    nouns = domain_nouns(mission.goal)
    if not nouns:
        return 1.0, []
    present = {fold(word) for word in WORD.findall(work_text(plan))}
    missing = [noun for noun in nouns if fold(noun) not in present]
    return (len(nouns) - len(missing)) / len(nouns), missing


# --- stack leaks ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mention:
    """A phrase of the plan that belongs to an ecosystem."""

    ecosystem: Ecosystem
    phrase: str
    where: str
    platform: bool

    def __str__(self) -> str:
        return f"{self.phrase} ({self.ecosystem.label}) in {self.where}"


def named_ecosystems(mission: PlanningInput) -> set[str]:
    """The ecosystems the mission names in its title, goal, constraints or repository context."""
    text = "\n".join([mission.title, mission.goal, *mission.constraints, mission.repo_context])
    return {
        eco.name
        for eco in ecosystems()
        if any(p.search(text) for p in (*eco.markers, *eco.platforms))
    }


def mentions(plan: PlanDraft) -> list[Mention]:
    """Every ecosystem phrase of the plan's advice (not its decisions' alternatives)."""
    found: list[Mention] = []
    for item in plan_texts(plan):
        if not item.advice:
            continue
        for eco in ecosystems():
            for phrase, platform in _phrases(eco, item.text):
                found.append(Mention(eco, phrase, item.where, platform))
    return found


def _phrases(eco: Ecosystem, text: str) -> list[tuple[str, bool]]:
    """``eco``'s phrases in ``text``, once each.

    A match inside a longer one ("pip" in "pip install") or inside an exempt phrase ("without
    JavaScript") is dropped.
    """
    spans = [(m.start(), m.end(), False) for p in eco.markers for m in p.finditer(text)]
    spans += [(m.start(), m.end(), True) for p in eco.platforms for m in p.finditer(text)]
    spans.sort(key=lambda span: (span[0], -span[1]))
    exempt = [(m.start(), m.end()) for p in eco.exempt for m in p.finditer(text)]
    kept: list[tuple[int, int, bool]] = []
    for start, end, platform in spans:
        inside = [(s, e) for s, e, _ in kept] + exempt
        if not any(s <= start and end <= e for s, e in inside):
            kept.append((start, end, platform))
    return [(text[start:end], platform) for start, end, platform in kept]


def stack_leaks(plan: PlanDraft, mission: PlanningInput) -> list[str]:
    """Advice for a language ecosystem or platform other than the mission's, with its place.

    When the mission names ecosystems (by a language, framework, tool or platform), every
    phrase of another one leaks, unless a named one allows it (React Native allows Xcode and
    Gradle). When it names none, the plan may pick one (the one it mentions most, platform names
    aside; the first on a tie) and phrases of any other leak. Platform names (iOS, Android)
    leak only when an allowed ecosystem builds for a platform of its own: "works with iOS and
    Android phones" is fine in a firmware plan, not in a Kotlin Android app's.
    A decision's alternatives are roads not taken and are not read.

    Returns:
        One ``"pytest (Python) in tasks[ci].acceptance[0]"`` per phrase and place, in plan order.
    """
    found = mentions(plan)
    named = named_ecosystems(mission)
    if not named:
        chosen = _most_mentioned([m for m in found if not m.platform])
        named = {chosen} if chosen else set()
    allowed = _with_allies(named)
    by_name = {eco.name: eco for eco in ecosystems()}
    # Platforms are what an app is built for: they leak from the plan of an Android or iOS app,
    # not from a firmware or service plan that only talks to phones.
    platforms_matter = any(by_name[name].platforms for name in allowed)
    leaking = [
        m for m in found if m.ecosystem.name not in allowed and (platforms_matter or not m.platform)
    ]
    return list(dict.fromkeys(map(str, leaking)))


def _most_mentioned(found: Sequence[Mention]) -> str | None:
    counts = Counter(m.ecosystem.name for m in found)
    if not counts:
        return None
    first_seen = {name: i for i, name in reversed(list(enumerate(m.ecosystem.name for m in found)))}
    return max(counts, key=lambda name: (counts[name], -first_seen[name]))


def _with_allies(names: Iterable[str]) -> set[str]:
    by_name = {eco.name: eco for eco in ecosystems()}
    allowed = set(names)
    for name in list(allowed):
        allowed |= by_name[name].allows
    return allowed


# --- duplicates ----------------------------------------------------------------------------


def artifact_key(name: str) -> str:
    """How two artifact names are compared: case, extension and separators ignored.

    "Runbook.md", "runbook" and "runbook.MD" are one artifact; "release-notes.md" and
    "release notes" too; "tests/e2e/" and "tests/e2e" too.
    """
    key = name.strip().lower().rstrip("/")
    key = re.sub(r"(?<=[^\s/.])\.[a-z0-9]{1,5}$", "", key)
    return re.sub(r"[\s_-]+", " ", key).strip()


def duplicate_artifacts(plan: PlanDraft) -> list[str]:
    """Artifact names expected twice across the plan's tasks (first spelling, plan order)."""
    first: dict[str, str] = {}
    counts: Counter[str] = Counter()
    for task in plan.tasks:
        for artifact in task.expected_artifacts:
            key = artifact_key(artifact)
            first.setdefault(key, artifact)
            counts[key] += 1
    return [first[key] for key, count in counts.items() if count > 1]


def near_duplicates(
    texts: Sequence[str], *, threshold: float = SIMILARITY_THRESHOLD
) -> list[tuple[str, str]]:
    """Pairs of ``texts`` that say the same thing (see :data:`SIMILARITY_THRESHOLD`).

    A text of the form "Subject: details" with a short subject is compared by its subject:
    requirements filled into one template ("Click analytics: available end to end in the URL
    shortener …", "Custom aliases: available end to end in the URL shortener …") are about
    different things. Two texts with the same subject, a label ("Constraint: …"), are compared
    whole. Identical texts (ignoring case and spacing) are always alike.
    """
    subjects = [content_folds(_subject(text)) for text in texts]
    wholes = [content_folds(text) for text in texts]
    plain = [" ".join(text.lower().split()) for text in texts]
    pairs: list[tuple[str, str]] = []
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            same_label = subjects[i] == subjects[j]
            left, right = (wholes[i], wholes[j]) if same_label else (subjects[i], subjects[j])
            if plain[i] == plain[j] or _alike(left, right, threshold):
                pairs.append((texts[i], texts[j]))
    return pairs


def _subject(text: str) -> str:
    head, colon, _ = text.partition(": ")
    return head if colon and len(head.split()) <= 6 else text


def _alike(left: set[str], right: set[str], threshold: float) -> bool:
    if not left or not right:
        return False
    if len(left & right) / len(left | right) >= threshold:
        return True
    smaller, larger = sorted((left, right), key=len)
    return len(smaller) >= 2 and smaller <= larger


def near_duplicate_risks(plan: PlanDraft) -> list[tuple[str, str]]:
    """Pairs of risk titles that say the same thing."""
    return near_duplicates([risk.title for risk in plan.risks])


def near_duplicate_requirements(plan: PlanDraft) -> list[tuple[str, str]]:
    """Pairs of requirement texts that say the same thing."""
    return near_duplicates([req.text for req in plan.requirements])


# --- the verdict ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanQuality:
    """Every figure of :func:`judge` for one plan.

    Attributes:
        nouns: The goal's domain nouns.
        noun_coverage: Share of them the plan's work mentions (1.0 when there are none).
        missing_nouns: The nouns it does not mention.
        leaks: Phrases advising another ecosystem, with their place.
        duplicate_artifacts: Artifacts expected twice.
        near_duplicate_risks: Pairs of risk titles that say the same thing.
        near_duplicate_requirements: Pairs of requirements that say the same thing.
        grammar_slips: Slips in the plan's prose, with their place.
    """

    nouns: tuple[str, ...]
    noun_coverage: float
    missing_nouns: tuple[str, ...]
    leaks: tuple[str, ...]
    duplicate_artifacts: tuple[str, ...]
    near_duplicate_risks: tuple[tuple[str, str], ...]
    near_duplicate_requirements: tuple[tuple[str, str], ...]
    grammar_slips: tuple[str, ...]


def judge(plan: PlanDraft, mission: PlanningInput) -> PlanQuality:
    """Judge ``plan`` against the mission it plans."""
    share, missing = noun_coverage(plan, mission)
    return PlanQuality(
        nouns=tuple(domain_nouns(mission.goal)),
        noun_coverage=share,
        missing_nouns=tuple(missing),
        leaks=tuple(stack_leaks(plan, mission)),
        duplicate_artifacts=tuple(duplicate_artifacts(plan)),
        near_duplicate_risks=tuple(near_duplicate_risks(plan)),
        near_duplicate_requirements=tuple(near_duplicate_requirements(plan)),
        grammar_slips=tuple(plan_grammar_slips(plan)),
    )
