"""Reports from agents that work a mission's tasks outside the engine (over MCP).

A coding agent that works from a mission's AI execution pack says how far it got with a task
(``report_progress``: ``task.progress``) and how the task ended (``report_result``:
``task.reported``). Each report is one event with the mission's id, so it shows in the
mission's activity (its page's Audit Trail, live) like everything else that happens to it.

A report names a task of the mission's newest plan. It changes no status: it is the agent's
account, recorded as said (secrets redacted), not the engine's finding.
"""

import uuid
from typing import Any

from missionctl.domain.events import TASK_PROGRESS, TASK_REPORTED
from missionctl.errors import NotFound
from missionctl.eventlog import NewEvent, append
from missionctl.llm.redaction import redact
from missionctl.schemas.task_reports import TaskProgress, TaskReportRead, TaskResult
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases import plans as plan_service

__all__ = ["report_progress", "report_result"]

# How many of a plan's task keys a refusal lists, so that the agent can pick the right one.
_KEYS_SHOWN = 30


async def _plan_version(ctx: ServiceContext, mission_id: uuid.UUID, task_key: str) -> int:
    """The newest plan version of ``mission_id``, which must have a task ``task_key``."""
    _, plan = await plan_service.read_planned(
        ctx, mission_id=mission_id, version=None, lacking="so it has no tasks to report on"
    )
    keys = [task.key for task in plan.tasks]
    if task_key not in keys:
        shown = ", ".join(keys[:_KEYS_SHOWN]) + (", …" if len(keys) > _KEYS_SHOWN else "")
        raise NotFound(
            f"plan v{plan.version} of mission {mission_id} has no task {task_key!r}; its tasks "
            f"are: {shown}",
            field="task_key",
        )
    return plan.version


async def _record(
    ctx: ServiceContext, *, type_: str, mission_id: uuid.UUID, actor: str, payload: dict[str, Any]
) -> TaskReportRead:
    async with ctx.write() as session:
        (record,) = await append(
            session, [NewEvent(type=type_, actor=actor, mission_id=mission_id, payload=payload)]
        )
    return TaskReportRead(
        seq=record.seq,
        type=record.type,
        mission_id=mission_id,
        task_key=payload["task_key"],
        plan_version=payload["plan_version"],
        actor=record.actor,
        ts=record.ts,
    )


async def report_progress(
    ctx: ServiceContext, *, mission_id: uuid.UUID, report: TaskProgress, actor: str
) -> TaskReportRead:
    """Record how far ``actor`` got with a task of the mission's newest plan (``task.progress``).

    Raises:
        NotFound: no such mission (``field="mission_id"``), or its newest plan has no such task
            (``field="task_key"``, the message lists its tasks).
        Conflict: the mission has no plan yet (``field="mission_id"``).
    """
    version = await _plan_version(ctx, mission_id, report.task_key)
    payload = {
        "task_key": report.task_key,
        "plan_version": version,
        "message": redact(report.message),
        "percent": report.percent,
    }
    return await _record(
        ctx, type_=TASK_PROGRESS, mission_id=mission_id, actor=actor, payload=payload
    )


async def report_result(
    ctx: ServiceContext, *, mission_id: uuid.UUID, report: TaskResult, actor: str
) -> TaskReportRead:
    """Record how a task of the mission's newest plan ended, by ``actor``'s account.

    Raises:
        NotFound | Conflict: as :func:`report_progress`.
    """
    version = await _plan_version(ctx, mission_id, report.task_key)
    payload = {
        "task_key": report.task_key,
        "plan_version": version,
        "status": report.status,
        "summary": redact(report.summary),
    }
    return await _record(
        ctx, type_=TASK_REPORTED, mission_id=mission_id, actor=actor, payload=payload
    )
