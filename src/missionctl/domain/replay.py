"""Replay: fold a run's events into its state (pure).

The result must equal the stored projection (``runs.status`` and each step run's status and
attempt); the test suite checks that for every run any test creates.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from missionctl.domain.events import RUN_CREATED


class RunEvent(Protocol):
    """What the fold reads of an event."""

    @property
    def type(self) -> str: ...  # noqa: D102

    @property
    def step_id(self) -> str | None: ...  # noqa: D102

    @property
    def payload(self) -> Mapping[str, Any]: ...  # noqa: D102


@dataclass(frozen=True, slots=True)
class StepState:
    """A step's status and attempt."""

    status: str
    attempt: int


@dataclass(slots=True)
class RunState:
    """A run's status and its steps' states."""

    status: str | None = None
    steps: dict[str, StepState] = field(default_factory=dict)


def fold_run(events: Iterable[RunEvent]) -> RunState:
    """Apply a run's events in ``seq`` order; events without a ``status`` change nothing."""
    state = RunState()
    for event in events:
        payload = event.payload
        if event.type == RUN_CREATED:
            state.steps = {step: StepState("waiting", 1) for step in payload.get("steps", [])}
        status = payload.get("status")
        if status is None:
            continue
        if event.step_id is None:
            state.status = str(status)
            continue
        previous = state.steps.get(event.step_id, StepState("waiting", 1))
        attempt = int(payload.get("attempt", previous.attempt))
        state.steps[event.step_id] = StepState(str(status), attempt)
    return state
