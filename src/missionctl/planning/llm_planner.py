"""The LLM planner: a model writes the plan, the plan rules judge it.

The model's reply is first mended by :func:`~missionctl.planning.repair.repair_plan_answer`
(key formats, duplicate keys, dangling references, lossless type slips: what a rule can fix
costs no model call), then held to the ``PlanDraft`` JSON Schema by the LLM client (which
sends back what still breaks it), then to the semantic rules of
:func:`missionctl.domain.plans.validate_plan`. A plan that breaks those rules (a dependency
cycle) is sent back with every problem listed; a plan still invalid when the repair budget is
spent is refused with :class:`PlanRejected`, so nothing invalid is ever returned or stored.
A valid plan that leaves clauses of the goal out (:mod:`missionctl.planning.coverage`) is sent
back once, naming them; that round never costs the valid plan (see :meth:`LLMPlanner.plan`).
What was mended or sent back comes back as the result's ``notes``.

The model may ask instead of plan (ADR 0035): a reply ``{"questions": [...], "reason": ...}``
ends the planning with :class:`~missionctl.planning.base.ClarificationNeeded`, its questions
redacted and mended to the contract's limits (:mod:`missionctl.planning.asking`), with the
tokens every call cost so the service can charge them.

While the model writes, a caller that gives ``on_draft`` is told each phase and task of the
plan as soon as it is written whole (:mod:`missionctl.planning.drafts`), over a streamed reply
where the server allows one: a preview, never the plan.
"""

import functools
from collections.abc import Sequence
from typing import Any

from missionctl.domain.plans import validate_plan
from missionctl.errors import LLMOutputInvalid, Problem, ValidationFailed
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
from missionctl.planning.coverage import clause_traces, uncovered
from missionctl.planning.drafts import DraftRelay, DraftSink
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
        stream: Whether a planning given ``on_draft`` asks for its replies streamed, so that
            the draft shows as it is written; ``False`` asks for whole replies and drafts
            nothing.

    Raises:
        ValueError: ``max_repairs`` is negative.
    """

    def __init__(self, client: LLMClient, max_repairs: int = 2, *, stream: bool = True) -> None:
        if max_repairs < 0:
            raise ValueError("max_repairs must be zero or more")
        self._client = client
        self._max_repairs = max_repairs
        self._stream = stream

    @property
    def model(self) -> str:
        """The model that writes the plans."""
        return self._client.model

    async def plan(
        self,
        mission: PlanningInput,
        *,
        max_tokens: int | None = None,
        on_draft: DraftSink | None = None,
    ) -> PlannerResult:
        """Ask the model for a plan of ``mission`` and return it once it passes the rules.

        The first call sends the planner prompt. If the plan breaks the plan rules (a cycle,
        an unknown dependency or trace, …) and repair budget is left, the next call sends the
        mission again with the previous plan and every problem listed. Each call's own schema
        repairs (``attempts - 1``) count against the same budget.

        A valid plan that leaves out clauses of the goal (a feature or constraint no requirement
        and no acceptance criterion keeps, :func:`~missionctl.planning.coverage.clause_traces`)
        is sent back once, each clause quoted, if repair budget is left. The answer is the
        new plan unless it leaves out more; if the round's reply still breaks the plan rules
        when the budget runs out, or its call fails (:class:`LLMOutputInvalid`,
        :class:`TokenLimitReached`), the first plan is returned with a note saying so. A plan
        that still drops a clause is not sent back again.

        ``max_tokens`` limits the tokens of the whole planning, every call and repair counted
        (the client asks each reply to fit what is left, and sends nothing it cannot pay for).

        Each reply is mended by :func:`repair_plan_answer` before it is validated, so a plan
        whose only faults are ones a rule can fix costs one call.

        ``on_draft`` (with ``stream`` on) is told each phase and task of each reply as the
        model writes it, and a ``restart`` note when a later reply begins after one that
        drafted something (:class:`~missionctl.planning.drafts.DraftRelay`); a server that
        refuses streaming answers whole and nothing is drafted.

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
        relay = DraftRelay(on_draft) if on_draft is not None and self._stream else None
        run = _Planning(remaining=self._max_repairs, relay=relay)
        return await self._rounds(mission, run, max_tokens)

    async def _rounds(
        self, mission: PlanningInput, run: "_Planning", max_tokens: int | None
    ) -> PlannerResult:
        """:meth:`plan`'s calls: the first, then each plan sent back, until one is the answer."""
        user = planner_user_prompt(mission)
        while True:
            seen = _UsageSeen()
            try:
                result = await self._call(
                    user, mission=mission, max_tokens=max_tokens, run=run, seen=seen
                )
            except (LLMOutputInvalid, TokenLimitReached) as exc:
                if run.kept is None:
                    raise
                # The clause round failed; the valid plan it was asked to extend still stands.
                run.spent(seen.usage, seen.replies)
                run.sent_back.append(f"The plan sent back for its clauses was not replaced: {exc}")
                return self._result(run.kept, run)
            run.spent(result.usage, result.attempts)
            problems = validate_plan(result.value)
            # One round, for a plan that is otherwise valid: a model that still drops a
            # clause is not asked again (the plan shows the clause uncovered).
            asking = not problems and run.kept is None and run.remaining > 0
            if asking and (dropped := _dropped_clauses(result.value, mission)):
                run.kept = result
                user = run.send_back(mission, result.value, dropped, coverage=True)
                continue
            if not problems:
                return self._result(_fewer_dropped(result, run.kept, mission), run)
            if run.remaining <= 0:
                if run.kept is not None:
                    run.sent_back.append(_sent_back_note(problems, kept=True))
                    return self._result(run.kept, run)
                raise PlanRejected(
                    problems, usage=run.usage, attempts=run.attempts, model=result.model
                )
            user = run.send_back(mission, result.value, problems)

    def _result(self, result: StructuredResult[PlanDraft], run: "_Planning") -> PlannerResult:
        """The planner's result: ``result``'s plan with what every call of ``run`` cost."""
        return PlannerResult(
            draft=result.value,
            source=result.model,
            usage=run.usage,
            attempts=run.attempts,
            prompt_version=PLANNER_PROMPT_VERSION,
            notes=_notes(result, run.sent_back),
            sampling=result.sampling,
        )

    async def _call(
        self,
        user: str,
        *,
        mission: PlanningInput,
        max_tokens: int | None,
        run: "_Planning",
        seen: "_UsageSeen",
    ) -> StructuredResult[PlanDraft]:
        """One model call of a planning that has spent what ``run`` counts so far.

        ``seen`` keeps what the call's replies cost, for a caller that outlives its failure.

        Raises:
            ClarificationNeeded: the model asked; every call of the planning is counted.
            TokenLimitReached: ``max_tokens`` could not pay for this call; likewise counted.
        """
        try:
            return await self._client.generate_structured(
                system=PLANNER_SYSTEM_PROMPT,
                user=user,
                output_model=PlanDraft,
                schema_name=PLANNER_SCHEMA_NAME,
                max_repairs=run.remaining,
                on_usage=seen,
                max_tokens=_left(max_tokens, run.usage),
                prepare=functools.partial(_prepare_reply, mission=mission),
                on_text=run.relay,
            )
        except _ModelAsked as asked:
            raise _clarification(
                asked.questions,
                model=self.model,
                usage=run.usage + seen.usage,
                attempts=run.attempts + seen.replies,
            ) from None
        except TokenLimitReached as exc:
            raise TokenLimitReached(
                exc.message,
                limit=max_tokens or 0,
                usage=run.usage + exc.usage,
                attempts=run.attempts + exc.attempts,
            ) from None


