"""Mini-specs of risky tasks: write one, approve or reject it, list a mission's (ADR 0066).

The spec policy (``domain.specs``, ``MISSIONCTL_SPEC_POLICY_FILE``) marks tasks that touch
cross-service interfaces, security, migrations or a novel pattern. The engine holds the steps
implementing a marked task until one of the task's specs is approved and fresh
(``execution.spec_guard``). Here:

- :func:`write_spec` stores a draft (operators), its body also as an artifact of the mission;
- :func:`decide_spec` approves or rejects a draft (approvers). A decision is made once (a
  second is a 409 naming who decided and when), never by the spec's author (four eyes: a
  403), and a rejection needs a reason. In the same transaction it admits the mission's held
  steps again: those whose task now has a fresh approved spec are released and queued (or
  sent to an approver when a gate says so); the others keep waiting, with a current reason;
- :func:`list_specs` and :func:`marked_tasks` read a mission's specs and its marked tasks.
"""

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from missionctl.db.models import Spec
from missionctl.db.types import utcnow
from missionctl.domain import events as ev
from missionctl.domain.access import SYSTEM_ACTOR
from missionctl.domain.coding import CodingCli
from missionctl.domain.specs import SpecGuard, task_marks
from missionctl.errors import Conflict, NotFound, PermissionDenied, Problem, ValidationFailed
from missionctl.eventlog import NewEvent, append, append_sync
from missionctl.llm.redaction import redact
from missionctl.repositories import execution as execution_repo
from missionctl.repositories import specs as repo
from missionctl.schemas.specs import SPEC_STATUSES, MarkedTask, SpecRead, SpecStatus, TaskSpecStatus
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.artifacts import NewArtifact, add_artifacts, put_blob
from missionctl.services.usecases.execution.admission import admit_steps
from missionctl.services.usecases.execution.recording import advance_runs, finish_runs
from missionctl.services.usecases.execution.types import (
    SHIPPED_CLIS,
    DagCache,
    Tick,
    coding_clis,
    refresh_policy,
    spec_guard_for,
)

SPEC_MEDIA_TYPE = "text/markdown"


def to_spec_read(spec: Spec, released: int = 0) -> SpecRead:
    """The public contract of a spec row."""
    return SpecRead(
        id=spec.id,
        mission_id=spec.mission_id,
        task_key=spec.task_key,
        status=_status(spec.status),
        body=spec.body,
        author=spec.author,
        decided_by=spec.decided_by,
        decided_at=spec.decided_at,
        reason=spec.reason,
        artifact_id=spec.artifact_id,
        created_at=spec.created_at,
        released_steps=released,
    )


def _status(value: str) -> SpecStatus:
    for status in SPEC_STATUSES:
        if value == status:
            return status
    raise ValueError(f"spec status {value!r} is not one of {', '.join(SPEC_STATUSES)}")


async def write_spec(
    ctx: ServiceContext,
    *,
    mission_id: uuid.UUID,
    task_key: str,
    body: str,
    actor: str,
    user: str | None,
) -> SpecRead:
    """Store a draft spec for ``task_key`` and its body as an artifact of the mission.

    The body is redacted first (a registered secret never reaches the row, the blob or the
    event). ``actor`` is recorded (``user:NAME`` or ``token:NAME``), ``user`` is the person
    behind it (``None``: the system, recorded as ``system``), who may not decide on the spec.
    Any task key may get a spec: a merge is guarded by the task of its coding step, which a
    plan need not list.

    Raises:
        NotFound: no such mission.
    """
    clean = redact(body)
    blob = await asyncio.to_thread(put_blob, ctx, clean.encode("utf-8"))
    async with ctx.write() as session:
        if await repo.read_mission(session, mission_id=mission_id) is None:
            raise NotFound(f"no mission with id {mission_id}", field="mission_id")
        artifact = NewArtifact(
            name=f"spec-{task_key}.md",
            kind="markdown",
            media_type=SPEC_MEDIA_TYPE,
            content=b"",
            meta={"task_key": task_key},
        )
        stored = await add_artifacts(
            session, stored=[(artifact, blob)], run_id=None, mission_id=mission_id, actor=actor
        )
        spec = Spec(
            mission_id=mission_id,
            task_key=task_key,
            body=clean,
            status="draft",
            author=actor,
            author_user=user or SYSTEM_ACTOR,
            artifact_id=stored[0].id,
            created_at=utcnow(),
        )
        session.add(spec)
        await session.flush()
        await append(session, [_spec_event(ev.SPEC_WRITTEN, spec, actor)])
        return to_spec_read(spec)


