"""Plan → workflow: each task of a plan becomes one step of a workflow."""

import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from missionctl.domain.coding import CODE_ROLES, MERGE_AGENT, merge_step_id, merge_title
from missionctl.domain.dag import ensure_valid_dag
from missionctl.domain.plans import ensure_valid_plan
from missionctl.domain.workflows import workflow_name_problem, writes_only_documents
from missionctl.planning.base import LOCAL_SOURCE
from missionctl.planning.review_loop import review_loop_steps
from missionctl.planning.workflow_spec import (
    DEFAULT_TIMEOUT_S,
    ApprovalPolicy,
    RetrySpec,
    StepSpec,
    WorkflowSpec,
)
from missionctl.schemas.plans import PlanDraft

__all__ = [
    "DOCUMENTS_ONLY_REASON",
    "AgentKind",
    "agent_kind_for",
    "coding_inputs",
    "compile_plan",
    "irreversible_gates",
]

AgentKind = Literal["builtin", "llm"]

_NAME_MAX_CHARS = 200


def agent_kind_for(source: str) -> AgentKind:
    """The agent kind that runs a plan's steps: built-in specialists for local plans."""
    return "builtin" if source == LOCAL_SOURCE else "llm"


def compile_plan(
    draft: PlanDraft,
    *,
    mission_title: str,
    mission_id: uuid.UUID | None = None,
    agent_kind: AgentKind = "builtin",
    budget_usd: Decimal | None = None,
    max_concurrency: int | None = None,
    coding_agent: str | None = None,
    coding: Mapping[str, Any] | None = None,
    review: bool = False,
) -> WorkflowSpec:
    """Compile ``draft`` into a workflow with one step per task, in task order.

    Each step gets ``id`` = the task key, ``agent`` = ``"<agent_kind>:<role>"``, the task's
    dependencies, risk tier and token estimate, ``inputs`` = the task's title, description,
    acceptance criteria, expected artifacts and role, a timeout of 600 s and a retry policy
    of 2 attempts with 1 s backoff.

    Args:
        draft: A plan; it is checked with ``validate_plan`` first.
        mission_title: Becomes the workflow name (cut to 200 characters; prefixed with
            ``Plan:`` and its slashes spaced when the name rules would refuse it).
        mission_id: When given, the name ends with `` · `` and the last 8 hex digits of the
            id (random ones), so that missions with one title get workflows of their own.
        agent_kind: ``"builtin"`` for plans from the local planner, ``"llm"`` otherwise (see
            :func:`agent_kind_for`).
        budget_usd: Spending cap copied to the workflow, if any.
        max_concurrency: Limit on steps running at once, if any.
        coding_agent: The mission's coding agent (``coding:<preset>``), when it names a
            repository and one: each task of a code role (``domain.coding.CODE_ROLES``) then
            runs on it in ``workspace-write`` mode, followed by a ``git:merge`` step that
            waits for an approver, and every step that depended on the task depends on the
            merge (so it starts from the merged code). See :func:`with_coding_steps`.
        coding: More inputs of every such coding step: the mission's ``model`` and
            ``test_command`` (:func:`coding_inputs` reads them from the mission's repository).
        review: The mission's review loop (``repository.review``): each code task's step is
            followed by a tester, a reviewer and, when it requests changes, a rework, all on
            ``coding_agent``, before its merge (``planning.review_loop``).

    A task the plan marks ``irreversible`` is gated or explained (:func:`irreversible_gates`):
    its step waits for an approver when it can change anything but documents, and says why it
    does not wait when it only writes documents.

    Returns:
        A workflow whose steps form a valid DAG.

    Raises:
        ValidationFailed: The plan breaks the plan rules (fields ``tasks.<i>.…``).
    """
    ensure_valid_plan(draft)
    spec = WorkflowSpec(
        name=_workflow_name(mission_title, mission_id),
        steps=_task_steps(draft, agent_kind),
        max_concurrency=max_concurrency,
        budget_usd=budget_usd,
        # A plan's builtin and llm agents only write artifacts; its tasks' risk tiers describe
        # the real-world work, which these steps do not perform, so no tier waits by policy.
        # An irreversible task's step that can do more is gated on its own (irreversible_gates).
        approvals=ApprovalPolicy(read=False, write=False, irreversible=False),
    )
    if coding_agent is not None:
        spec.steps = with_coding_steps(spec.steps, draft, coding_agent, coding, review=review)
    spec.steps = irreversible_gates(spec.steps)
    ensure_valid_dag(spec.steps)
    return spec


