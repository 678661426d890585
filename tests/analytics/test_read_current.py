"""An analytics read answers from the facts as they are when the events the follower has yet to
read change none of them, and catches the facts up first when they would."""

from missionctl.eventlog import NewEvent
from missionctl.eventlog.store import append
from missionctl.repositories import followers as cursors
from missionctl.schemas.missions import MissionCreate
from missionctl.services import ServiceContext
from missionctl.services.usecases import analytics as analytics_service
from tests.services.helpers import run_goal
from tests.support.fixtures import PINNED_DAY


async def _positions(ctx: ServiceContext) -> tuple[int, int]:
    async with ctx.read() as session:
        return await session.run_sync(
            lambda s: (cursors.read_to(s, analytics_service.FOLLOWER), cursors.log_head(s))
        )


async def _runs_started(ctx: ServiceContext) -> tuple[int, int]:
    query = analytics_service.parse_query(
        since=str(PINNED_DAY), until=str(PINNED_DAY), segment=None, today=PINNED_DAY
    )
    answer = await analytics_service.read_trends(ctx, query=query, grain="day")
    return sum(item.runs_started for item in answer.items), answer.meta.followed_to


async def test_events_that_change_no_fact_are_not_folded_before_a_read(
    ctx: ServiceContext,
) -> None:
    done = await run_goal(ctx, MissionCreate(goal="Publish a changelog page from git tags"))
    started, _ = await _runs_started(ctx)
    folded, head = await _positions(ctx)
    assert folded == head and started >= 1
    async with ctx.write() as session:  # a busy run's chatter: no fact changes with it
        await append(
            session,
            [
                NewEvent("step.log", "system", {"line": f"line {n}"}, run_id=done.id)
                for n in range(5)
            ],
        )
    counted, followed = await _runs_started(ctx)
    after_logs, new_head = await _positions(ctx)
    assert (counted, followed) == (started, new_head)  # current up to the head...
    assert after_logs == folded < new_head  # ...without a write to fold the chatter

    await run_goal(ctx, MissionCreate(goal="Publish a changelog page from git tags"))
    counted, followed = await _runs_started(ctx)
    folded, head = await _positions(ctx)
    assert counted == started + 1  # a new run changes a fact: folded before the answer
    assert followed == folded == head
