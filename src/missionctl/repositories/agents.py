"""Agent queries: the rows that store each agent's rule, and the steps those rules hold back.

The engine reads the same rules in its tick (``execution.read_agent_rules``); these are the
reads and locks of the services that show and change them.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Agent, Approval, StepRun
from missionctl.domain.states import StepRunStatus

# A queued step the engine holds back carries the reason; one it may dispatch carries none. A
# step a spending cap holds is the caps' to release (``repositories.spending_caps``), not a rule's.
_HELD = (
    StepRun.status == StepRunStatus.queued,
    StepRun.hold_reason.is_not(None),
    StepRun.hold_cap_id.is_(None),
)


async def read_agents(session: AsyncSession) -> Sequence[Agent]:
    """Every agent row (an agent without one has the default rule), in no particular order."""
    return (await session.scalars(select(Agent))).all()


async def count_held_steps(session: AsyncSession) -> dict[str, int]:
    """``agent → how many queued steps naming it are held``; agents with none are left out."""
    query = select(StepRun.agent, func.count()).where(*_HELD).group_by(StepRun.agent)
    return {agent: int(count) for agent, count in (await session.execute(query)).all()}


async def read_agent_config(session: AsyncSession, *, name: str) -> dict[str, Any] | None:
    """The ``config`` of the agent called ``name``, or ``None`` when it has no row."""
    return await session.scalar(select(Agent.config).where(Agent.name == name))


async def lock_agent(session: AsyncSession, *, name: str) -> Agent | None:
    """The row of the agent called ``name``, locked (``FOR UPDATE``), or ``None``."""
    return await session.scalar(select(Agent).where(Agent.name == name).with_for_update())


async def lock_held_steps(session: AsyncSession) -> Sequence[StepRun]:
    """Every held queued step run, locked (``FOR UPDATE``)."""
    return (await session.scalars(select(StepRun).where(*_HELD).with_for_update())).all()


async def lock_unasked_steps(session: AsyncSession, *, agent: str) -> Sequence[StepRun]:
    """The queued step runs of ``agent`` no approver was asked about (no approval row).

    Locked ``FOR UPDATE``; rows another transaction holds are skipped (``SKIP LOCKED``), not
    waited for.
    """
    asked = select(Approval.id).where(Approval.step_run_id == StepRun.id).exists()
    query = (
        select(StepRun)
        .where(StepRun.agent == agent, StepRun.status == StepRunStatus.queued, ~asked)
        .with_for_update(of=StepRun, skip_locked=True)
    )
    return (await session.scalars(query)).all()
