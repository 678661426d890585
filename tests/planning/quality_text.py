"""What the plan-quality oracle reads: its word lists, word folding and a plan's texts.

The word lists are data (``quality_words.yaml`` beside this file), validated on first use.
Words are compared after :func:`fold`, a light suffix-stripper (plural, possessive, -ing, -ed,
final e): "orders", "ordering" and "order" fold alike. It is not a full stemmer; a form it
misses ("expiry" against "expiration") counts as a different word.
"""

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, field_validator

from missionctl.schemas.plans import PlanDraft

WORDS_FILE = Path(__file__).with_name("quality_words.yaml")
WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
"""A word: letters and digits, with inner apostrophes ("today's"); hyphens and dots split."""


class DataModel(BaseModel):
    """A read-only model of a data file that refuses unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TemplatePhrase(DataModel):
    """A pattern of an empty template slot and what it means."""

    pattern: str
    why: str

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        re.compile(pattern, re.IGNORECASE)
        return pattern


class Words(DataModel):
    """The word lists of ``quality_words.yaml`` (see the comments there)."""

    function_words: frozenset[str]
    determiners: frozenset[str]
    relative_pronouns: frozenset[str]
    generic_words: frozenset[str]
    generic_phrases: tuple[str, ...]
    ly_nouns: frozenset[str]
    invariant_words: frozenset[str]
    similarity_stop_words: frozenset[str]
    consonant_sound_starts: frozenset[str]
    vowel_sound_starts: frozenset[str]
    word_acronyms: frozenset[str]
    either_article: frozenset[str]
    lower_case_names: frozenset[str]
    abbreviations: frozenset[str]
    allowed_doubles: frozenset[str]
    empty_template_phrases: tuple[TemplatePhrase, ...]


@cache
def words() -> Words:
    """The validated word lists (read once)."""
    return Words.model_validate(yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8")))


# --- folding -------------------------------------------------------------------------------


def singular(word: str) -> str:
    """``word`` in lower case without a possessive or plural ending ("Alerts" → "alert")."""
    w = word.lower().replace("\u2019", "'").removesuffix("'s")
    if w in words().invariant_words or len(w) <= 3 or not w.isalpha():
        return w
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("sses", "xes", "ches", "shes")) or w[:-2] in words().invariant_words:
        return w[:-2]  # classes, boxes, branches, pushes; aliases, statuses
    if w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def fold(word: str) -> str:
    """The form two words are compared in: :func:`singular`, then without -ing, -ed or final e.

    "Scheduling", "scheduled", "schedules" and "schedule" all fold to "schedul"; the result
    is a comparison key, not always a word.
    """
    w = singular(word)
    if w in words().invariant_words or not w.isalpha():
        return w
    if w.endswith("ied") and len(w) > 4:
        w = w[:-3] + "y"
    else:
        for ending in ("ing", "ed"):
            if w.endswith(ending) and len(w) - len(ending) >= 3:
                w = _undouble(w[: -len(ending)])
                break
    return w[:-1] if w.endswith("e") and len(w) > 2 else w


def _undouble(stem: str) -> str:
    # "running" → "run", "stopped" → "stop"; "billing" and "passed" keep their double letter.
    if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
        return stem[:-1]
    return stem


def content_folds(text: str) -> set[str]:
    """Folded words of ``text`` without function words or the similarity stop-words."""
    stop = _similarity_stop_folds()
    return {folded for folded in map(fold, WORD.findall(text)) if folded not in stop}


@cache
def _similarity_stop_folds() -> frozenset[str]:
    return frozenset(map(fold, words().function_words | words().similarity_stop_words))


# --- the plan's texts ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanText:
    """One text a plan writes.

    Attributes:
        where: Its place, e.g. ``tasks[scaffold].acceptance[0]``.
        text: The text.
        prose: A sentence or title, held to the grammar rules (artifact names are not).
        advice: What the plan tells to do; a decision's alternatives are roads not taken.
        sentence: Starts like a sentence; a decision's alternatives are mostly names
            ("kopf (Python)") and may start in lower case.
    """

    where: str
    text: str
    prose: bool = True
    advice: bool = True
    sentence: bool = True


def plan_texts(plan: PlanDraft) -> Iterator[PlanText]:
    """Every text of ``plan``, each with its place."""
    yield PlanText("summary", plan.summary)
    for req in plan.requirements:
        yield PlanText(f"requirements[{req.key}]", req.text)
    for phase in plan.phases:
        yield PlanText(f"phases[{phase.key}].name", phase.name)
        yield PlanText(f"phases[{phase.key}].goal", phase.goal)
    for task in plan.tasks:
        yield from _task_texts(task.key, task.title, task.description, task.acceptance)
        for i, artifact in enumerate(task.expected_artifacts):
            yield PlanText(f"tasks[{task.key}].expected_artifacts[{i}]", artifact, prose=False)
    for i, risk in enumerate(plan.risks):
        for name in ("title", "description", "mitigation"):
            yield PlanText(f"risks[{i}].{name}", getattr(risk, name))
    for i, decision in enumerate(plan.decisions):
        yield PlanText(f"decisions[{i}].title", decision.title)
        yield PlanText(f"decisions[{i}].choice", decision.choice)
        yield from _items(f"decisions[{i}].reasons", decision.reasons)
        yield from _items(f"decisions[{i}].trade_offs", decision.trade_offs)
        yield from _items(f"decisions[{i}].alternatives", decision.alternatives, advice=False)
    for i, step in enumerate(plan.next_steps):
        yield PlanText(f"next_steps[{i}]", step.text)


def _task_texts(
    key: str, title: str, description: str, acceptance: Sequence[str]
) -> Iterator[PlanText]:
    yield PlanText(f"tasks[{key}].title", title)
    yield PlanText(f"tasks[{key}].description", description)
    yield from _items(f"tasks[{key}].acceptance", acceptance)


def _items(where: str, items: Sequence[str], *, advice: bool = True) -> Iterator[PlanText]:
    for i, item in enumerate(items):
        yield PlanText(f"{where}[{i}]", item, advice=advice, sentence=advice)


def work_text(plan: PlanDraft) -> str:
    """Requirement texts and task titles, descriptions, acceptance and artifacts, as one text."""
    parts = [r.text for r in plan.requirements]
    for task in plan.tasks:
        parts.extend([task.title, task.description, *task.acceptance, *task.expected_artifacts])
    return "\n".join(parts)
