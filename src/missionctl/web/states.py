"""The words the pages use for states: one table, so one state reads the same everywhere.

A mission, a run and a step share several state names (``running``, ``failed``, ``canceled``);
each name has one word here, and every badge, stepper, list, filter and sentence takes its word
from :func:`state_label` (the ``label`` filter of the templates). A mission has no state of its
own for an emergency stop: its run is ``aborted`` and the mission is stored ``failed``. The
pages show such a mission as *Aborted*, like its run and its stepper (:func:`mission_state`).
While the emergency stop is on, nothing is dispatched: a mission or run that would read
*Running* (or *Not started*) reads *Halted*, since it waits for the stop's release
(:func:`shown_state`).
"""

from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType

from missionctl.domain.outcomes import OUTCOME_LABELS

STATE_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "draft": "Draft",
        "planning": "Planning",
        "needs_clarification": "Needs answers",
        "planned": "Planned",
        "pending": "Not started",
        "waiting": "Waiting",
        "queued": "Queued",
        "running": "Running",
        "paused": "Paused",
        "awaiting_approval": "Awaiting approval",
        "succeeded": "Succeeded",
        "completed": "Completed",
        "failed": "Failed",
        "blocked": "Blocked",
        "skipped": "Skipped",
        "aborted": "Aborted",
        "canceled": "Canceled",
        "halted": "Halted",
    }
)
"""State name → the word pages show for it (missions, runs and steps alike)."""

# (stored mission state, state of the run it shows) → the state the pages show for the mission.
MISSION_STATE_FROM_RUN: Mapping[tuple[str, str], str] = MappingProxyType(
    {("failed", "aborted"): "aborted"}
)

# Run and mission states that wait for dispatch: while the emergency stop is on they are halted.
HALTED_BY_STOP: frozenset[str] = frozenset({"pending", "running", "paused"})


def _name(value: object) -> str:
    return str(value.value) if isinstance(value, Enum) else str(value)


def state_label(value: object) -> str:
    """The word for a state (``awaiting_approval`` → ``Awaiting approval``).

    Any other enum value or string gets the same treatment as a label: underscores become
    spaces and the first letter is capitalised (``approved`` → ``Approved``).
    """
    name = _name(value)
    return STATE_WORDS.get(name) or name.replace("_", " ").capitalize()


_OUTCOME_WORDS: Mapping[str, str] = MappingProxyType(dict(OUTCOME_LABELS.items()))


def outcome_label(value: object) -> str:
    """The words for a step's outcome (``no_change`` → ``no change``; ``domain.outcomes``).

    Lower case on purpose: an outcome badge reads as what the step did (``documented``), not as
    a state of the engine (``Succeeded``).
    """
    name = _name(value)
    return _OUTCOME_WORDS.get(name) or name.replace("_", " ")


def dispatch_halted(controls: object | None) -> bool:
    """Whether ``controls`` (the emergency stop's state, or ``None`` when unknown) halt dispatch."""
    return bool(getattr(controls, "emergency_stop", False))


def shown_state(status: object, *, halted: bool = False) -> str:
    """The state a page shows for a run (or mission) in ``status``.

    Args:
        status: the stored state.
        halted: whether the emergency stop is on (nothing is dispatched).

    Returns:
        ``halted`` for a state that waits for dispatch while the stop is on, else ``status``.
    """
    name = _name(status)
    return "halted" if halted and name in HALTED_BY_STOP else name


def mission_state(status: object, run_status: object | None, *, halted: bool = False) -> str:
    """The state a page shows for a mission stored ``status`` whose run is ``run_status``.

    Args:
        status: the mission's stored state.
        run_status: the state of the run its page shows (its latest), or ``None`` without one.
        halted: whether the emergency stop is on.

    Returns:
        A state name of :data:`STATE_WORDS`: the stored state, unless the run's state says more
        (a mission failed because the emergency stop aborted its run is ``aborted``; a running
        mission while the stop is on is ``halted``).
    """
    name = shown_state(status, halted=halted)
    if run_status is None:
        return name
    return MISSION_STATE_FROM_RUN.get((name, _name(run_status)), name)
