"""Schedule test helpers: a workflow to schedule, the test's clock, and what was recorded."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from missionctl.db.models import Event, Run, ScheduleRun
from missionctl.schemas.schedules import ScheduleCreate, ScheduleRead
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.usecases.schedules import create_schedule
from missionctl.services.usecases.workflows import create_workflow

# A minute boundary far from any DST change, and years ahead: a scheduler running beside a
# test on the real clock (the app's) never finds these ticks due. The tests' clock starts here.
T0 = datetime(2036, 6, 2, 12, 0, 0, tzinfo=UTC)


def minute(n: int, seconds: int = 1) -> datetime:
    """``n`` minutes after ``T0``, ``seconds`` past the tick (a pass runs just after a tick)."""
    return T0 + timedelta(minutes=n, seconds=seconds)


async def saved_workflow(ctx: ServiceContext, **fields: Any) -> uuid.UUID:
    """A one-step workflow (``builtin:noop``); its version's id."""
    spec = WorkflowSpec.model_validate(
        {
            "name": f"wf-{uuid.uuid4().hex[:8]}",
            "steps": [{"id": "only", "agent": "builtin:noop"}],
            **fields,
        }
    )
    return (await create_workflow(ctx, spec=spec, actor="user:test")).id


async def every_minute(
    ctx: ServiceContext, workflow_id: uuid.UUID, *, now: datetime = T0, **fields: Any
) -> ScheduleRead:
    """A schedule of ``workflow_id`` firing every minute, added at ``now``."""
    data = ScheduleCreate.model_validate(
        {"name": f"s-{uuid.uuid4().hex[:8]}", "cron": "* * * * *", "workflow_id": workflow_id}
        | fields
    )
    return await create_schedule(ctx, data=data, actor="user:test", now=now)


async def runs_of(ctx: ServiceContext, schedule_id: uuid.UUID) -> list[Run]:
    """The runs the schedule started, oldest first."""
    async with ctx.read() as session:
        query = (
            select(Run)
            .join(ScheduleRun, ScheduleRun.run_id == Run.id)
            .where(ScheduleRun.schedule_id == schedule_id)
            .order_by(Run.id)
        )
        return list((await session.scalars(query)).all())


async def events_of(ctx: ServiceContext, type_: str) -> list[Event]:
    """Every event of one type, in order."""
    async with ctx.read() as session:
        query = select(Event).where(Event.type == type_).order_by(Event.seq)
        return list((await session.scalars(query)).all())


async def count_runs(ctx: ServiceContext) -> int:
    """Every run in the database."""
    async with ctx.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Run)) or 0)
