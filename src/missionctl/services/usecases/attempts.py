"""A step's attempts, rebuilt from its run's events, as the API, the step page and replay show them.

Its own module, beside ``replay``, because the dashboard's step page reads them and ``replay``
reads the dashboard's event items: in either module the two imports made a cycle.
"""

import uuid

from missionctl.domain.replay import StepSnapshot, replay_run_events
from missionctl.repositories import events as event_repo
from missionctl.schemas.replay import AttemptRead
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.money import micros_to_usd


def attempt_reads(step: StepSnapshot) -> list[AttemptRead]:
    """The attempts of a replayed step, as the API and the step page show them."""
    return [
        AttemptRead(
            attempt=a.attempt,
            started_at=a.started_at,
            ended_at=a.ended_at,
            duration_ms=a.duration_ms,
            outcome=a.outcome,
            error=a.error,
            input_tokens=a.input_tokens,
            output_tokens=a.output_tokens,
            cost_usd=micros_to_usd(a.cost_micros),
        )
        for a in step.attempts
    ]


async def read_step_attempts(
    ctx: ServiceContext, *, run_id: uuid.UUID, step_id: str
) -> list[AttemptRead]:
    """Every attempt of one step of a run, rebuilt from the run's events (none: no such step)."""
    async with ctx.read() as session:
        events = await event_repo.read_run_events(session, run_id=run_id)
    step = replay_run_events(events).steps.get(step_id)
    return [] if step is None else attempt_reads(step)


__all__ = ["attempt_reads", "read_step_attempts"]
