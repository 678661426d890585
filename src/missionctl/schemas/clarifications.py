"""Contracts of a planner's questions about a mission, and of the user's answers (ADR 0035)."""

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from missionctl.domain.states import MissionStatus
from missionctl.schemas.missions import (
    ANSWER_MAX_CHARS,
    MAX_QUESTIONS,
    NO_NUL_PATTERN,
    plain_text,
)

AnswerText = Annotated[
    str,
    StringConstraints(pattern=NO_NUL_PATTERN),
    plain_text(ANSWER_MAX_CHARS),
    Field(max_length=ANSWER_MAX_CHARS),
]


class ClarificationRead(BaseModel):
    """The planner asked instead of planning: the mission waits for answers (HTTP 202)."""

    mission_id: uuid.UUID
    status: Literal[MissionStatus.needs_clarification] = Field(
        description="The mission's status now: `needs_clarification`."
    )
    reason: str = Field(description="Why the planner asks.")
    questions: list[str] = Field(
        description="What it asks, in order; answer with `POST "
        "/api/v1/missions/{mission_id}/clarification`."
    )


SAYS_SOMETHING = r"[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
"""An answer that says something: one character that stripping (Unicode white space) keeps."""


class ClarificationAnswers(BaseModel):
    """The user's answers to the questions a planner asked about a mission."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    answers: list[AnswerText] = Field(
        min_length=1,
        max_length=MAX_QUESTIONS,
        description="One answer per question, in the questions' order; an empty string leaves a "
        "question unanswered, and answers may stop before the last question. At least one "
        f"answer must say something; each has at most {ANSWER_MAX_CHARS} characters.",
        examples=[["A web app where salon clients book haircut appointments", "Clients, staff"]],
        json_schema_extra={"contains": {"type": "string", "pattern": SAYS_SOMETHING}},
    )

    @field_validator("answers")
    @classmethod
    def _one_says_something(cls, answers: list[str]) -> list[str]:
        if not any(answers):
            raise PydanticCustomError(
                "answers_empty", "answer at least one question: every answer is empty"
            )
        return answers


__all__ = ["AnswerText", "ClarificationAnswers", "ClarificationRead"]
