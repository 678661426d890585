"""State machines of missions, runs and step runs, written as data.

Each machine is a :class:`StateMachine`: an initial state, the set of final states and an
ordered table of small :class:`TransitionRule` objects, each naming the source states it leaves,
the one target state it reaches and why the move exists. Nothing else in Mission Control decides
whether a status may change: services call :func:`transition` (or take a rule by name with
:meth:`StateMachine.rule`) before they write a status column, record the event type the rule
names, and guard their ``UPDATE`` with the rule's source states.

The tables follow the engine semantics of the README and docs/events.md. In short:

- a **mission** is drafted, planned, run, and may be planned or run again after it completed or
  failed; a planner that cannot plan it as written asks questions instead, and the mission
  waits in ``needs_clarification`` until they are answered (ADR 0035); only ``canceled`` is
  final;
- a **run** ends ``completed``, ``aborted`` or ``canceled`` for good; a ``failed`` run can continue
  when one of its failed steps is retried in place (a rerun from the failure is a new run);
- a **step run** is final once ``succeeded``, ``skipped`` or ``canceled``; ``failed`` and
  ``blocked`` can still move because a step can be retried.

No machine allows a self-transition: asking to move to the current state is an error like any
other illegal move, so a caller that repeats a command learns that nothing happened.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, Generic, TypeVar, cast

from missionctl.domain import events as ev
from missionctl.errors import InvalidTransition

__all__ = [
    "MISSION",
    "RUN",
    "STEP_RUN",
    "MissionStatus",
    "RunStatus",
    "StateMachine",
    "StepRunStatus",
    "TransitionRule",
    "transition",
]


class MissionStatus(StrEnum):
    """Where a mission is between its submission and its end."""

    draft = "draft"
    planning = "planning"
    needs_clarification = "needs_clarification"
    planned = "planned"
    running = "running"
    completed = "completed"
    failed = "failed"
    canceled = "canceled"


class RunStatus(StrEnum):
    """Where one execution of a workflow is."""

    pending = "pending"
    running = "running"
    paused = "paused"
    completed = "completed"
    failed = "failed"
    aborted = "aborted"
    canceled = "canceled"


ENDED_RUN_STATUSES: Final = frozenset(
    {RunStatus.completed, RunStatus.failed, RunStatus.aborted, RunStatus.canceled}
)
"""Statuses of a run whose steps are not going on (a failed run may still be continued)."""


class StepRunStatus(StrEnum):
    """Where one step of one run is."""

    waiting = "waiting"
    queued = "queued"
    running = "running"
    awaiting_approval = "awaiting_approval"
    succeeded = "succeeded"
    failed = "failed"
    blocked = "blocked"
    skipped = "skipped"
    canceled = "canceled"


S = TypeVar("S", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class TransitionRule(Generic[S]):
    """One allowed move: from any of ``sources`` to ``target``.

    Attributes:
        name: Short verb naming the move, unique within its machine (``"start_planning"``).
        sources: The states this rule leaves from; never empty. The fast path's SQL guards
            (``WHERE status IN sources``) are built from them.
        target: The single state this rule reaches.
        description: One line saying when and why the move happens.
        event: The type of the event recorded when the move happens (``"step.queued"``), as
            docs/events.md lists it; its payload carries ``target`` as ``status``. Every rule
            of Mission Control's machines names one; a machine only asked whether a move is
            allowed may leave it empty.
        status: ``target``'s value as a plain string, the ``status`` of the event's payload
            (read once here: an enum member's ``.value`` is a descriptor call, on every event).
    """

    name: str
    sources: frozenset[S]
    target: S
    description: str
    event: str = ""
    status: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", str(self.target.value))


@dataclass(frozen=True)
class StateMachine(Generic[S]):
    """A state machine as data: states come from the enum of ``initial``.

    Construction checks the table, so every instance in the program is well formed:

    - rule names are unique and every rule has at least one source;
    - every state belongs to the enum of ``initial``;
    - no two rules share an edge ``(source, target)``, so :meth:`rule_for` is unambiguous;
    - ``terminal`` is exactly the set of states with no outgoing rule.

    Attributes:
        name: The machine's name as it appears in error messages (``"mission"``, ``"run"``).
        initial: The state every new entity starts in.
        terminal: The final states: those no rule leaves from.
        rules: The ordered table of allowed moves.

    Raises:
        ValueError: If the table breaks one of the rules above (a programming error).
    """

    name: str
    initial: S
    terminal: frozenset[S]
    rules: tuple[TransitionRule[S], ...]
    _edges: Mapping[tuple[S, S], TransitionRule[S]] = field(init=False, repr=False, compare=False)
    _by_name: Mapping[str, TransitionRule[S]] = field(init=False, repr=False, compare=False)
    _targets: Mapping[S, tuple[S, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        states = self.states
        edges: dict[tuple[S, S], TransitionRule[S]] = {}
        names: set[str] = set()
        for rule in self.rules:
            if rule.name in names:
                raise ValueError(f"{self.name}: rule name {rule.name!r} is used twice")
            names.add(rule.name)
            if not rule.sources:
                raise ValueError(f"{self.name}: rule {rule.name!r} has no source state")
            for state in (*rule.sources, rule.target):
                if state not in states or type(state) is not type(self.initial):
                    raise ValueError(
                        f"{self.name}: rule {rule.name!r} uses {state!r}, "
                        f"which is not a {type(self.initial).__name__}"
                    )
            for source in rule.sources:
                other = edges.setdefault((source, rule.target), rule)
                if other is not rule:
                    raise ValueError(
                        f"{self.name}: rules {other.name!r} and {rule.name!r} both allow "
                        f"{source} → {rule.target}"
                    )
        targets = {
            source: tuple(target for target in states if (source, target) in edges)
            for source in states
        }
        final = frozenset(state for state in states if not targets[state])
        if self.terminal != final:
            raise ValueError(
                f"{self.name}: terminal is {_names(_ordered(self.terminal, states))} but the "
                f"states with no outgoing rule are {_names(_ordered(final, states))}"
            )
        object.__setattr__(self, "_edges", MappingProxyType(edges))
        object.__setattr__(self, "_by_name", MappingProxyType({r.name: r for r in self.rules}))
        object.__setattr__(self, "_targets", MappingProxyType(targets))

    @property
    def states(self) -> tuple[S, ...]:
        """Every state of the machine, in the enum's declaration order."""
        return tuple(type(self.initial))

    def allowed_targets(self, state: S | str) -> frozenset[S]:
        """Return the states reachable from ``state`` in one move (empty when final)."""
        return frozenset(self._targets[self.coerce(state)])

    def can(self, state: S | str, target: S | str) -> bool:
        """Return whether a rule allows moving from ``state`` to ``target``."""
        return self.rule_for(state, target) is not None

    def rule(self, name: str) -> TransitionRule[S]:
        """Return the rule called ``name``: a move whose source is known only to the database.

        Raises:
            KeyError: If the machine has no such rule (a programming error).
        """
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"{self.name} has no rule {name!r}") from None

    def rule_for(self, state: S | str, target: S | str) -> TransitionRule[S] | None:
        """Return the rule that allows ``state`` → ``target``, or ``None`` when none does."""
        # A StrEnum member hashes and compares as its value, so states given as members or as
        # plain strings find their rule directly; coercing is only needed to explain a miss
        # (the engine checks thousands of moves a second).
        rule = self._edges.get(cast("tuple[S, S]", (state, target)))
        if rule is not None:
            return rule
        return self._edges.get((self.coerce(state), self.coerce(target)))

    def coerce(self, value: Any) -> S:
        """Return the machine's state whose value equals ``value``.

        Accepts a member of this machine's enum, its string value (as read from a database or
        a request), or a member of another ``StrEnum`` with the same value, which is how
        ``MissionStatus.running`` passed to the run machine becomes ``RunStatus.running``
        instead of silently comparing equal to it.

        Raises:
            InvalidTransition: If no state of this machine has that value.
        """
        states_enum = type(self.initial)
        try:
            return states_enum(value)
        except ValueError:
            raise InvalidTransition(
                f"{self.name} has no state {str(value)!r}; its states are: {_names(self.states)}"
            ) from None


