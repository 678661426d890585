"""Whether the local planner can read a mission, and what it asks when it cannot (ADR 0035).

The local planner's rules read English and plan from what a goal names. Two kinds of goal
defeat them: one in another language ("Créer une application de réservation …" would become a
plan for "the Créer une application …"), and one that names nothing ("Build a thing.", however
often it is repeated, would become a plan for "the thing"). :func:`clarification_for` finds
both from the one reading of the mission (:func:`missionctl.reading.read_goal`, whose
``language`` and ``vague`` say which language a text is in and whether it names anything; see
:mod:`missionctl.reading.language`) and returns the
:class:`~missionctl.planning.base.ClarificationNeeded` to raise instead of planning. This
module decides only when to ask and what: the questions and their reasons are data, in
``clarity.yaml`` beside it.

Once the user has answered, :func:`readable` is the input the local rules plan from: the
answers (the first says what to build), then the goal if it is in English.
"""

import dataclasses
from importlib.resources import files
from typing import Annotated, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from missionctl.planning.base import (
    MAX_QUESTIONS,
    QUESTION_MAX_CHARS,
    ClarificationNeeded,
    PlanningInput,
)
from missionctl.reading import ENGLISH, GoalReading, language_name, read_goal
from missionctl.schemas.datafiles import read_data_text

__all__ = [
    "OTHER_LANGUAGE",
    "RULES",
    "ClarityRules",
    "check",
    "clarification_for",
    "language_of",
    "load_rules",
    "readable",
]

OTHER_LANGUAGE = "a language other than English"
"""What :func:`language_of` calls a language the reading cannot name ("und")."""

_SENTENCE_END = ".!?:;…"

Question = Annotated[str, Field(min_length=1, max_length=QUESTION_MAX_CHARS)]


class QuestionSet(BaseModel):
    """Why the planner asks, and what."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str = Field(min_length=1)
    questions: tuple[Question, ...] = Field(min_length=1, max_length=MAX_QUESTIONS)


class ClarityRules(BaseModel):
    """The contents of ``clarity.yaml``: what the local planner asks, and why.

    Attributes:
        vague: What to ask when the goal names nothing.
        not_english: What to ask when the text is not in English; its reason names the
            language as ``{language}``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    vague: QuestionSet
    not_english: QuestionSet

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if "{language}" not in self.not_english.reason:
            raise ValueError("not_english.reason names the language as {language}")
        self.not_english.reason.format(language=OTHER_LANGUAGE)  # no other placeholder
        return self


def load_rules(text: str | None = None) -> ClarityRules:
    """Read and check the rules: ``text``, or the ``clarity.yaml`` shipped with the package.

    Raises:
        pydantic.ValidationError: the rules break the constraints of :class:`ClarityRules`.
    """
    if text is None:
        text = read_data_text(files("missionctl.planning").joinpath("clarity.yaml"))
    return ClarityRules.model_validate(yaml.safe_load(text))


RULES = load_rules()
"""The rules the local planner uses."""


def language_of(text: str) -> str | None:
    """The language other than English that ``text`` reads as, or ``None`` when English.

    Returns:
        The reading's name for it ("French"), or :data:`OTHER_LANGUAGE` for a text in another
        script, one whose language the reading's lists do not single out, or one with no letter.
    """
    return _foreign_language(read_goal(goal=text))


def clarification_for(
    mission: PlanningInput, rules: ClarityRules = RULES
) -> ClarificationNeeded | None:
    """What the local planner asks before it can plan ``mission``, or ``None`` when it can.

    Vagueness is judged on the goal and the answers together, and comes first: a text that
    names nothing is asked what to build whatever its language. The language is judged on the
    answers when there are any (they are what the rules read first), else on the goal.
    """
    answered = _answered(mission)
    if read_goal(goal="\n".join([mission.goal, *answered])).vague:
        return ClarificationNeeded(rules.vague.questions, reason=rules.vague.reason)
    language = language_of("\n".join(answered) if answered else mission.goal)
    if language is not None:
        asked = rules.not_english
        return ClarificationNeeded(asked.questions, reason=asked.reason.format(language=language))
    return None


def check(mission: PlanningInput, rules: ClarityRules = RULES) -> None:
    """Return when the local planner can plan ``mission``.

    Raises:
        ClarificationNeeded: it cannot; the questions say what it needs (see
            :func:`clarification_for`).
    """
    needed = clarification_for(mission, rules)
    if needed is not None:
        raise needed


def readable(mission: PlanningInput) -> PlanningInput:
    """``mission`` as the local rules read it: its answers first, then its goal if in English.

    Each answer becomes a sentence of the goal, in the order asked, so the first (what the
    software should do) is the sentence the rules take the subject and features from; a goal
    in another language is left out, since the rules cannot read it. Without answers the
    mission is returned as it is.
    """
    answered = _answered(mission)
    if not answered:
        return mission
    lines = [_as_sentence(answer) for answer in answered]
    if language_of(mission.goal) is None:
        lines.append(mission.goal.strip())
    return dataclasses.replace(mission, goal="\n".join(lines), answers=())


def _answered(mission: PlanningInput) -> list[str]:
    return [a.answer.strip() for a in mission.answers if a.answer.strip()]


def _foreign_language(reading: GoalReading) -> str | None:
    if reading.language == ENGLISH:
        return None
    return language_name(reading.language) or OTHER_LANGUAGE


def _as_sentence(text: str) -> str:
    text = text[:1].upper() + text[1:]
    return text if text.endswith(tuple(_SENTENCE_END)) else f"{text}."
