"""The invariants every test database must keep."""

from missionctl.repositories.execution import ACTIVE_STEP_STATUSES
from missionctl.services import ServiceContext

ENDED_RUN_STATUSES = frozenset({"completed", "failed", "canceled", "aborted"})


async def assert_consistent(context: ServiceContext, *, verify_chain: bool = True) -> None:
    """Every run replays to its stored state with no unfinished step once ended; the chain verifies.

    Run after every test that had a database: a state change written without its event, or an
    event without its state change, fails the test that caused it (the run's events no longer
    replay to its stored state); so does a run that ended (refused by its budget, canceled,
    aborted, failed) with a step left waiting, queued, running or awaiting approval.
    """
    from sqlalchemy import select

    from missionctl.db.models import Run
    from missionctl.services.audit import verify_event_chain
    from missionctl.services.runs import replay_run

    async with context.read() as session:
        run_ids = list((await session.scalars(select(Run.id))).all())
    for run_id in run_ids:
        replayed, stored = await replay_run(context, run_id=run_id)
        assert replayed == stored, f"run {run_id}: replay {replayed} != stored {stored}"
        if stored.status in ENDED_RUN_STATUSES:
            unfinished = {
                step_id: step.status
                for step_id, step in stored.steps.items()
                if step.status in ACTIVE_STEP_STATUSES
            }
            assert not unfinished, f"run {run_id} is {stored.status} with steps {unfinished}"
    if verify_chain:
        report = await verify_event_chain(context)
        assert report.ok, str(report)