def transition(machine: StateMachine[S], current: S | str, target: S | str) -> TransitionRule[S]:
    """Check one move of ``machine`` and return the rule that allows it.

    This is the single gate for status changes: call it before writing a status, and record
    the event type the returned rule names (``rule.event``). It has no side effects.

    Args:
        machine: The state machine (``MISSION``, ``RUN`` or ``STEP_RUN``).
        current: The state the entity is in now.
        target: The state asked for.

    Returns:
        The rule whose sources contain ``current`` and whose target is ``target``.

    Raises:
        InvalidTransition: If no rule allows the move (moving to the current state included),
            or if either state is not a state of ``machine``. The message names the machine,
            both states and the states that *are* reachable from ``current``, e.g.
            ``"run cannot go from completed to running; from completed it can go to:
            (none, completed is final)"``.
    """
    rule = machine.rule_for(current, target)
    if rule is not None:
        return rule
    source, goal = machine.coerce(current), machine.coerce(target)
    allowed = _ordered(machine.allowed_targets(source), machine.states)
    options = _names(allowed) if allowed else f"(none, {source} is final)"
    raise InvalidTransition(
        f"{machine.name} cannot go from {source} to {goal}; from {source} it can go to: {options}"
    )


def _ordered(states: Iterable[S], order: tuple[S, ...]) -> tuple[S, ...]:
    """Return ``states`` in the machine's declaration order (sets have none)."""
    wanted = set(states)
    return tuple(state for state in order if state in wanted)


