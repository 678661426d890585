"""Replay: fold a run's events into its state, as of any event (pure).

``replay_run_events`` is the one fold. Folded to the end, its ``state()`` (run status, each step
run's status and attempt) must equal the stored projection; the test suite checks that for
every run any test creates (``fold_run``). Stopped at an event (``at``), it is the run as it was
just after that event: every step's status and attempt, the attempts with their times, usage
and errors, and the approval decisions, all from the events alone.

What events do not carry is not rebuilt here: a step's rendered inputs and final outputs live
on its step run; a reader shows them beside the fold (inputs once the step has started,
outputs once it has succeeded).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from missionctl.domain import events as ev

FINISHED_STEP_STATUSES = frozenset({"succeeded", "failed", "skipped", "canceled"})
"""Step statuses after which the step does nothing more (unless a person retries it)."""

UNFOLDED_TYPES = frozenset({ev.STEP_LOG, ev.STEP_INPUT})
"""Event types the fold reads nothing from (they carry no ``status``, and no case takes them).

A reader that wants only the snapshot's steps and attempts may leave them out of what it folds:
they are a run's most numerous and largest events (log lines, model inputs). Its ``folded``
and ``at_seq`` then count only the events it read.
"""

# Events that end the attempt in progress, and the outcome they give it.
_ATTEMPT_ENDS = {
    ev.STEP_SUCCEEDED: "succeeded",
    ev.STEP_FAILED: "failed",
    ev.STEP_RETRY_SCHEDULED: "failed",
    ev.STEP_LEASE_EXPIRED: "lost",
    ev.STEP_CANCELED: "canceled",
}


class RunEvent(Protocol):
    """What the fold reads of an event."""

    @property
    def seq(self) -> int: ...  # noqa: D102

    @property
    def ts(self) -> datetime: ...  # noqa: D102

    @property
    def type(self) -> str: ...  # noqa: D102

    @property
    def actor(self) -> str: ...  # noqa: D102

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


@dataclass(slots=True)
class AttemptRecord:
    """One attempt of a step: when it ran, what it spent, how it ended (``None``: not yet).

    ``outcome`` is ``succeeded``, ``failed`` (for good or retried), ``lost`` (its worker stopped
    heartbeating) or ``canceled``. Tokens of an attempt still running are those its last
    ``step.usage`` showed; its end replaces them with what was charged.
    """

    attempt: int
    started_at: datetime
    started_seq: int
    ended_at: datetime | None = None
    duration_ms: int | None = None
    outcome: str | None = None
    error: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_micros: int = 0


@dataclass(frozen=True, slots=True)
class ApprovalDecision:
    """A person's decision on a gated step: who, when, approve or reject, and why."""

    seq: int
    step_id: str
    approval_id: str | None
    approved: bool
    decided_by: str
    decided_at: datetime
    reason: str
    decided_by_user: str | None = None


@dataclass(slots=True)
class StepSnapshot:
    """A step as of an event: its state, its attempts, what it spent, its latest error."""

    status: str = "waiting"
    attempt: int = 1
    error: str | None = None
    reused_from: str | None = None
    approval_requested: bool = False
    attempts: list[AttemptRecord] = field(default_factory=list)

    @property
    def started(self) -> bool:
        """Whether an attempt began (or the step's outputs were reused from an earlier run)."""
        return bool(self.attempts) or self.reused_from is not None

    @property
    def finished(self) -> bool:
        """Whether the step is in a final status."""
        return self.status in FINISHED_STEP_STATUSES

    @property
    def input_tokens(self) -> int:
        """Input tokens of every attempt."""
        return sum(a.input_tokens for a in self.attempts)

    @property
    def output_tokens(self) -> int:
        """Output tokens of every attempt."""
        return sum(a.output_tokens for a in self.attempts)

    @property
    def cost_micros(self) -> int:
        """Micro-dollars charged for every attempt."""
        return sum(a.cost_micros for a in self.attempts)

    @property
    def duration_ms(self) -> int:
        """Milliseconds the ended attempts took."""
        return sum(a.duration_ms or 0 for a in self.attempts)

    def open_attempt(self) -> AttemptRecord | None:
        """The attempt in progress, if one is."""
        last = self.attempts[-1] if self.attempts else None
        return last if last is not None and last.outcome is None else None


@dataclass(slots=True)
class RunSnapshot:
    """A run as of its last folded event (``at_seq``; ``None`` when no event was folded)."""

    status: str | None = None
    steps: dict[str, StepSnapshot] = field(default_factory=dict)
    decisions: list[ApprovalDecision] = field(default_factory=list)
    at_seq: int | None = None
    folded: int = 0

    def state(self) -> RunState:
        """The projection the store keeps: run status, each step's status and attempt."""
        return RunState(
            status=self.status,
            steps={sid: StepState(s.status, s.attempt) for sid, s in self.steps.items()},
        )