def _task_steps(draft: PlanDraft, agent_kind: AgentKind) -> list[StepSpec]:
    """One step per task of ``draft``, in task order, as :func:`compile_plan` describes."""
    return [
        StepSpec(
            id=task.key,
            agent=f"{agent_kind}:{task.role}",
            inputs={
                "title": task.title,
                "description": task.description,
                "acceptance": list(task.acceptance),
                "expected_artifacts": list(task.expected_artifacts),
                "role": task.role,
            },
            depends_on=list(task.depends_on),
            risk_tier=task.risk_tier,
            estimate_tokens=task.estimate_tokens,
            timeout_s=DEFAULT_TIMEOUT_S,
            retry=RetrySpec(max_attempts=2, backoff_s=1.0),
        )
        for task in draft.tasks
    ]


DOCUMENTS_ONLY_REASON = (
    "no approval: this step only writes documents; the plan marks the task irreversible, and "
    "the irreversible work it describes is not done by this run"
)
"""Why a document-only step of a task the plan marks irreversible runs without a gate."""


def irreversible_gates(steps: list[StepSpec]) -> list[StepSpec]:
    """``steps`` with each step of a task the plan marks irreversible gated or explained.

    A compiled step at the ``irreversible`` tier that says nothing of its own approval (a merge
    step does: it always waits) gets an ``approval_reason``; when its agent can change more than
    documents (a coding agent, or any agent but builtin specialists and model roles:
    ``domain.workflows.writes_only_documents``) it also gets ``requires_approval``, so that it
    waits for an approver whatever the allow-list says. A document-only step runs ungated: what
    it writes changes nothing outside the run, and a gate there would ask an approver to sign
    off on a document rather than on the irreversible act.
    """
    result: list[StepSpec] = []
    for step in steps:
        if step.risk_tier != "irreversible" or step.requires_approval is not None:
            result.append(step)
        elif writes_only_documents(step.agent):
            result.append(step.model_copy(update={"approval_reason": DOCUMENTS_ONLY_REASON}))
        else:
            reason = (
                f"waits for approval: the plan marks the task irreversible and {step.agent} "
                "can change more than documents"
            )
            update = {"requires_approval": True, "approval_reason": reason}
            result.append(step.model_copy(update=update))
    return result


def coding_inputs(repository: Mapping[str, Any] | None) -> dict[str, Any]:
    """The inputs a mission's repository gives each of its coding steps.

    ``model`` (the endpoint its CLI reaches) and ``test_command`` (given, or detected when the
    mission was created), each only when the mission has one.
    """
    named = repository or {}
    return {key: named[key] for key in ("model", "test_command") if named.get(key) is not None}


def with_coding_steps(
    steps: list[StepSpec],
    draft: PlanDraft,
    agent: str,
    coding: Mapping[str, Any] | None = None,
    *,
    review: bool = False,
) -> list[StepSpec]:
    """``steps`` with each code task's step run by ``agent`` and followed by its merge step.

    Each coding step's inputs are its task's, ``task_key``, ``approval_mode``
    ``workspace-write`` and ``coding`` (the mission's ``model`` and ``test_command``). With
    ``review``, the review loop comes between the task's step and its merge
    (:func:`missionctl.planning.review_loop.review_loop_steps`).
    """
    code_tasks = {task.key for task in draft.tasks if task.role in CODE_ROLES}
    merged = {key: merge_step_id(key) for key in code_tasks}
    result: list[StepSpec] = []
    for step in steps:
        depends_on = [merged.get(dep, dep) for dep in step.depends_on]
        if step.id not in code_tasks:
            result.append(step.model_copy(update={"depends_on": depends_on}))
            continue
        inputs = {
            **step.inputs,
            **(coding or {}),
            "task_key": step.id,
            "approval_mode": "workspace-write",
        }
        result.append(
            step.model_copy(update={"agent": agent, "inputs": inputs, "depends_on": depends_on})
        )
        if review:
            result += review_loop_steps(result[-1], agent, coding or {})
            continue
        result.append(
            StepSpec(
                id=merged[step.id],
                agent=MERGE_AGENT,
                description=f"Merge the branch of {step.id} into the base, once its diff "
                "is approved.",
                inputs={"step": step.id, "title": merge_title(step.inputs.get("title", step.id))},
                depends_on=[step.id],
                risk_tier="irreversible",
                requires_approval=True,
                timeout_s=DEFAULT_TIMEOUT_S,
            )
        )
    return result


def _workflow_name(mission_title: str, mission_id: uuid.UUID | None) -> str:
    """The name of the workflow compiled for a mission: its title, and its id's end if given."""
    suffix = "" if mission_id is None else f" · {mission_id.hex[-8:]}"
    name = " ".join(mission_title.split()) or "Mission plan"
    if workflow_name_problem(name + suffix) is not None:
        # A mission may be called anything, but its workflow's name is an address: spaced
        # slashes keep the title readable and leave no part the name rules refuse.
        name = "Plan: " + name.replace("/", " / ")
    room = _NAME_MAX_CHARS - len(suffix)
    if len(name) > room:
        name = name[: room - 1].rstrip() + "…"
    return name + suffix
