"""Fidelity of a plan to what the user said: pure checks of a ``PlanDraft`` against its mission.

Where :mod:`tests.planning.quality` asks whether a plan is well made, this asks whether it kept
the user's words, the figures and the stack they named:

- :func:`clause_coverage`: the goal and its constraints cut into clauses (:func:`clauses`); a
  clause is kept when every content word of it (folded, function words dropped) occurs in one
  requirement text or one task acceptance criterion;
- :func:`figure_misses`: numbers with units, percentiles ("p99") and upper-case names
  ("HIPAA", "SOC 2", "PCI DSS") of the goal and constraints (:func:`figures`) that no
  requirement repeats verbatim;
- :func:`stack_contradictions`: plan artifacts (expected artifacts, file paths and commands in
  tasks, decision choices) in the convention of a language ecosystem the mission did not name,
  or naming a database, cloud, framework… of a category where the mission named another;
- :func:`repeated_templates`: sentence templates (a requirement with the user's words masked)
  shared by more than two requirements;
- :func:`phrase_made_names`: task keys and file names made of more than three consecutive
  words of the user's text.

It reads the plan contract, the planning input, the reading's technology vocabulary (which
names a mission's stack; the conventions of each ecosystem are this module's own data,
``fidelity_words.yaml``) and the oracle's word folding, never a planner's templates.
"""

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from missionctl.planning.base import PlanningInput
from missionctl.reading import find_technologies, technology, vocabulary
from missionctl.schemas.plans import PlanDraft
from tests.planning.quality_text import DataModel, fold, words

__all__ = [
    "Fidelity",
    "clause_coverage",
    "clauses",
    "content_words",
    "figure_misses",
    "figures",
    "judge_fidelity",
    "phrase_made_names",
    "repeated_templates",
    "stack_contradictions",
]

WORDS_FILE = Path(__file__).with_name("fidelity_words.yaml")
TOKEN = re.compile(r"[^\W_]+(?:[.'\u2019][^\W_]+)*(?:\+\+|#)?")
"""A word: letters and digits, with inner dots and apostrophes ("2.5", "Node.js"), "C++", "C#"."""
MASK = "…"
MIN_TEMPLATE_WORDS = 3
"""A masked requirement keeping fewer of the planner's own words restates the user; no template."""
MAX_TEMPLATE_SHARE = 2
MAX_PHRASE_WORDS = 3


class Conventions(DataModel):
    """How one ecosystem's files, commands and tools look."""

    extensions: tuple[str, ...]
    files: tuple[str, ...]
    tools: tuple[str, ...]


class HostedService(DataModel):
    """A hosted service the reading's vocabulary lacks."""

    category: str
    pattern: str


class FidelityWords(DataModel):
    """The lists of ``fidelity_words.yaml`` (see the comments there)."""

    leading_verbs: frozenset[str]
    request_words: frozenset[str]
    clause_starters: tuple[str, ...]
    units: tuple[str, ...]
    generic_acronyms: frozenset[str]
    conventions: dict[str, Conventions]
    language_ecosystems: dict[str, str]
    allies: dict[str, tuple[str, ...]]
    exclusive_categories: frozenset[str]
    embedded_databases: frozenset[str]
    on_device: str
    hosted_services: dict[str, HostedService]


