"""The orchestration facts follow the log: coding steps' edits, implementation work's starts.

Each window of events (ADR 0117):

- every coding step's diff recorded in it (``artifact.created`` of kind ``diff`` from a
  ``coding:*`` step) is read from the blob store, its changed lines fingerprinted
  (``domain.edits``) and compared with those of the coding steps of its mission recorded
  before it: a ``step_edits`` row says how many it repeated;
- every step started in it that implements a task (``domain.specs.implements_work``) whose
  work had not started yet in its mission is a ``work_starts`` row, with whether its PRD,
  its task list and, when the spec policy (``MISSIONCTL_SPEC_POLICY_FILE``, as it is now)
  marks the task, an approved mini-spec came before it in the log (``domain.orchestration``).

The reads are ``services.usecases.orchestration``.
"""

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from missionctl.blobs import Blobs
from missionctl.domain.edits import changed_lines, pack, unpack
from missionctl.domain.orchestration import (
    PRD_DOCUMENTS,
    PRD_PHASES,
    TASK_LIST_DOCUMENTS,
    TASK_LIST_PHASES,
)
from missionctl.domain.specs import SpecPolicy, implements_work, task_for_step, task_marks
from missionctl.domain.workflows import WorkflowDag
from missionctl.errors import NotFound
from missionctl.repositories import orchestration_facts as repo
from missionctl.repositories.followers import Window
from missionctl.services.followers.follower import Follower
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.execution.spec_guard import RunTasks
from missionctl.services.usecases.execution.types import DagCache, spec_guard_for

log = logging.getLogger(__name__)


def _fold(session: Session, window: Window, ctx: ServiceContext) -> None:
    _fold_diffs(session, window, ctx.blobs)
    _fold_starts(session, window, ctx)


ORCHESTRATION_FACTS = Follower(
    name="orchestration", description="the orchestration facts", fold=_fold, every_s=5.0
)


def _fold_diffs(session: Session, window: Window, blobs: Blobs) -> None:
    """Record each coding step's diff of the window with how many lines it repeated."""
    for diff in repo.read_new_diffs(session, after=window.after, upto=window.upto):
        try:
            patch = blobs.read_bytes(diff.sha256).decode("utf-8", errors="replace")
        except NotFound:
            log.warning("the diff of step %s of run %s is gone", diff.step_id, diff.run_id)
            continue
        lines = changed_lines(patch)
        earlier: set[bytes] = set()
        for packed in repo.read_scope_lines(session, scope_id=diff.scope_id):
            earlier |= unpack(packed)
        repo.add_step_edit(
            session,
            diff,
            lines=len(lines),
            repeated=len(lines & earlier),
            fingerprints=pack(lines),
        )


def _fold_starts(session: Session, window: Window, ctx: ServiceContext) -> None:
    """Record the first start of each implementation task of the window, and its groundwork."""
    dags, plans = DagCache(ctx.dags), RunTasks()  # each read once per window
    policy: SpecPolicy | None = None
    for start in repo.read_new_starts(session, after=window.after, upto=window.upto):
        dag = dags.get(session, start.workflow_id)
        step = dag.steps.get(start.step_id)
        if step is None or not implements_work(start.agent, step.phase):
            continue
        tasks = plans.of(session, start.run_id)
        key = task_for_step(start.step_id, start.inputs, tasks.keys()) or start.step_id
        if repo.work_started(session, scope_id=start.scope_id, task_key=key):
            continue
        if policy is None:
            policy = spec_guard_for(ctx.settings).policy
        had = _groundwork(session, start, dag, key, tasks, policy)
        repo.add_work_start(session, start, task_key=key, had=had)


def _groundwork(
    session: Session,
    start: repo.NewStart,
    dag: WorkflowDag,
    key: str,
    tasks: Mapping[str, Mapping[str, Any]],
    policy: SpecPolicy,
) -> dict[str, bool]:
    """What the task had when ``start`` began it: the columns of its ``work_starts`` row."""

    def phase_done(phases: frozenset[str]) -> bool:
        steps = [s.id for s in dag.steps.values() if (s.phase or "").casefold() in phases]
        return repo.succeeded_before(session, run_id=start.run_id, step_ids=steps, before=start.seq)

    def document(kinds: tuple[str, ...]) -> bool:
        return start.mission_id is not None and repo.has_document(
            session, mission_id=start.mission_id, kinds=kinds, before=start.seq
        )

    task = tasks.get(key)
    marks = (
        task_marks(
            policy,
            title=str(task.get("title") or ""),
            description=str(task.get("description") or ""),
            role=str(task.get("role") or ""),
        )
        if task is not None
        else []
    )
    spec = (
        bool(marks)
        and start.mission_id is not None
        and repo.approved_spec_before(
            session, mission_id=start.mission_id, task_key=key, before=start.seq
        )
    )
    return {
        "had_prd": document(PRD_DOCUMENTS) or phase_done(PRD_PHASES),
        "had_task_list": bool(tasks)
        or document(TASK_LIST_DOCUMENTS)
        or phase_done(TASK_LIST_PHASES),
        "spec_required": bool(marks),
        "had_spec": spec,
    }