def replay_run_events(events: Iterable[RunEvent], *, at: int | None = None) -> RunSnapshot:
    """Fold a run's events, in ``seq`` order, up to and including the event with seq ``at``.

    ``at=None`` folds them all; an ``at`` between two of the run's events stops after the
    earlier one. Events without a ``status`` change no status; the rest of what the snapshot
    holds comes from the step and approval events that carry it (docs/events.md).
    """
    snapshot = RunSnapshot()
    for event in events:
        if at is not None and event.seq > at:
            break
        _apply(snapshot, event)
        snapshot.at_seq = event.seq
        snapshot.folded += 1
    return snapshot


def fold_run(events: Iterable[RunEvent]) -> RunState:
    """Apply all of a run's events in ``seq`` order; the run's status and its steps' states."""
    return replay_run_events(events).state()


def _apply(snapshot: RunSnapshot, event: RunEvent) -> None:
    payload = event.payload
    if event.type == ev.RUN_CREATED:
        snapshot.steps = {step: StepSnapshot() for step in payload.get("steps", [])}
    if event.step_id is None:
        status = payload.get("status")
        if status is not None:
            snapshot.status = str(status)
        return
    step = snapshot.steps.get(event.step_id)
    if step is None:
        if "status" not in payload:
            return  # as the store: a step exists once run.created or a status names it
        step = snapshot.steps[event.step_id] = StepSnapshot()
    _apply_to_step(step, event)
    if event.type in (ev.APPROVAL_APPROVED, ev.APPROVAL_REJECTED):
        snapshot.decisions.append(_decision(event))


def _apply_to_step(step: StepSnapshot, event: RunEvent) -> None:
    """Move one step by one of its events: status and attempt first, then what else it says."""
    payload = event.payload
    status = payload.get("status")
    if status is not None:
        step.status = str(status)
        step.attempt = int(payload.get("attempt", step.attempt))
    if event.type == ev.STEP_STARTED:
        step.attempts.append(
            AttemptRecord(attempt=step.attempt, started_at=event.ts, started_seq=event.seq)
        )
    elif event.type == ev.STEP_USAGE:
        current = step.open_attempt()
        if current is not None:
            current.input_tokens = int(payload.get("input_tokens", 0))
            current.output_tokens = int(payload.get("output_tokens", 0))
    elif event.type in _ATTEMPT_ENDS:
        _end_attempt(step, event, _ATTEMPT_ENDS[event.type])
    elif event.type == ev.STEP_RETRIED:
        step.error = None  # a person queued it again, with a clean slate
    elif event.type == ev.STEP_REUSED:
        step.reused_from = str(payload.get("from_run", "")) or None
    elif event.type == ev.APPROVAL_REQUESTED:
        step.approval_requested = True
    elif event.type == ev.APPROVAL_REJECTED:
        step.error = _rejection(event)


def _end_attempt(step: StepSnapshot, event: RunEvent, outcome: str) -> None:
    """Close the attempt in progress with what ``event`` says; the step keeps its error."""
    payload = event.payload
    error = payload.get("error")
    step.error = None if error is None else str(error)
    current = step.open_attempt()
    if current is None:
        return  # e.g. a step canceled or failed before it ever started
    current.ended_at = event.ts
    current.outcome = outcome
    current.error = step.error
    if "duration_ms" in payload:
        current.duration_ms = int(payload["duration_ms"])
    else:
        elapsed = event.ts - current.started_at
        current.duration_ms = max(0, int(elapsed.total_seconds() * 1000))
    if "cost_micros" in payload:  # what was charged replaces what was shown while running
        current.input_tokens = int(payload.get("input_tokens", 0))
        current.output_tokens = int(payload.get("output_tokens", 0))
        current.cost_micros = int(payload["cost_micros"])


def _decision(event: RunEvent) -> ApprovalDecision:
    payload = event.payload
    approval_id = payload.get("approval_id")
    return ApprovalDecision(
        seq=event.seq,
        step_id=str(event.step_id),
        approval_id=None if approval_id is None else str(approval_id),
        approved=event.type == ev.APPROVAL_APPROVED,
        decided_by=str(payload.get("decided_by") or event.actor),
        decided_at=event.ts,
        reason=str(payload.get("reason") or ""),
        decided_by_user=str(payload["decided_by_user"]) if payload.get("decided_by_user") else None,
    )


def _rejection(event: RunEvent) -> str:
    reason = str(event.payload.get("reason") or "")
    who = str(event.payload.get("decided_by") or event.actor)
    return f"rejected by {who}" + (f": {reason}" if reason else "")