def _spec_event(event_type: str, spec: Spec, actor: str, **payload: Any) -> NewEvent:
    return NewEvent(
        type=event_type,
        actor=actor,
        mission_id=spec.mission_id,
        payload={
            "spec_id": str(spec.id),
            "task_key": spec.task_key,
            "status": spec.status,
            "author": spec.author,
            **payload,
        },
    )


async def list_specs(ctx: ServiceContext, *, mission_id: uuid.UUID) -> list[SpecRead]:
    """A mission's specs, oldest first.

    Raises:
        NotFound: no such mission.
    """
    async with ctx.read() as session:
        if await repo.read_mission(session, mission_id=mission_id) is None:
            raise NotFound(f"no mission with id {mission_id}", field="mission_id")
        return [
            to_spec_read(s) for s in await repo.read_mission_specs(session, mission_id=mission_id)
        ]


async def decide_spec(
    ctx: ServiceContext,
    *,
    spec_id: uuid.UUID,
    approve: bool,
    actor: str,
    user: str | None,
    reason: str = "",
) -> SpecRead:
    """Approve or reject a draft, then admit the mission's held steps again (see module doc).

    ``user`` is the person deciding (whichever token or session ``actor`` names; ``None``:
    the system, which may not decide on a spec the system wrote).

    Raises:
        NotFound: no such spec.
        Conflict: the spec was decided already (who and when are named).
        PermissionDenied: ``actor`` wrote the spec.
        ValidationFailed: a rejection without a reason.
    """
    if not approve and not reason.strip():
        problem = "a rejection needs a reason, so that the author knows what to change"
        raise ValidationFailed([Problem("reason", problem)])
    guard = spec_guard_for(ctx.settings)
    dags = DagCache(ctx.dags)
    clis = coding_clis(ctx.settings)

    def work(session: Session) -> SpecRead:
        return _decide(
            session,
            dags,
            guard,
            clis=clis,
            spec_id=spec_id,
            approve=approve,
            actor=actor,
            user=user or SYSTEM_ACTOR,
            reason=reason,
        )

    return await ctx.write_blocking(work)


def _decide(
    session: Session,
    dags: DagCache,
    guard: SpecGuard,
    *,
    spec_id: uuid.UUID,
    approve: bool,
    actor: str,
    user: str,
    reason: str,
    clis: Mapping[str, CodingCli] = SHIPPED_CLIS,
) -> SpecRead:
    state = Tick(now=utcnow(), specs=guard, clis=clis)
    # The rules' lock first, as every transaction that may admit a step takes it (lock_rules).
    refresh_policy(session, state)
    mission_id = repo.read_spec_mission(session, spec_id=spec_id)
    if mission_id is None:
        raise NotFound(f"no spec with id {spec_id}", field="spec_id")
    # Then the mission's runs (as a tick takes them before it admits), then its spec lock:
    # every transaction that judged a step against the specs as they were commits first.
    execution_repo.serialize_runs(
        session, run_ids=repo.read_live_run_ids(session, mission_id=mission_id)
    )
    repo.lock_mission_specs(session, mission_id=mission_id)
    spec = repo.lock_spec(session, spec_id=spec_id)
    if spec is None:
        raise NotFound(f"no spec with id {spec_id}", field="spec_id")
    if spec.status != "draft":
        raise Conflict(
            f"spec {spec_id} was {spec.status} already by {spec.decided_by} at "
            f"{spec.decided_at:%Y-%m-%d %H:%M} UTC; write a new spec to change the decision",
            field="spec_id",
        )
    if spec.author_user == user:
        raise PermissionDenied(
            f"{user} wrote spec {spec_id}; another approver must decide on it (four eyes)"
        )
    spec.status = "approved" if approve else "rejected"
    spec.decided_by = actor
    spec.decided_at = state.now
    spec.reason = redact(reason.strip()) or None
    session.flush()
    kind = ev.SPEC_APPROVED if approve else ev.SPEC_REJECTED
    _readmit_held(session, state, dags, spec.mission_id)
    released = sum(1 for e in state.events if e.type == ev.STEP_RELEASED)
    event = _spec_event(kind, spec, actor, reason=spec.reason, released_steps=released)
    append_sync(session, [event, *state.events])
    return to_spec_read(spec, released)


