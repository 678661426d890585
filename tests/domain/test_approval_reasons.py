"""A step's own ``approval_reason`` is what an approver reads first, and it decides nothing."""

from typing import Any

from missionctl.domain.governance import ProgramRule, step_gate
from missionctl.domain.workflows import DEFAULT_APPROVALS, WorkflowDag, step_def

WAITS = "waits for approval: the plan marks the task irreversible"
LISTED = {"make": ProgramRule(tier="read")}


def _step(**fields: Any) -> dict[str, Any]:
    return {"id": "ship", "agent": "command", "inputs": {"argv": ["make"]}, **fields}


def test_a_step_gated_by_its_definition_gives_its_own_reason_first() -> None:
    step = step_def(_step(requires_approval=True, approval_reason=WAITS), DEFAULT_APPROVALS)
    gate = step_gate(step, step.inputs, LISTED)
    assert gate.gated
    assert gate.reason == f"{WAITS}; the workflow's approval policy gates it"


def test_a_document_writer_gated_by_its_definition_gives_its_reason_alone() -> None:
    raw = {"id": "notes", "agent": "builtin:release", "requires_approval": True}
    step = step_def({**raw, "approval_reason": WAITS}, DEFAULT_APPROVALS)
    assert step_gate(step, {}, {}).reason == f"{WAITS}; the workflow's approval policy gates it"


def test_the_reason_of_a_step_that_runs_ungated_is_not_put_on_a_gate_it_did_not_ask_for() -> None:
    # A program nobody allowed waits whatever its definition says; "no approval" would be false.
    told = "no approval: this step only writes documents"
    step = step_def(_step(requires_approval=False, approval_reason=told), DEFAULT_APPROVALS)
    gate = step_gate(step, step.inputs, {})
    assert gate.gated and gate.reason is not None and told not in gate.reason


def test_a_reason_alone_gates_nothing() -> None:
    definition = {
        "name": "w",
        "approvals": {"read": False, "write": False, "irreversible": False},
        "steps": [{"id": "notes", "agent": "builtin:release", "approval_reason": "no approval"}],
    }
    step = WorkflowDag.from_definition(definition).steps["notes"]
    assert step.plain and not step_gate(step, {}, {}).gated
    assert step.approval_reason == "no approval"
