"""The workflow definition contract that plans compile into.

The models live in :mod:`missionctl.schemas.workflows` (one contract for workflows written
by hand, compiled from a plan, stored in ``workflows.definition`` and read by the engine);
this module re-exports them for planning code and adds :func:`validate_workflow`, the graph
rules (unique ids, known dependencies, no cycles) that a JSON Schema cannot express.
"""

from missionctl.domain.dag import validate_dag
from missionctl.errors import Problem
from missionctl.schemas.workflows import ApprovalPolicy, RetrySpec, StepSpec, WorkflowSpec

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "ApprovalPolicy",
    "RetrySpec",
    "StepSpec",
    "WorkflowSpec",
    "validate_workflow",
]

DEFAULT_TIMEOUT_S = 600.0
"""Timeout of a compiled step."""


def validate_workflow(spec: WorkflowSpec) -> list[Problem]:
    """Return the graph problems of ``spec`` (fields ``steps.<i>.…``), or ``[]``."""
    return validate_dag(spec.steps)
