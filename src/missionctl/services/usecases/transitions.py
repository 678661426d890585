"""The event of a status change, taken from the rule of the state machine that allows it.

A service moves a mission, run or step run in three steps: it asks the domain for the rule
(``transition(machine, current, target)``, or ``machine.rule(name)`` when only the database
knows the current state and the ``UPDATE`` is guarded by the rule's sources), writes
``rule.target``, and records :func:`moved`. No service names the event type of a status
change by hand, so the table in ``domain.states`` and the log cannot disagree.
"""

import uuid
from typing import Any, Protocol

from missionctl.domain.outcomes import outcome_of_status
from missionctl.domain.states import StepRunStatus, TransitionRule
from missionctl.eventlog import NewEvent

__all__ = ["moved", "step_moved"]


def moved(
    rule: TransitionRule[Any],
    *,
    actor: str,
    mission_id: uuid.UUID | None = None,
    run_id: uuid.UUID | None = None,
    step_id: str | None = None,
    **payload: Any,
) -> NewEvent:
    """The event recording ``rule``: its type, and its target as the payload's ``status``.

    ``payload`` holds the rest of the event's fields as docs/events.md lists them
    (``attempt``, ``error``, …); ``status`` comes first, as the replay rule reads it. A step's
    move to ``failed``, ``skipped`` or ``canceled`` carries its ``outcome`` too, which that
    state decides alone (``domain.outcomes``); a success names its own (``outcome=…``).
    """
    ended = outcome_of_status(rule.status) if isinstance(rule.target, StepRunStatus) else None
    if ended is not None:
        payload = {"outcome": ended, **payload}
    return NewEvent(
        type=rule.event,
        actor=actor,
        mission_id=mission_id,
        run_id=run_id,
        step_id=step_id,
        payload={"status": rule.status, **payload},
    )


class _RunRef(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def mission_id(self) -> uuid.UUID | None: ...


class _StepRef(Protocol):
    @property
    def step_id(self) -> str: ...
    @property
    def attempt(self) -> int: ...


def step_moved(
    rule: TransitionRule[Any], *, actor: str, run: _RunRef, step: _StepRef, **payload: Any
) -> NewEvent:
    """The event of ``step``'s move by ``rule``: :func:`moved` with the step's run and attempt."""
    return moved(
        rule,
        actor=actor,
        run_id=run.id,
        mission_id=run.mission_id,
        step_id=step.step_id,
        attempt=step.attempt,
        **payload,
    )