def _readmit_held(session: Session, state: Tick, dags: DagCache, mission_id: uuid.UUID) -> None:
    """Admit the mission's held steps again, run by run; then finish or pause as a tick does."""
    by_run: dict[uuid.UUID, tuple[uuid.UUID, list[str]]] = {}
    for row in repo.read_held_steps(session, mission_id=mission_id):
        by_run.setdefault(row.run_id, (row.workflow_id, []))[1].append(row.step_id)
    for run_id, (workflow_id, step_ids) in by_run.items():
        state.touched_runs[run_id] = mission_id
        state.run_workflows[run_id] = workflow_id
        admit_steps(session, state, run_id, step_ids, dags.get(session, workflow_id))
    if by_run:
        advance_runs(session, state, dags)
        finish_runs(session, state, dags)


async def marked_tasks(ctx: ServiceContext, *, mission_id: uuid.UUID) -> list[MarkedTask]:
    """The tasks of the mission's newest plan the spec policy marks, each with its spec status.

    Raises:
        NotFound: no such mission.
    """
    guard = spec_guard_for(ctx.settings)
    async with ctx.read() as session:
        if await repo.read_mission(session, mission_id=mission_id) is None:
            raise NotFound(f"no mission with id {mission_id}", field="mission_id")
        tasks = await repo.read_newest_plan_tasks(session, mission_id=mission_id) or []
        specs = await repo.read_mission_specs(session, mission_id=mission_id)
    return board(guard, tasks, specs, now=utcnow())


def board(
    guard: SpecGuard, tasks: Sequence[Mapping[str, Any]], specs: Sequence[Spec], *, now: datetime
) -> list[MarkedTask]:
    """Each marked task with its newest spec and what it means for the task's work."""
    marked = []
    for task in tasks:
        key = str(task.get("key") or "")
        marks = task_marks(
            guard.policy,
            title=str(task.get("title") or ""),
            description=str(task.get("description") or ""),
            role=str(task.get("role") or ""),
        )
        if not key or not marks:
            continue
        own = [s for s in specs if s.task_key == key]
        approved = [s.decided_at for s in own if s.status == "approved" and s.decided_at]
        newest = own[-1] if own else None
        marked.append(
            MarkedTask(
                task_key=key,
                title=str(task.get("title") or key),
                marks=[str(mark) for mark in marks],
                status=_task_status(newest, max(approved) if approved else None, guard, now),
                spec=to_spec_read(newest) if newest is not None else None,
                approved_at=max(approved) if approved else None,
            )
        )
    return marked


def _task_status(
    newest: Spec | None, approved_at: datetime | None, guard: SpecGuard, now: datetime
) -> TaskSpecStatus:
    if approved_at is not None:
        return "approved" if now - approved_at <= guard.max_age else "stale"
    if newest is None:
        return "missing"
    return "draft" if newest.status == "draft" else "rejected"
