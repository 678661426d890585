"""A planner's questions about a mission, and the user's answers (ADR 0035).

A planner that cannot plan a mission as written raises
:class:`~missionctl.planning.ClarificationNeeded`; :func:`record_questions` moves the mission
to ``needs_clarification`` and keeps the questions with it (``missions.clarifications``, one
round per time a planner asked). :func:`resume_with_answers` stores the user's answers and
moves the mission back to ``planning``; every answer given so far reaches the planner in
:attr:`~missionctl.planning.PlanningInput.answers` (:func:`answers_of`), each time the mission
is planned. ``services.usecases.plans`` runs the planner around these steps.
"""

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Mission
from missionctl.domain.states import MISSION, MissionStatus, transition
from missionctl.errors import Conflict, NotFound, Problem, ValidationFailed
from missionctl.eventlog import NewEvent, append
from missionctl.planning import Answer, ClarificationNeeded, PlanningInput
from missionctl.repositories import missions as mission_repo
from missionctl.schemas.clarifications import ClarificationAnswers, ClarificationRead
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.pricing import charge_planning
from missionctl.services.usecases.transitions import moved

__all__ = ["answers_of", "record_questions", "resume_with_answers"]


def answers_of(rounds: Iterable[Mapping[str, Any]]) -> tuple[Answer, ...]:
    """Every question answered in ``rounds`` (a mission's ``clarifications``), oldest first.

    Questions left unanswered, and the round still waiting for answers, are left out.
    """
    return tuple(
        Answer(question=question, answer=answer)
        for round_ in rounds
        for question, answer in zip(round_["questions"], round_.get("answers") or (), strict=False)
        if answer
    )


async def record_questions(
    ctx: ServiceContext, *, mission_id: uuid.UUID, actor: str, asked: ClarificationNeeded
) -> ClarificationRead:
    """Keep the planner's questions and move the mission to ``needs_clarification``.

    A round still waiting for answers (the mission was planned again without them) is
    replaced, so a mission waits for one set of answers at a time. Records
    ``mission.needs_clarification`` with the reason and the questions; when a model asked,
    the tokens it spent are charged to the mission as a plan's are, and the event says what
    (``model``, ``input_tokens``, ``output_tokens``, ``cost_micros``).

    Raises:
        NotFound: no such mission.
        InvalidTransition: the mission is not ``planning``.
    """
    async with ctx.write() as session:
        mission = await _mission_for_update(session, mission_id)
        rule = transition(MISSION, mission.status, MissionStatus.needs_clarification)
        mission.status = rule.target
        answered = [r for r in mission.clarifications if r.get("answers") is not None]
        waiting = {"reason": asked.reason, "questions": list(asked.questions), "answers": None}
        mission.clarifications = [*answered, waiting]  # a new list: JSON columns track assignment
        event = moved(
            rule,
            actor=actor,
            mission_id=mission_id,
            reason=asked.reason,
            questions=list(asked.questions),
            **await _charge_asking(session, mission, asked),
        )
        await append(session, [event])
    return ClarificationRead(
        mission_id=mission_id,
        status=MissionStatus.needs_clarification,
        reason=asked.reason,
        questions=list(asked.questions),
    )


async def _charge_asking(
    session: AsyncSession, mission: Mission, asked: ClarificationNeeded
) -> dict[str, Any]:
    """Charge what a model spent asking; the event fields that say so (none for rules)."""
    if asked.model is None:
        return {}
    charged = await charge_planning(session, mission, model=asked.model, usage=asked.usage)
    return {
        "model": asked.model,
        "input_tokens": asked.usage.input_tokens,
        "output_tokens": asked.usage.output_tokens,
        "cost_micros": charged,
    }


async def resume_with_answers(
    ctx: ServiceContext, *, mission_id: uuid.UUID, actor: str, answers: ClarificationAnswers
) -> PlanningInput:
    """Store the answers to the waiting questions and move the mission back to ``planning``.

    Records ``mission.answered`` (the questions and the answers) and ``mission.planning``.

    Returns:
        What the planner reads next: the mission with every answer given so far.

    Raises:
        NotFound: no such mission.
        Conflict: the mission does not wait for answers (field ``mission_id``).
        ValidationFailed: more answers than questions (field ``answers``).
    """
    async with ctx.write() as session:
        mission = await _mission_for_update(session, mission_id)
        if mission.status != MissionStatus.needs_clarification:
            raise Conflict(
                f"mission {mission_id} is {mission.status}, not waiting for answers: only a "
                "mission whose planner asked questions (status needs_clarification) takes them",
                field="mission_id",
            )
        *earlier, waiting = mission.clarifications
        questions: list[str] = list(waiting["questions"])
        given = list(answers.answers)
        if len(given) > len(questions):
            raise ValidationFailed(
                [
                    Problem(
                        "answers",
                        f"the planner asked {len(questions)} question(s): send at most "
                        f"{len(questions)} answers, in the questions' order",
                    )
                ]
            )
        given += [""] * (len(questions) - len(given))
        rule = transition(MISSION, mission.status, MissionStatus.planning)
        mission.status = rule.target
        mission.clarifications = [*earlier, {**waiting, "answers": given}]
        await append(
            session,
            [
                NewEvent(
                    type="mission.answered",
                    actor=actor,
                    mission_id=mission_id,
                    payload={"questions": questions, "answers": given},
                ),
                moved(rule, actor=actor, mission_id=mission_id),
            ],
        )
        return PlanningInput.from_mission(mission, answers=answers_of(mission.clarifications))


async def _mission_for_update(session: AsyncSession, mission_id: uuid.UUID) -> Mission:
    mission = await mission_repo.read_mission(session, mission_id=mission_id, for_update=True)
    if mission is None:
        raise NotFound(f"no mission with id {mission_id}", field="mission_id")
    return mission
