"""Mission use cases: create, read one, read a page.

A mission's repository must be one coding steps may work on (``domain.governance``): on the
list an admin keeps (``missionctl agents allow-repository``), and, for a clone URL, not at a
private address outside ``MISSIONCTL_HTTP_AGENT_ALLOWED_NETWORKS``. A mission whose code tasks
run on a coding agent and that names no test command gets one detected, once, from the
repository's base commit (``agents.test_detection``), or a note saying why there is none.
"""

import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.agents.http import HttpAgentConfig
from missionctl.agents.test_detection import detect
from missionctl.db.models import Mission
from missionctl.domain.governance import (
    CODING_RULE,
    address_refusal,
    parse_repositories,
    repository_refusal,
)
from missionctl.domain.missions import derive_title
from missionctl.domain.states import MISSION, MissionStatus
from missionctl.errors import NotFound, Problem, StateRefused
from missionctl.eventlog import NewEvent, append
from missionctl.repositories import agents as agent_repo
from missionctl.repositories import missions as mission_repo
from missionctl.schemas.missions import (
    ClarificationRound,
    MissionCreate,
    MissionPage,
    MissionRead,
    MissionRepository,
    MissionRepositoryRead,
)
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.money import micros_to_usd, usd_to_micros
from missionctl.services.usecases.paging import keyset_cursor
from missionctl.settings import Settings


def to_mission_read(mission: Mission) -> MissionRead:
    """Map the ORM row to the public contract."""
    return MissionRead(
        id=mission.id,
        title=mission.title,
        goal=mission.goal,
        constraints=list(mission.constraints),
        repo_context=mission.repo_context,
        status=MissionStatus(mission.status),
        budget_usd=None if mission.budget_micros is None else micros_to_usd(mission.budget_micros),
        spent_usd=micros_to_usd(mission.spent_micros),
        input_tokens=mission.input_tokens,
        output_tokens=mission.output_tokens,
        created_by=mission.created_by,
        created_at=mission.created_at,
        updated_at=mission.updated_at,
        clarifications=[ClarificationRound.model_validate(r) for r in mission.clarifications],
        repository=(
            None if mission.repository is None else MissionRepositoryRead(**mission.repository)
        ),
    )


async def create_mission(ctx: ServiceContext, *, data: MissionCreate, actor: str) -> MissionRead:
    """Store a new mission in ``draft`` and record ``mission.created``, in one transaction.

    Args:
        ctx: the service context.
        data: the validated request (``MissionCreate`` refuses bad input before we get here).
        actor: who asks, e.g. ``user:alice``.

    Returns:
        The stored mission.

    Raises:
        ValidationFailed: its ``repository`` is not on the list of repositories coding steps
            may work on, or is a clone URL whose host spells a private address; nothing is
            stored (and the repository is not read).
    """
    repository = None
    if data.repository is not None:
        async with ctx.read() as session:  # allowed before it is read; checked again below
            await _check_repository(session, data.repository.source, ctx.settings)
        repository = await _with_test_command(data.repository, ctx.settings)
    mission = Mission(
        title=data.title or derive_title(data.goal),
        goal=data.goal,
        constraints=list(data.constraints),
        repo_context=data.repo_context,
        repository=repository,
        budget_micros=None if data.budget_usd is None else usd_to_micros(data.budget_usd),
        status=MISSION.initial.value,
        created_by=actor,
    )
    async with ctx.write() as session:
        if data.repository is not None:
            await _check_repository(session, data.repository.source, ctx.settings)
        session.add(mission)
        await session.flush()
        await append(
            session,
            [
                NewEvent(
                    type="mission.created",
                    actor=actor,
                    mission_id=mission.id,
                    payload={
                        "title": mission.title,
                        "goal": mission.goal,
                        "constraints": mission.constraints,
                        "repo_context": mission.repo_context,
                        "budget_micros": mission.budget_micros,
                        "repository": mission.repository,
                        "status": mission.status,
                    },
                )
            ],
        )
        return to_mission_read(mission)


async def _with_test_command(named: MissionRepository, settings: Settings) -> dict[str, Any]:
    """The repository as stored: with its test command detected when a coding agent needs one.

    Detection runs only for a mission whose code tasks run on a coding agent and that names no
    test command; it never fails the mission (``test_command_note`` says why none was found).
    """
    stored = named.model_dump()
    if named.agent is None or named.test_command is not None:
        return stored
    network = HttpAgentConfig(allowed_networks=settings.http_agent.networks())
    found = await detect(
        named.source, named.base, repositories=settings.home / "repositories", network=network
    )
    return stored | {
        "test_command": None if found.command is None else list(found.command),
        "test_command_detected": found.command is not None,
        "test_command_note": found.note,
    }


async def _check_repository(session: AsyncSession, source: str, settings: Settings) -> None:
    """Refuse a mission repository coding steps could not work on (see ``create_mission``).

    Raises:
        StateRefused: on ``repository.source``, naming the setting or the command to run.
    """
    field = "repository.source"
    problem = address_refusal(source, settings.http_agent.networks())
    if problem is None:
        config = await agent_repo.read_agent_config(session, name=CODING_RULE)
        problem = repository_refusal(source, parse_repositories(config))
    if problem is not None:
        raise StateRefused([Problem(field, problem)])


async def read_mission(ctx: ServiceContext, *, mission_id: uuid.UUID) -> MissionRead:
    """The mission with ``mission_id``.

    Raises:
        NotFound: there is no such mission.
    """
    async with ctx.read() as session:
        mission = await mission_repo.read_mission(session, mission_id=mission_id)
        if mission is None:
            raise NotFound(f"no mission with id {mission_id}", field="mission_id")
        return to_mission_read(mission)


async def read_titles(
    ctx: ServiceContext, *, mission_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The titles of the missions ``mission_ids``, by id (unknown ids left out)."""
    async with ctx.read() as session:
        return await mission_repo.read_titles(session, mission_ids=mission_ids)


async def read_missions(
    ctx: ServiceContext,
    *,
    limit: int = 50,
    cursor: str | None = None,
    status: MissionStatus | None = None,
    q: str | None = None,
) -> MissionPage:
    """A page of missions, newest first, with the total and the cursor of the next page.

    Raises:
        ValidationFailed: ``limit`` is out of range or ``cursor`` is not one this API issued.
    """
    before_id = keyset_cursor(limit=limit, cursor=cursor)
    status_value = status.value if status else None
    search = q.strip() if q and q.strip() else None
    async with ctx.read() as session:
        rows = await mission_repo.read_missions(
            session, limit=limit + 1, before_id=before_id, status=status_value, q=search
        )
        total = await mission_repo.count_missions(session, status=status_value, q=search)
    has_more = len(rows) > limit
    rows = rows[:limit]
    return MissionPage(
        items=[to_mission_read(row) for row in rows],
        total=total,
        next_cursor=str(rows[-1].id) if has_more and rows else None,
    )