def _names(states: Iterable[StrEnum]) -> str:
    return ", ".join(str(state) for state in states)


_M = MissionStatus

MISSION: StateMachine[MissionStatus] = StateMachine(
    name="mission",
    initial=_M.draft,
    terminal=frozenset({_M.canceled}),
    rules=(
        TransitionRule(
            "start_planning",
            frozenset({_M.draft, _M.planned, _M.failed, _M.completed}),
            _M.planning,
            "Hand the mission to the planner; from planned, failed or completed it plans again.",
            event=ev.MISSION_PLANNING,
        ),
        TransitionRule(
            "finish_planning",
            frozenset({_M.planning}),
            _M.planned,
            "The planner returned a plan that passed validation; it waits to be run.",
            event=ev.MISSION_PLANNED,
        ),
        TransitionRule(
            "fail_planning",
            frozenset({_M.planning}),
            _M.failed,
            "The planner gave up or could not produce a valid plan.",
            event=ev.MISSION_FAILED,
        ),
        TransitionRule(
            "ask_questions",
            frozenset({_M.planning}),
            _M.needs_clarification,
            "The planner cannot plan the mission as written (its goal names nothing to plan, or "
            "is in a language the planner does not read) and asks questions instead.",
            event=ev.MISSION_NEEDS_CLARIFICATION,
        ),
        TransitionRule(
            "resume_planning",
            frozenset({_M.needs_clarification}),
            _M.planning,
            "The planner's questions were answered, or the mission is planned again as it is "
            "(with a model, say, which reads any language).",
            event=ev.MISSION_PLANNING,
        ),
        TransitionRule(
            "start_run",
            frozenset({_M.planned, _M.completed}),
            _M.running,
            "A run of the plan's workflow started; a completed mission may run its plan again.",
            event=ev.MISSION_RUNNING,
        ),
        TransitionRule(
            "rerun",
            frozenset({_M.failed}),
            _M.running,
            "A new run starts from the failed step, reusing the outputs of succeeded steps.",
            event=ev.MISSION_RUNNING,
        ),
        TransitionRule(
            "complete",
            frozenset({_M.running}),
            _M.completed,
            "The mission's run completed; the mission can still be planned again.",
            event=ev.MISSION_COMPLETED,
        ),
        TransitionRule(
            "fail",
            frozenset({_M.running}),
            _M.failed,
            "The mission's run failed or was aborted; the mission can be rerun or re-planned.",
            event=ev.MISSION_FAILED,
        ),
        TransitionRule(
            "cancel",
            frozenset(
                {_M.draft, _M.planning, _M.needs_clarification, _M.planned, _M.running, _M.failed}
            ),
            _M.canceled,
            "The user abandoned the mission; nothing more is planned or run for it.",
            event=ev.MISSION_CANCELED,
        ),
    ),
)

_R = RunStatus

RUN: StateMachine[RunStatus] = StateMachine(
    name="run",
    initial=_R.pending,
    terminal=frozenset({_R.completed, _R.aborted, _R.canceled}),
    rules=(
        TransitionRule(
            "start",
            frozenset({_R.pending}),
            _R.running,
            "The DAG and the budget check passed; steps may be dispatched.",
            event=ev.RUN_STARTED,
        ),
        TransitionRule(
            "fail_before_dispatch",
            frozenset({_R.pending}),
            _R.failed,
            "The estimate exceeds the budget cap (budget.exceeded); no step was dispatched.",
            event=ev.RUN_FAILED,
        ),
        TransitionRule(
            "pause",
            frozenset({_R.running}),
            _R.paused,
            "Dispatch is suspended; steps already running may finish.",
            event=ev.RUN_PAUSED,
        ),
        TransitionRule(
            "resume",
            frozenset({_R.paused}),
            _R.running,
            "Dispatch continues where the pause left it.",
            event=ev.RUN_RESUMED,
        ),
        TransitionRule(
            "complete",
            frozenset({_R.running}),
            _R.completed,
            "Every step succeeded or was skipped.",
            event=ev.RUN_COMPLETED,
        ),
        TransitionRule(
            "fail",
            frozenset({_R.running, _R.paused}),
            _R.failed,
            "A step failed with no retry left, or the budget ran out.",
            event=ev.RUN_FAILED,
        ),
        TransitionRule(
            "retry",
            frozenset({_R.failed}),
            _R.running,
            "A failed step is retried in place; the run continues from where it stopped.",
            event=ev.RUN_RESUMED,
        ),
        TransitionRule(
            "cancel",
            frozenset({_R.pending, _R.running, _R.paused}),
            _R.canceled,
            "A user canceled the run: dispatch stops and running steps are canceled.",
            event=ev.RUN_CANCELED,
        ),
        TransitionRule(
            "abort",
            frozenset({_R.pending, _R.running, _R.paused}),
            _R.aborted,
            "The emergency stop or an operator abort halted the run at once.",
            event=ev.RUN_ABORTED,
        ),
    ),
)

