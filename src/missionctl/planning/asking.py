"""A model's questions instead of a plan (ADR 0035): how they are read from its reply.

The planner prompt lets the model reply ``{"questions": [...], "reason": "..."}`` instead of
a plan when the mission cannot be planned as written. A reply is a question reply when it has
``questions`` and no ``tasks``. What a rule can mend is mended, as in a plan (ADR 0034): blank
and repeated questions are dropped, questions past :data:`MAX_QUESTIONS` are left out, a
question or reason too long is cut, NUL characters are dropped, a missing reason gets a
default. A reply with no question left (an empty list, or no list of text) is sent back to the
model with the rule it broke, like any reply that breaks the schema. Questions and reason are
redacted before they are cut: they are stored and shown, so nothing the model says is kept
unredacted, and a cut cannot leave part of a secret behind.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from missionctl.llm.redaction import redact
from missionctl.llm.structured import ReplyError
from missionctl.schemas.missions import MAX_QUESTIONS, QUESTION_MAX_CHARS

__all__ = [
    "DEFAULT_REASON",
    "REASON_MAX_CHARS",
    "ModelQuestions",
    "is_question_reply",
    "read_questions",
]

REASON_MAX_CHARS = 300
"""A model's reason for asking is cut to this many characters."""

DEFAULT_REASON = "The model needs to know more before it can plan this mission."
"""The reason recorded when a model asks without saying why."""

_CUT = "…"


@dataclass(frozen=True, slots=True)
class ModelQuestions:
    """A model's question reply, mended to the limits of ``ClarificationNeeded``.

    Attributes:
        questions: 1 to :data:`MAX_QUESTIONS` questions, none blank, none repeated, each at
            most :data:`QUESTION_MAX_CHARS` characters (redacted).
        reason: At most :data:`REASON_MAX_CHARS` characters, never blank (redacted).
    """

    questions: tuple[str, ...]
    reason: str


def is_question_reply(answer: object) -> bool:
    """True when ``answer`` (a reply's parsed JSON) asks questions instead of planning."""
    return isinstance(answer, dict) and "questions" in answer and "tasks" not in answer


def read_questions(answer: dict[str, object]) -> ModelQuestions:
    """The questions of a question reply, mended to the contract's limits.

    Raises:
        ReplyError: no question is left once blank and non-text items are dropped (the
            reply goes back to the model with the rule, at the cost of one repair).
    """
    raw = answer.get("questions")
    items: Sequence[object] = raw if isinstance(raw, list) else []
    texts = [_plain(item) for item in items if isinstance(item, str) and _plain(item)]
    questions = list(dict.fromkeys(texts))
    if not questions:
        raise ReplyError(
            [
                (
                    "questions",
                    f"a reply that asks instead of planning lists 1 to {MAX_QUESTIONS} "
                    "questions as non-empty strings; ask what you need to know, or reply "
                    "with the complete plan",
                )
            ]
        )
    return ModelQuestions(
        questions=tuple(_cut(q, QUESTION_MAX_CHARS) for q in questions[:MAX_QUESTIONS]),
        reason=_reason(answer.get("reason")),
    )


def _reason(value: object) -> str:
    """The model's reason, cut to its limit; the default when it gave none."""
    if not isinstance(value, str) or not _plain(value):
        return DEFAULT_REASON
    return _cut(_plain(value), REASON_MAX_CHARS)


def _plain(text: str) -> str:
    """``text`` redacted and stripped, without NUL characters (PostgreSQL's JSON refuses them)."""
    return redact(text.replace("\x00", "")).strip()


def _cut(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, marked when cut."""
    return text if len(text) <= limit else text[: limit - len(_CUT)].rstrip() + _CUT
