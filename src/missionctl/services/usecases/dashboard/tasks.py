"""The tasks of a mission or run as the dashboard shows them, and which controls apply."""

from collections.abc import Mapping, Sequence
from typing import Any

from missionctl.domain.states import ENDED_RUN_STATUSES, MISSION, RUN, StepRunStatus
from missionctl.repositories.dashboard import MissionRun
from missionctl.schemas.dashboard import Controls, TaskView
from missionctl.schemas.missions import MissionRead
from missionctl.schemas.plans import PlanRead, PlanTask
from missionctl.schemas.runs import RunRead, StepRunRead
from missionctl.services.usecases.reports import outcome_of, run_outcome_facts

DONE = frozenset({StepRunStatus.succeeded, StepRunStatus.skipped})
"""Step statuses that count as done in progress figures."""

RERUNNABLE = frozenset({"failed", "canceled", "aborted"})
"""Run statuses ``runs.rerun_from_failure`` accepts (a rerun is a new run, not a transition)."""


def run_to_show(plan: PlanRead | None, runs: Sequence[MissionRun]) -> MissionRun | None:
    """The run whose steps a mission's tasks show, if any.

    That is the newest (``runs`` come newest first), when it runs the newest plan or is newer
    than it (ids grow with time); none after a re-plan, whose tasks are not started.
    """
    if not runs:
        return None
    newest = runs[0]
    if plan is not None and newest.plan_id != plan.id and newest.id <= plan.id:
        return None
    return newest


def merge_tasks(
    plan: PlanRead | None, run: RunRead | None, steps: Sequence[Mapping[str, Any]]
) -> list[TaskView]:
    """The tasks to show: the run's steps with their plan tasks, or the plan's, not started.

    Steps come in workflow order; a step whose id is a task key takes the task's title, role and
    acceptance. Without a run to show, the plan's tasks are listed with no status.

    Args:
        plan: the plan whose tasks describe the steps (titles, roles, acceptance), if any.
        run: the run whose step statuses to show, if any.
        steps: the run's workflow step definitions (``id``, ``depends_on``, ``inputs``).
    """
    planned = {t.key: t for t in plan.tasks} if plan else {}
    phases = {key: p.name for p in (plan.phases if plan else []) for key in p.task_keys}
    if run is None:
        return [
            TaskView(
                key=t.key,
                title=t.title,
                description=t.description,
                role=t.role,
                phase=phases.get(t.key),
                depends_on=list(t.depends_on),
                acceptance=list(t.acceptance),
                expected_artifacts=list(t.expected_artifacts),
            )
            for t in (plan.tasks if plan else [])
        ]
    records = {s.step_id: s for s in run.steps}
    order = [str(s.get("id")) for s in steps if s.get("id") in records]
    order += [s.step_id for s in run.steps if s.step_id not in order]
    definitions = {str(s.get("id")): s for s in steps}
    return [
        _step_task(records[key], definitions.get(key, {}), planned.get(key), phases.get(key))
        for key in order
    ]


def _step_task(
    record: StepRunRead, definition: Mapping[str, Any], task: PlanTask | None, phase: str | None
) -> TaskView:
    """A step of the run as a task: the plan task's words when it has one, else its inputs'."""
    inputs: Mapping[str, Any] = definition.get("inputs") or record.inputs
    return TaskView(
        key=record.step_id,
        title=task.title if task else _text(inputs.get("title")) or record.step_id,
        description=task.description if task else _text(inputs.get("description")),
        role=task.role if task else _text(inputs.get("role")),
        agent=record.agent,
        phase=phase,
        depends_on=[str(d) for d in definition.get("depends_on") or []],
        acceptance=list(task.acceptance) if task else _texts(inputs.get("acceptance")),
        expected_artifacts=list(task.expected_artifacts) if task else [],
        status=record.status,
        outcome=outcome_of(record),
        attempt=record.attempt,
        started_at=record.started_at,
        ended_at=record.ended_at,
        input_tokens=record.input_tokens,
        output_tokens=record.output_tokens,
        cost_usd=record.cost_usd,
        error=record.error,
        hold_reason=record.hold_reason,
    )


def headline_of(run: RunRead | None, *, from_plan: bool) -> str | None:
    """What ``run``'s tasks produced, in one sentence; ``None`` without a run.

    From its steps' outcomes (``services.usecases.reports.run_outcome_facts``): a step recorded
    before outcomes were stored has its outcome derived, so old runs read like new ones.
    ``from_plan``: the run was compiled from a plan (counted by task, not by step).
    """
    if run is None:
        return None
    ended = run.status in ENDED_RUN_STATUSES
    return run_outcome_facts(run.steps, from_plan=from_plan, ended=ended)[1]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _texts(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def controls_for(
    mission: MissionRead | None,
    plan: PlanRead | None,
    run: RunRead | None,
    *,
    report: bool | None = None,
) -> Controls:
    """Which controls the state machines allow for ``mission`` and its ``run`` right now.

    The same rules the services apply when asked: planning needs ``mission → planning``;
    running needs a plan and ``mission → running``; cancel needs ``run → canceled``; a failed
    step may be retried while its run runs or may go back to running; a rerun needs a run that
    ended failed, canceled or aborted (and a mission that may run again); a report needs a run
    (``report`` overrides: a mission re-planned after its last run still has that run's report).
    """
    why: dict[str, str] = {}
    can_plan = _can_plan(mission, why)
    can_run = _can_run(mission, plan, why)
    can_cancel = run is not None and RUN.can(run.status, "canceled")
    if not can_cancel:
        why["cancel"] = "No run is in progress."
    can_rerun = _can_rerun(mission, run, why)
    resumable = run is not None and (run.status == "running" or RUN.can(run.status, "running"))
    retry = [s.step_id for s in run.steps if s.status == "failed"] if run and resumable else []
    has_report = run is not None if report is None else report
    if not has_report:
        why["report"] = "There is no run to report on yet."
    planned_before = mission is not None and mission.status != "draft"
    return Controls(
        plan=can_plan,
        run=can_run,
        cancel=can_cancel,
        rerun=can_rerun,
        report=has_report,
        retry_steps=retry,
        plan_label="Plan again" if planned_before else "Plan",
        why_not=why,
    )


def _can_plan(mission: MissionRead | None, why: dict[str, str]) -> bool:
    """Whether the mission may be planned now; if not, ``why`` says so."""
    if mission is None:
        why["plan"] = why["run"] = "This run belongs to no mission."
        return False
    if not MISSION.can(mission.status, "planning"):
        why["plan"] = f"A {mission.status} mission cannot be planned."
        return False
    return True


def _can_run(mission: MissionRead | None, plan: PlanRead | None, why: dict[str, str]) -> bool:
    """Whether the mission's plan may run now; if not, ``why`` says so (with a mission)."""
    if mission is None:
        return False
    if plan is None:
        why["run"] = "Plan the mission first."
        return False
    if not MISSION.can(mission.status, "running"):
        why["run"] = f"A {mission.status} mission cannot run."
        return False
    return True


def _can_rerun(mission: MissionRead | None, run: RunRead | None, why: dict[str, str]) -> bool:
    """Whether the run may be rerun; if not, ``why`` says so."""
    if run is None or run.status not in RERUNNABLE:
        why["rerun"] = "Only a failed, canceled or aborted run can be rerun."
        return False
    if mission is not None and not MISSION.can(mission.status, "running"):
        # A rerun moves its mission back to running; a canceled mission is final.
        why["rerun"] = f"A {mission.status} mission does not run again."
        return False
    return True