_T = StepRunStatus

STEP_RUN: StateMachine[StepRunStatus] = StateMachine(
    name="step_run",
    initial=_T.waiting,
    terminal=frozenset({_T.succeeded, _T.skipped, _T.canceled}),
    rules=(
        TransitionRule(
            "queue",
            frozenset({_T.waiting}),
            _T.queued,
            "Every dependency succeeded or was skipped and the `when` condition holds.",
            event=ev.STEP_QUEUED,
        ),
        TransitionRule(
            "request_approval",
            frozenset({_T.queued}),
            _T.awaiting_approval,
            "The approval policy wants a named human to decide before dispatch.",
            event=ev.APPROVAL_REQUESTED,
        ),
        TransitionRule(
            "approve",
            frozenset({_T.awaiting_approval}),
            _T.queued,
            "An approver allowed the step; it goes back in the queue to be claimed.",
            event=ev.APPROVAL_APPROVED,
        ),
        TransitionRule(
            "reject",
            frozenset({_T.awaiting_approval}),
            _T.failed,
            "An approver rejected the step.",
            event=ev.APPROVAL_REJECTED,
        ),
        TransitionRule(
            "reject_and_skip",
            frozenset({_T.awaiting_approval}),
            _T.skipped,
            "An approver rejected the step and its policy says to skip it and go on.",
            event=ev.APPROVAL_REJECTED,
        ),
        TransitionRule(
            "fail_to_start",
            frozenset({_T.waiting, _T.queued}),
            _T.failed,
            "Its `when` condition or an input template could not be evaluated, so it cannot run.",
            event=ev.STEP_FAILED,
        ),
        TransitionRule(
            "claim",
            frozenset({_T.queued}),
            _T.running,
            "A worker claimed the step and holds its lease while the agent runs.",
            event=ev.STEP_STARTED,
        ),
        TransitionRule(
            "succeed",
            frozenset({_T.running}),
            _T.succeeded,
            "The agent finished and its outputs were recorded.",
            event=ev.STEP_SUCCEEDED,
        ),
        TransitionRule(
            "fail",
            frozenset({_T.running}),
            _T.failed,
            "The agent failed, timed out or ran over budget, with no automatic retry left.",
            event=ev.STEP_FAILED,
        ),
        TransitionRule(
            "requeue",
            frozenset({_T.running}),
            _T.queued,
            "The retry policy retries the step, or its lease expired; attempt + 1 is queued.",
            event=ev.STEP_RETRY_SCHEDULED,
        ),
        TransitionRule(
            "retry",
            frozenset({_T.failed}),
            _T.queued,
            "A user retried the failed step by hand; a new attempt is queued.",
            event=ev.STEP_RETRIED,
        ),
        TransitionRule(
            "block",
            frozenset({_T.waiting, _T.queued}),
            _T.blocked,
            "An upstream step failed, so this one cannot run unless that step is retried.",
            event=ev.STEP_BLOCKED,
        ),
        TransitionRule(
            "unblock",
            frozenset({_T.blocked}),
            _T.waiting,
            "The failed upstream step is being retried; this one waits for it again.",
            event=ev.STEP_UNBLOCKED,
        ),
        TransitionRule(
            "skip",
            frozenset({_T.waiting, _T.queued, _T.blocked}),
            _T.skipped,
            "The step will not run: its `when` condition is false or the run gave up on it.",
            event=ev.STEP_SKIPPED,
        ),
        TransitionRule(
            "cancel",
            frozenset({_T.waiting, _T.queued, _T.awaiting_approval, _T.running, _T.blocked}),
            _T.canceled,
            "The run was canceled or aborted; a running agent call is canceled.",
            event=ev.STEP_CANCELED,
        ),
    ),
)
