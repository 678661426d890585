"""The LLM planner: a model writes the plan, the plan rules judge it.

The model's reply is first mended by :func:`~missionctl.planning.repair.repair_plan_answer`
(key formats, duplicate keys, dangling references, lossless type slips: what a rule can fix
costs no model call), then held to the ``PlanDraft`` JSON Schema by the LLM client (which
sends back what still breaks it), then to the semantic rules of
:func:`missionctl.domain.plans.validate_plan`. A plan that breaks those rules (a dependency
cycle) is sent back with every problem listed; a plan still invalid when the repair budget is
spent is refused with :class:`PlanRejected`, so nothing invalid is ever returned or stored.
What was mended or sent back comes back as the result's ``notes``.

The model may ask instead of plan (ADR 0035): a reply ``{"questions": [...], "reason": ...}``
ends the planning with :class:`~missionctl.planning.base.ClarificationNeeded`, its questions
redacted and mended to the contract's limits (:mod:`missionctl.planning.asking`), with the
tokens every call cost so the service can charge them.
"""

import functools
from collections.abc import Sequence
from typing import Any

from missionctl.domain.plans import validate_plan
from missionctl.errors import Problem, ValidationFailed
from missionctl.llm.protocol import (
    LLMClient,
    LLMUsage,
    OutputMode,
    StructuredResult,
    TokenLimitReached,
)
from missionctl.llm.redaction import redact
from missionctl.planning.asking import ModelQuestions, is_question_reply, read_questions
from missionctl.planning.base import ClarificationNeeded, PlannerResult, PlanningInput
from missionctl.planning.prompts import (
    PLANNER_PROMPT_VERSION,
    PLANNER_SCHEMA_NAME,
    PLANNER_SYSTEM_PROMPT,
    planner_repair_prompt,
    planner_user_prompt,
)
from missionctl.planning.recall import mend_citations
from missionctl.planning.repair import repair_plan_answer
from missionctl.schemas.plans import PlanDraft

__all__ = ["LLMPlanner", "PlanRejected"]


class PlanRejected(ValidationFailed):
    """The model's plan still broke the plan rules when the repair budget ran out.

    Attributes:
        problems: Every problem of the last plan the model returned.
        usage: Tokens spent on all the calls, so the caller can still account for them.
        attempts: Model calls made, repairs included.
        model: The model that wrote the plans.
    """

    def __init__(
        self, problems: Sequence[Problem], *, usage: LLMUsage, attempts: int, model: str
    ) -> None:
        super().__init__(problems)
        self.usage = usage
        self.attempts = attempts
        self.model = model


class LLMPlanner:
    """A :class:`~missionctl.planning.base.Planner` backed by an :class:`LLMClient`.

    Args:
        client: The structured-output client of the configured model.
        max_repairs: Total repair budget, shared by schema repairs (done inside the client)
            and semantic repairs (done here): at most ``1 + max_repairs`` model calls per plan.

    Raises:
        ValueError: ``max_repairs`` is negative.
    """

    def __init__(self, client: LLMClient, max_repairs: int = 2) -> None:
        if max_repairs < 0:
            raise ValueError("max_repairs must be zero or more")
        self._client = client
        self._max_repairs = max_repairs

    @property
    def model(self) -> str:
        """The model that writes the plans."""
        return self._client.model

    async def plan(self, mission: PlanningInput, *, max_tokens: int | None = None) -> PlannerResult:
        """Ask the model for a plan of ``mission`` and return it once it passes the rules.

        The first call sends the planner prompt. If the plan breaks the plan rules (a cycle,
        an unknown dependency or trace, …) and repair budget is left, the next call sends the
        mission again with the previous plan and every problem listed. Each call's own schema
        repairs (``attempts - 1``) count against the same budget.

        ``max_tokens`` limits the tokens of the whole planning, every call and repair counted
        (the client asks each reply to fit what is left, and sends nothing it cannot pay for).

        Each reply is mended by :func:`repair_plan_answer` before it is validated, so a plan
        whose only faults are ones a rule can fix costs one call.

        A reply that asks questions instead (:func:`~missionctl.planning.asking.is_question_reply`)
        ends the planning: no plan is made of it. One whose questions cannot be read (none
        left) is sent back like a reply that breaks the schema.

        Returns:
            The valid plan, ``source`` = the model name, the usage and attempts of every
            call, ``prompt_version`` = :data:`PLANNER_PROMPT_VERSION`, and ``notes``: the
            output mode when the server refused ``json_schema``, each plan sent back for the
            plan rules, then the last call's notes (replies sent back for the schema, what was
            repaired, coverage gaps), every one redacted.

        Raises:
            ClarificationNeeded: the model asked; its ``questions`` and ``reason`` are redacted,
                its ``usage``, ``attempts`` and ``model`` count every call made.
            PlanRejected: (a :class:`~missionctl.errors.ValidationFailed`) the last plan still
                broke the rules when the budget ran out; it lists every problem.
            TokenLimitReached: ``max_tokens`` could not pay for the next call; its ``usage``
                and ``attempts`` count every call made before.
            missionctl.errors.LLMOutputInvalid: a reply broke the JSON Schema after the
                client's repairs.
            missionctl.errors.LLMUnavailable: the endpoint kept failing.
            asyncio.CancelledError: propagated unchanged if the caller cancels; nothing is
                returned or stored.
        """
        remaining = self._max_repairs
        usage = LLMUsage()
        attempts = 0
        sent_back: list[str] = []
        user = planner_user_prompt(mission)
        while True:
            result = await self._call(
                user,
                mission=mission,
                repairs=remaining,
                max_tokens=max_tokens,
                spent=usage,
                attempts=attempts,
            )
            usage += result.usage
            attempts += result.attempts
            remaining -= max(result.attempts - 1, 0)
            problems = validate_plan(result.value)
            if not problems:
                return PlannerResult(
                    draft=result.value,
                    source=result.model,
                    usage=usage,
                    attempts=attempts,
                    prompt_version=PLANNER_PROMPT_VERSION,
                    notes=_notes(result, sent_back),
                )
            if remaining <= 0:
                raise PlanRejected(problems, usage=usage, attempts=attempts, model=result.model)
            remaining -= 1
            sent_back.append(_sent_back_note(problems))
            user = planner_repair_prompt(mission, draft=result.value, problems=problems)

    async def _call(
        self,
        user: str,
        *,
        mission: PlanningInput,
        repairs: int,
        max_tokens: int | None,
        spent: LLMUsage,
        attempts: int,
    ) -> StructuredResult[PlanDraft]:
        """One model call of a planning that has spent ``spent`` in ``attempts`` calls so far.

        Raises:
            ClarificationNeeded: the model asked; every call of the planning is counted.
            TokenLimitReached: ``max_tokens`` could not pay for this call; likewise counted.
        """
        seen = _UsageSeen()
        try:
            return await self._client.generate_structured(
                system=PLANNER_SYSTEM_PROMPT,
                user=user,
                output_model=PlanDraft,
                schema_name=PLANNER_SCHEMA_NAME,
                max_repairs=repairs,
                on_usage=seen,
                max_tokens=_left(max_tokens, spent),
                prepare=functools.partial(_prepare_reply, mission=mission),
            )
        except _ModelAsked as asked:
            raise _clarification(
                asked.questions,
                model=self.model,
                usage=spent + seen.usage,
                attempts=attempts + seen.replies,
            ) from None
        except TokenLimitReached as exc:
            raise TokenLimitReached(
                exc.message,
                limit=max_tokens or 0,
                usage=spent + exc.usage,
                attempts=attempts + exc.attempts,
            ) from None


