"""Planners (LLM and local) and the compilation of a plan into a workflow.

- :class:`Planner` is the port: ``await planner.plan(PlanningInput(...)) -> PlannerResult``,
  or :class:`ClarificationNeeded` with questions when the mission cannot be planned as written.
- :class:`LocalPlanner` plans without a model (deterministic rules per kind of software).
- :class:`LLMPlanner` asks a model and holds its answer to the plan rules, with repairs.
- :func:`compile_plan` turns a plan into a :class:`WorkflowSpec` for the engine.
"""

from missionctl.llm.protocol import LLMClient
from missionctl.planning.base import (
    LOCAL_SOURCE,
    Answer,
    ClarificationNeeded,
    Planner,
    PlannerResult,
    PlanningInput,
)
from missionctl.planning.compile import AgentKind, agent_kind_for, coding_inputs, compile_plan
from missionctl.planning.llm_planner import LLMPlanner, PlanRejected
from missionctl.planning.local import LOCAL_PLANNER_VERSION, LocalPlanner, build_local_plan
from missionctl.planning.prompts import PLANNER_PROMPT_VERSION
from missionctl.planning.workflow_spec import (
    RetrySpec,
    StepSpec,
    WorkflowSpec,
    validate_workflow,
)

__all__ = [
    "LOCAL_PLANNER_VERSION",
    "LOCAL_SOURCE",
    "PLANNER_PROMPT_VERSION",
    "AgentKind",
    "Answer",
    "ClarificationNeeded",
    "LLMPlanner",
    "LocalPlanner",
    "PlanRejected",
    "Planner",
    "PlannerResult",
    "PlanningInput",
    "RetrySpec",
    "StepSpec",
    "WorkflowSpec",
    "agent_kind_for",
    "build_local_plan",
    "coding_inputs",
    "compile_plan",
    "make_planner",
    "validate_workflow",
]


def make_planner(client: LLMClient | None, *, max_repairs: int = 2, stream: bool = True) -> Planner:
    """The planner to use: the LLM planner when a client is configured, else the local one.

    ``stream``: whether the LLM planner streams its replies to show the draft as it is written.
    """
    if client is None:
        return LocalPlanner()
    return LLMPlanner(client, max_repairs=max_repairs, stream=stream)