class _Planning:
    """What one planning has spent and sent back so far.

    ``kept`` is the valid plan sent back once for the goal clauses it left out: the answer
    when the round fails. ``relay`` drafts every reply of the planning, when one is asked for.
    """

    def __init__(self, remaining: int, relay: DraftRelay | None = None) -> None:
        self.remaining = remaining
        self.relay = relay
        self.usage = LLMUsage()
        self.attempts = 0
        self.sent_back: list[str] = []
        self.kept: StructuredResult[PlanDraft] | None = None

    def spent(self, usage: LLMUsage, attempts: int) -> None:
        """Count a call: its tokens, its replies, and its schema repairs against the budget."""
        self.usage += usage
        self.attempts += attempts
        self.remaining -= max(attempts - 1, 0)

    def send_back(
        self,
        mission: PlanningInput,
        draft: PlanDraft,
        problems: Sequence[Problem],
        *,
        coverage: bool = False,
    ) -> str:
        """Spend one repair on ``draft``: note it and return the prompt that sends it back."""
        self.remaining -= 1
        self.sent_back.append(_sent_back_note(problems, coverage=coverage))
        return planner_repair_prompt(mission, draft=draft, problems=problems)


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


def _dropped_clauses(draft: PlanDraft, mission: PlanningInput) -> list[Problem]:
    """A problem for each clause of the goal that ``draft`` keeps nowhere (none: it kept all)."""
    return [
        Problem(
            "requirements",
            f'the goal says "{clause}", and no requirement text or task acceptance criterion '
            "keeps those words; add a requirement (or reword one) that quotes them",
        )
        for clause in uncovered(clause_traces(draft, mission))
    ]


def _fewer_dropped(
    result: StructuredResult[PlanDraft],
    kept: StructuredResult[PlanDraft] | None,
    mission: PlanningInput,
) -> StructuredResult[PlanDraft]:
    """The answer to a clause round: the new plan, unless it leaves out more than the kept one."""
    if kept is None:
        return result
    before = len(_dropped_clauses(kept.value, mission))
    return kept if len(_dropped_clauses(result.value, mission)) > before else result


def _sent_back_note(
    problems: Sequence[Problem], *, coverage: bool = False, kept: bool = False
) -> str:
    """The note that a plan was sent back (or, ``kept``, that its repair failed), naming why."""
    shown = "; ".join(problem.message for problem in problems[:_PROBLEMS_IN_NOTE])
    more = len(problems) - _PROBLEMS_IN_NOTE
    tail = f"; and {more} more" if more > 0 else ""
    if kept:
        return (
            "The plan sent back for its clauses came back breaking the plan rules "
            f"({shown}{tail}); the earlier plan is kept"
        )
    why = "left out clauses of the goal" if coverage else "broke the plan rules"
    return f"A plan {why} and was sent back ({shown}{tail})"


def _left(max_tokens: int | None, used: LLMUsage) -> int | None:
    """What a planning's token limit leaves after the calls made so far (no limit: None)."""
    if max_tokens is None:
        return None
    return max_tokens - used.input_tokens - used.output_tokens