@cache
def fidelity_words() -> FidelityWords:
    """The validated lists (read once)."""
    return FidelityWords.model_validate(yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8")))


def _user_texts(mission: PlanningInput) -> list[str]:
    """What the user said that the plan must keep: the goal, then each constraint."""
    return [mission.goal, *mission.constraints]


# --- clause coverage -------------------------------------------------------------------------


@cache
def _clause_split() -> re.Pattern[str]:
    """The separators of :func:`clauses` (compiled once); a comma before three digits is a
    thousands separator, not one."""
    languages = sorted(
        (t.name for t in vocabulary().technologies if t.category == "language"), key=len
    )
    names = "|".join(re.escape(name) for name in reversed(languages))
    starters = "|".join(
        re.escape(s).replace(r"\ ", r"\s+")
        for s in sorted(fidelity_words().clause_starters, key=len, reverse=True)
    )
    return re.compile(
        rf"\s*(?:[;:()]|,(?!\d{{3}}\b)|\.\s|\s-\s|\band\b|\bor\b)\s*"
        rf"|\s+(?=(?i:{starters})\b)|\s+(?=in\s+(?:{names})(?![\w+#]))"
    )


def clauses(text: str) -> list[str]:
    """``text`` cut at punctuation, "and"/"or", the clause starters of ``fidelity_words.yaml``
    and "in <Language>"; empty pieces dropped, order kept.

    Example: "Build a chess engine in C++ that plays at 2000 Elo" → "Build a chess engine",
    "in C++", "that plays", "at 2000 Elo".
    """
    pieces = (piece.strip(" .,!?\"'") for piece in _clause_split().split(text.strip()))
    return [piece for piece in pieces if piece]


def content_words(clause: str, *, first: bool = False) -> set[str]:
    """The folded content words of ``clause``: no function words, no words of asking ("need"),
    no lower-case single letters, and, when it is a goal's ``first`` clause, no leading verb
    ("Build")."""
    tokens = TOKEN.findall(clause)
    if first and tokens and tokens[0].lower() in fidelity_words().leading_verbs:
        tokens = tokens[1:]
    stop = words().function_words | fidelity_words().request_words
    return {
        fold(token)
        for token in tokens
        if token.lower() not in stop and not (len(token) == 1 and token.islower())
    }


def _item_words(plan: PlanDraft) -> list[set[str]]:
    """The folded words of each requirement text and each task acceptance criterion."""
    items = [req.text for req in plan.requirements]
    items += [criterion for task in plan.tasks for criterion in task.acceptance]
    return [{fold(token) for token in TOKEN.findall(item)} for item in items]


def clause_coverage(plan: PlanDraft, mission: PlanningInput) -> tuple[list[str], list[str]]:
    """Every clause of the goal and constraints that has content words, and those dropped.

    A clause is kept when all its content words occur in one requirement text or one task
    acceptance criterion; otherwise it is dropped. A clause occurring twice counts once.
    """
    items = _item_words(plan)
    counted: dict[str, bool] = {}
    for text in _user_texts(mission):
        for i, clause in enumerate(clauses(text)):
            needed = content_words(clause, first=i == 0 and text == mission.goal)
            if needed and clause not in counted:
                counted[clause] = any(needed <= item for item in items)
    return list(counted), [clause for clause, kept in counted.items() if not kept]


# --- figures -----------------------------------------------------------------------------------

_NUMBER = r"(?<![\w.,])[$€£]?\d+(?:[.,]\d+)*"
_PERCENTILE = r"(?<![\w])[pP]\d{2,3}(?:\.\d+)?(?!\w)"
_ACRONYM = r"(?<![\w.-])[A-Z0-9]*[A-Z][A-Z0-9]*[A-Z][A-Z0-9]*(?:\.\d+)?(?![\w])"
_FOLLOWER = r"(?:[ -](?:\d+(?:[.:]\d+)*|[A-Z]{2,}\d*)(?![\w]))*"


@cache
def _figure_pattern() -> re.Pattern[str]:
    """Quantities, percentiles and upper-case names, as named groups (compiled once)."""
    units = sorted(fidelity_words().units, key=len, reverse=True)
    unit = "|".join(re.escape(u).replace(r"\ ", r"\s+") for u in units)
    return re.compile(
        rf"(?P<quantity>{_NUMBER}[\s-]?(?i:{unit})(?![\w]))"
        rf"|(?P<percentile>{_PERCENTILE})"
        rf"|(?P<acronym>{_ACRONYM}{_FOLLOWER})"
    )


def figures(text: str) -> list[str]:
    """The figures and names of ``text`` as written, each once, in order.

    A figure is a number with a unit ("200 ms", "18 months", "2000 Elo", "99.9%", "7-day"),
    a percentile ("p99") or an upper-case name of two or more capitals with the numbers or
    capitals that follow it ("HIPAA", "SOC 2", "PCI DSS", "ISO 27001"); upper-case words that
    are plain software vocabulary ("API", "CSV") are not figures.
    """
    found: list[str] = []
    for match in _figure_pattern().finditer(text):
        figure = " ".join(match.group().split())
        if match.lastgroup == "acronym":
            figure = _without_generic(figure)
        if figure and figure not in found:
            found.append(figure)
    return found


def _without_generic(acronym: str) -> str:
    """``acronym`` without the plain software words at its ends ("REST API" → "")."""
    parts = acronym.split()
    generic = fidelity_words().generic_acronyms
    while parts and parts[0] in generic:
        parts.pop(0)
    while parts and parts[-1] in generic:
        parts.pop()
    return " ".join(parts)


def _verbatim(figure: str) -> re.Pattern[str]:
    """``figure`` as a whole word; spaces may vary, a unit's case too."""
    body = r"[\s-]?".join(re.escape(part) for part in figure.split())
    if figure[:1].isdigit() or figure[:1] in "$€£":
        quantity = re.match(r"[$€£]?\d+(?:[.,]\d+)*", figure)
        number = quantity.group() if quantity else ""
        unit = figure[len(number) :].strip(" -")
        body = rf"{re.escape(number)}[\s-]?(?i:{re.escape(unit)})"
    return re.compile(rf"(?<![\w.]){body}(?![\w])")


def figure_misses(plan: PlanDraft, mission: PlanningInput) -> tuple[list[str], list[str]]:
    """The figures of the goal and constraints, and those no requirement text repeats verbatim."""
    wanted = list(dict.fromkeys(f for text in _user_texts(mission) for f in figures(text)))
    texts = [req.text for req in plan.requirements]
    missed = [f for f in wanted if not any(_verbatim(f).search(text) for text in texts)]
    return wanted, missed


# --- stack contradictions ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Artifact:
    """A file, command or component of a plan, with its place (``tasks[x].description``)."""

    text: str
    where: str


_PATH = re.compile(r"(?<![\w@.])(?:[\w.<>{}*-]+/)*[\w<>{}*-]+(?:\.[\w-]+)+(?![\w/])|`[^`]+`")


def plan_artifacts(plan: PlanDraft) -> Iterator[Artifact]:
    """Expected artifacts, file names and backticked commands of task texts, the task texts
    themselves (for tool names) and decision choices (the components chosen)."""
    for task in plan.tasks:
        for i, artifact in enumerate(task.expected_artifacts):
            yield Artifact(artifact, f"tasks[{task.key}].expected_artifacts[{i}]")
        texts = {"title": task.title, "description": task.description}
        texts |= {f"acceptance[{i}]": text for i, text in enumerate(task.acceptance)}
        for name, text in texts.items():
            yield Artifact(text, f"tasks[{task.key}].{name}")
    for i, decision in enumerate(plan.decisions):
        yield Artifact(decision.choice, f"decisions[{i}].choice")


@cache
def _convention_patterns() -> dict[str, tuple[re.Pattern[str], ...]]:
    """Per ecosystem: its file paths by extension, its file names, its tools (compiled once)."""
    patterns: dict[str, tuple[re.Pattern[str], ...]] = {}
    for name, rules in fidelity_words().conventions.items():
        extensions = "|".join(re.escape(e) for e in rules.extensions)
        files = "|".join(re.escape(f) for f in rules.files) or r"(?!x)x"
        paths = rf"(?<![\w.-])(?:[\w.<>{{}}*-]+/)*[\w<>{{}}*-]+\.(?:{extensions})(?![\w.-])"
        named = rf"(?<![\w.-])(?:{files})(?![\w.-])"
        patterns[name] = tuple(re.compile(p) for p in (paths, named, *rules.tools))
    return patterns


def _ecosystem_hits(text: str) -> Iterator[tuple[str, str]]:
    """(ecosystem, phrase) for each file name or tool of an ecosystem's convention in ``text``."""
    for name, patterns in _convention_patterns().items():
        for pattern in patterns:
            for match in pattern.finditer(text):
                yield name, match.group()


def named_ecosystems(mission: PlanningInput) -> set[str]:
    """The ecosystems of the languages the mission names, or that a named framework implies,
    with their allies (a Flutter app's iOS and Android projects)."""
    rules = fidelity_words()
    found: set[str] = set()
    for named in find_technologies(_mission_text(mission)):
        spec = technology(named.base)
        language = named.base if spec.category == "language" else spec.implies.get("language")
        if language in rules.language_ecosystems:
            found.add(rules.language_ecosystems[language])
        found.update(rules.allies.get(named.base, ()))
    return found


def _mission_text(mission: PlanningInput) -> str:
    """Everything the mission says of its stack: goal, constraints and repository context."""
    return "\n".join([mission.goal, *mission.constraints, mission.repo_context])


def _services(text: str) -> dict[str, str]:
    """The technologies of exclusive categories ``text`` names, by name, with their category."""
    rules = fidelity_words()
    found = {
        t.base: t.category
        for t in find_technologies(text)
        if t.category in rules.exclusive_categories
    }
    for name, service in rules.hosted_services.items():
        if re.search(service.pattern, text):
            found[name] = service.category
    return found


def stack_contradictions(plan: PlanDraft, mission: PlanningInput) -> list[str]:
    """Plan artifacts that contradict the stack the mission names.

    When the mission (goal, constraints, repository context) names a language, or a framework
    that implies one, every file name or tool of another ecosystem's convention in the plan's
    artifacts (:func:`plan_artifacts`) is a contradiction. When it names a technology of an
    exclusive category (a database, a cloud, a mobile framework…), a file name, command or
    decision choice naming another of that category is one too. A mission naming nothing is
    contradicted by nothing.

    Returns:
        ``"src/app.py (python) in tasks[api].expected_artifacts[0]"``, once per phrase and place.
    """
    allowed = named_ecosystems(mission)
    wanted = _services(_mission_text(mission))
    found: list[str] = []
    for artifact in plan_artifacts(plan):
        if allowed:
            found += [
                f"{phrase} ({eco}) in {artifact.where}"
                for eco, phrase in _ecosystem_hits(artifact.text)
                if eco not in allowed
            ]
        found += [
            f"{name} ({category}, not {', '.join(sorted(wanted_in))}) in {artifact.where}"
            for name, category in _services(_component_text(artifact)).items()
            if name not in wanted
            and (wanted_in := {w for w, c in wanted.items() if c == category})
            and not _on_device(name, artifact.text)
        ]
    return list(dict.fromkeys(found))


def text_contradictions(text: str, mission: PlanningInput) -> list[str]:
    """File names and tools of an ecosystem other than the mission's in ``text`` (a document),
    once each as ``"src/app.py (python)"``; none when the mission names no language."""
    allowed = named_ecosystems(mission)
    if not allowed:
        return []
    hits = (f"{phrase} ({eco})" for eco, phrase in _ecosystem_hits(text) if eco not in allowed)
    return list(dict.fromkeys(hits))


def _on_device(name: str, text: str) -> bool:
    """Whether ``text`` puts the embedded database ``name`` on the device (the app's store)."""
    rules = fidelity_words()
    return name in rules.embedded_databases and re.search(rules.on_device, text, re.I) is not None


def _component_text(artifact: Artifact) -> str:
    """What of an artifact names a component: a whole expected artifact or decision choice;
    only the file names and commands of a task's prose (naming an alternative is no choice)."""
    if ".expected_artifacts[" in artifact.where or artifact.where.startswith("decisions"):
        return artifact.text
    return " ".join(_PATH.findall(artifact.text))


# --- repeated templates ------------------------------------------------------------------------


def sentence_template(text: str, user_words: set[str]) -> str:
    """``text`` in lower case with every word of ``user_words`` (folded) and every number masked
    by ``…``; masked words next to each other make one mask."""
    masked = TOKEN.sub(
        lambda m: MASK if fold(m.group()) in user_words or m.group()[0].isdigit() else m.group(),
        text,
    )
    masked = re.sub(rf"{MASK}(?:[\s/'\u2019“”\"-]*{MASK})+", MASK, masked)
    return " ".join(masked.lower().split())


def repeated_templates(plan: PlanDraft, mission: PlanningInput) -> list[tuple[str, int]]:
    """Sentence templates shared by more than two requirements, with how many share each.

    Every word of the user's (goal, constraints, repository context) but the function words
    is masked (:func:`sentence_template`); a template that keeps fewer than three words of
    the planner's own restates the user and is not counted.
    """
    stop = words().function_words
    said = "\n".join([*_user_texts(mission), mission.repo_context])
    user = {fold(token) for token in TOKEN.findall(said) if token.lower() not in stop}
    templates = Counter(sentence_template(req.text, user) for req in plan.requirements)
    return [
        (template, count)
        for template, count in templates.items()
        if count > MAX_TEMPLATE_SHARE and len(TOKEN.findall(template)) >= MIN_TEMPLATE_WORDS
    ]


# --- phrase-made names -------------------------------------------------------------------------


def plan_names(plan: PlanDraft) -> Iterator[Artifact]:
    """Task keys, expected artifacts, and the file paths and backticked names of task texts."""
    for task in plan.tasks:
        yield Artifact(task.key, f"tasks[{task.key}].key")
        for i, artifact in enumerate(task.expected_artifacts):
            yield Artifact(artifact, f"tasks[{task.key}].expected_artifacts[{i}]")
        texts = {"description": task.description}
        texts |= {f"acceptance[{i}]": text for i, text in enumerate(task.acceptance)}
        for place, text in texts.items():
            for path in _PATH.findall(text):
                if "/" in path or "_" in path or path.startswith("`"):
                    yield Artifact(path.strip("`"), f"tasks[{task.key}].{place}")


def name_words(name: str) -> list[list[str]]:
    """Each path segment of ``name`` (extension dropped) cut into folded words at ``_``, ``-``,
    ``.``, spaces and camel-case humps."""
    segments = [re.sub(r"\.[A-Za-z]{1,5}$", "", part) for part in name.split("/")]
    parts = [re.split(r"[\s_.:()-]+|(?<=[a-z0-9])(?=[A-Z])", segment) for segment in segments]
    return [[fold(w) for w in part if w] for part in parts if part]


def _longest_shared_span(name: Sequence[str], phrase: Sequence[str]) -> int:
    """How many words of ``name`` the longest run of its content words that occurs, in order and
    consecutively, among ``phrase``'s content words spans (function words inside count)."""
    stop = {fold(w) for w in words().function_words}
    places = [i for i, word in enumerate(name) if word not in stop]
    content = [name[i] for i in places]
    best = 0
    previous = [0] * (len(phrase) + 1)
    for p, word in enumerate(content):
        current = [0] * (len(phrase) + 1)
        for j, other in enumerate(phrase, start=1):
            if word == other:
                current[j] = previous[j - 1] + 1
                best = max(best, places[p] - places[p - current[j] + 1] + 1)
        previous = current
    return best


def phrase_made_names(plan: PlanDraft, mission: PlanningInput) -> list[str]:
    """Names of the plan (:func:`plan_names`) with a segment of which more than three words
    come from the goal or a constraint: a run of the user's content words in their order,
    joined by ``_``, ``-`` or camel case (the function words between them count as words of
    the run: "plays-at-2000-elo" is four words of "plays at 2000 Elo").

    Returns:
        ``"src/sync_two_s3_buckets_incrementally.rs in tasks[x].expected_artifacts[0]"``.
    """
    stop = words().function_words
    phrases = [
        [fold(t) for t in TOKEN.findall(text) if t.lower() not in stop]
        for text in _user_texts(mission)
    ]
    found: list[str] = []
    for name in plan_names(plan):
        runs = (_longest_shared_span(s, p) for s in name_words(name.text) for p in phrases)
        if max(runs, default=0) > MAX_PHRASE_WORDS:
            found.append(f"{name.text} in {name.where}")
    return list(dict.fromkeys(found))


# --- the verdict -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fidelity:
    """Every fidelity figure of one plan.

    Attributes:
        clauses: The clauses of the goal and constraints that have content words.
        dropped_clauses: Those no single requirement or acceptance criterion covers.
        figures: The figures and names of the goal and constraints.
        missed_figures: Those no requirement repeats verbatim.
        named_ecosystems: The language ecosystems the mission names (with allies).
        contradictions: Plan artifacts of another ecosystem or service, with their place.
        repeated_templates: Templates shared by more than two requirements, with the count.
        phrase_made_names: Names made of more than three words of the user's phrase.
    """

    clauses: tuple[str, ...]
    dropped_clauses: tuple[str, ...]
    figures: tuple[str, ...]
    missed_figures: tuple[str, ...]
    named_ecosystems: tuple[str, ...]
    contradictions: tuple[str, ...]
    repeated_templates: tuple[tuple[str, int], ...]
    phrase_made_names: tuple[str, ...]


def judge_fidelity(plan: PlanDraft, mission: PlanningInput) -> Fidelity:
    """Run every fidelity checker on ``plan`` against the mission it plans."""
    counted, dropped = clause_coverage(plan, mission)
    wanted, missed = figure_misses(plan, mission)
    return Fidelity(
        clauses=tuple(counted),
        dropped_clauses=tuple(dropped),
        figures=tuple(wanted),
        missed_figures=tuple(missed),
        named_ecosystems=tuple(sorted(named_ecosystems(mission))),
        contradictions=tuple(stack_contradictions(plan, mission)),
        repeated_templates=tuple(repeated_templates(plan, mission)),
        phrase_made_names=tuple(phrase_made_names(plan, mission)),
    )