class _ModelAsked(Exception):
    """Raised by :func:`_prepare_reply` to end a call whose reply asks questions.

    It leaves the client's call unchanged (the client only handles its own ``ReplyError``);
    the planner learns what the call cost from its usage sink (:class:`_UsageSeen`).
    """

    def __init__(self, questions: ModelQuestions) -> None:
        super().__init__(questions.reason)
        self.questions = questions


def _prepare_reply(answer: Any, *, mission: PlanningInput) -> tuple[Any, list[str]]:
    """The planner's reply preparer: questions end the call, a plan is repaired.

    A plan's citations of past missions are mended first (:func:`mend_citations`): one of a
    mission that was not offered is repaired or dropped, never sent back or stored.

    Raises:
        _ModelAsked: the reply asks readable questions.
        ReplyError: the reply asks, but no question can be read (sent back by the client).
    """
    if is_question_reply(answer):
        raise _ModelAsked(read_questions(answer))
    mended = mend_citations(answer, mission)
    repaired, notes = repair_plan_answer(answer)
    return repaired, [*mended, *notes]


class _UsageSeen:
    """A usage sink that keeps what a call's replies cost, as the server counted it."""

    def __init__(self) -> None:
        self.usage = LLMUsage()
        self.replies = 0

    def __call__(self, usage: LLMUsage, *, estimated: bool) -> None:
        if not estimated:  # estimates are of requests sent; a reply brings the real count
            self.usage = usage
            self.replies += 1


def _clarification(
    asked: ModelQuestions, *, model: str, usage: LLMUsage, attempts: int
) -> ClarificationNeeded:
    """The model's questions (already redacted and within limits) as the planner contract's."""
    return ClarificationNeeded(
        asked.questions, reason=asked.reason, model=model, usage=usage, attempts=attempts
    )


# What the planner says when the server refused a stronger way of asking for the plan.
_MODE_NOTES = {
    OutputMode.JSON_OBJECT: (
        "The server does not accept json_schema; the plan was asked for as a JSON object"
    ),
    OutputMode.PROMPT_ONLY: (
        "The server accepts no response_format; the plan was asked for in the prompt alone"
    ),
}
# A note on a plan sent back names this many of its problems (the repair prompt has them all).
_PROBLEMS_IN_NOTE = 3


def _notes(result: StructuredResult[PlanDraft], sent_back: list[str]) -> tuple[str, ...]:
    """The planner's notes: output mode, plans sent back, then the accepted call's notes."""
    mode = _MODE_NOTES.get(result.output_mode)
    notes = [*([mode] if mode else []), *sent_back, *result.notes]
    # Notes quote the model's keys and titles; nothing it says is recorded unredacted.
    return tuple(redact(note) for note in notes)


def _sent_back_note(problems: Sequence[Problem]) -> str:
    """The note that a plan broke the plan rules and was sent back, naming its problems."""
    shown = "; ".join(problem.message for problem in problems[:_PROBLEMS_IN_NOTE])
    more = len(problems) - _PROBLEMS_IN_NOTE
    tail = f"; and {more} more" if more > 0 else ""
    return f"A plan broke the plan rules and was sent back ({shown}{tail})"


def _left(max_tokens: int | None, used: LLMUsage) -> int | None:
    """What a planning's token limit leaves after the calls made so far (no limit: None)."""
    if max_tokens is None:
        return None
    return max_tokens - used.input_tokens - used.output_tokens
