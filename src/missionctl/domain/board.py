"""The task board's columns: where a task stands, as the engine's record says (ADR 0100).

A card is a task of a mission's newest plan, with the state of its step in the run that runs
that plan (the mission page's tasks, ``merge_tasks``). The engine owns the states, so a column
is derived, never set: a card moves when its step does.
"""

from collections.abc import Mapping
from typing import Final, Literal

from missionctl.domain.states import StepRunStatus

Column = Literal[
    "planned", "queued", "running", "awaiting_approval", "blocked", "failed", "canceled", "done"
]
COLUMNS: Final[tuple[Column, ...]] = (
    "planned",
    "queued",
    "running",
    "awaiting_approval",
    "blocked",
    "failed",
    "canceled",
    "done",
)
"""The columns, left to right, as work moves.

Each column's name claims no more than its steps did: "failed" holds failures only, "done"
successes only; a step that was canceled or skipped ended without doing its work and without
failing at it, so it has a column of its own between them.
"""

COLUMN_LABELS: Final[Mapping[Column, str]] = {
    "planned": "Planned",
    "queued": "Queued",
    "running": "Running",
    "awaiting_approval": "Awaiting approval",
    "blocked": "Blocked",
    "failed": "Failed",
    "canceled": "Canceled or skipped",
    "done": "Done",
}

_BY_STATUS: Final[Mapping[StepRunStatus, Column]] = {
    StepRunStatus.waiting: "queued",
    StepRunStatus.queued: "queued",
    StepRunStatus.running: "running",
    StepRunStatus.awaiting_approval: "awaiting_approval",
    StepRunStatus.blocked: "blocked",
    StepRunStatus.failed: "failed",
    StepRunStatus.canceled: "canceled",
    StepRunStatus.skipped: "canceled",
    StepRunStatus.succeeded: "done",
}


def column_of(status: StepRunStatus | None) -> Column:
    """The column of a task whose step is in ``status`` (``None``: no run has it yet)."""
    return "planned" if status is None else _BY_STATUS[status]
