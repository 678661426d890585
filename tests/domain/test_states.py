"""The state machines: every (from, to) pair of every machine, generated from the data."""

from collections import deque
from enum import StrEnum
from itertools import product
from pathlib import Path
from typing import Any

import pytest

from missionctl.domain.states import (
    MISSION,
    RUN,
    STEP_RUN,
    MissionStatus,
    RunStatus,
    StateMachine,
    StepRunStatus,
    TransitionRule,
    transition,
)
from missionctl.errors import Conflict, InvalidTransition

MACHINES: list[StateMachine[Any]] = [MISSION, RUN, STEP_RUN]
machine_params = [pytest.param(machine, id=machine.name) for machine in MACHINES]


def edges_of(machine: StateMachine[Any]) -> dict[tuple[StrEnum, StrEnum], TransitionRule[Any]]:
    """The rule table flattened into edges, computed here independently of the machine."""
    return {(source, rule.target): rule for rule in machine.rules for source in rule.sources}


ALL_PAIRS = [
    pytest.param(machine, source, target, id=f"{machine.name}:{source}->{target}")
    for machine in MACHINES
    for source, target in product(machine.states, repeat=2)
]
ALL_RULES = [
    pytest.param(machine, rule, id=f"{machine.name}:{rule.name}")
    for machine in MACHINES
    for rule in machine.rules
]


def test_every_pair_of_every_machine_is_generated() -> None:
    expected = sum(len(machine.states) ** 2 for machine in MACHINES)
    assert len(ALL_PAIRS) == expected == 8 * 8 + 7 * 7 + 9 * 9


@pytest.mark.parametrize(("machine", "source", "target"), ALL_PAIRS)
def test_transition_accepts_exactly_the_edges_in_the_table(
    machine: StateMachine[Any], source: StrEnum, target: StrEnum
) -> None:
    rule = edges_of(machine).get((source, target))
    if rule is not None:
        assert transition(machine, source, target) is rule
        assert machine.can(source, target)
        assert machine.rule_for(source, target) is rule
        assert target in machine.allowed_targets(source)
        return
    with pytest.raises(InvalidTransition) as caught:
        transition(machine, source, target)
    message = str(caught.value)
    assert message.startswith(f"{machine.name} cannot go from {source} to {target}; ")
    assert caught.value.message == message
    assert not machine.can(source, target)
    assert machine.rule_for(source, target) is None
    assert target not in machine.allowed_targets(source)


@pytest.mark.parametrize(("machine", "source", "target"), ALL_PAIRS)
def test_rejection_lists_the_states_that_are_allowed(
    machine: StateMachine[Any], source: StrEnum, target: StrEnum
) -> None:
    if machine.can(source, target):
        return
    allowed = [state for state in machine.states if (source, state) in edges_of(machine)]
    expected = ", ".join(allowed) if allowed else f"(none, {source} is final)"
    with pytest.raises(InvalidTransition, match=r"it can go to: ") as caught:
        transition(machine, source, target)
    assert str(caught.value).endswith(f"from {source} it can go to: {expected}")


@pytest.mark.parametrize(("machine", "rule"), ALL_RULES)
def test_each_rule_is_well_formed_and_applies_from_each_source(
    machine: StateMachine[Any], rule: TransitionRule[Any]
) -> None:
    assert rule.name.isidentifier() and rule.name == rule.name.lower()
    assert rule.description.strip() and "\n" not in rule.description
    assert rule.description.endswith(".")
    assert rule.sources
    assert rule.target not in rule.sources, "no rule may allow a self-transition"
    for source in rule.sources:
        assert transition(machine, source, rule.target) is rule


EVENTS_DOC = (Path(__file__).parents[2] / "docs" / "events.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(("machine", "rule"), ALL_RULES)
def test_each_rule_names_a_documented_event_that_carries_its_target(
    machine: StateMachine[Any], rule: TransitionRule[Any]
) -> None:
    """The event a move records is in docs/events.md, and its row says the status it carries."""
    rows = [line for line in EVENTS_DOC.splitlines() if f"`{rule.event}`" in line]
    assert rows, f"{machine.name}:{rule.name} records {rule.event!r}, which the docs do not list"
    assert any(f"`{rule.target}`" in row or "status" in row for row in rows)


def test_a_rule_is_found_by_its_name() -> None:
    assert STEP_RUN.rule("queue").target is StepRunStatus.queued
    assert RUN.rule("abort").event == "run.aborted"
    with pytest.raises(KeyError, match="run has no rule 'explode'"):
        RUN.rule("explode")


@pytest.mark.parametrize("machine", machine_params)
def test_every_state_is_reachable_from_initial(machine: StateMachine[Any]) -> None:
    seen = {machine.initial}
    queue = deque([machine.initial])
    while queue:
        state = queue.popleft()
        for target in machine.allowed_targets(state) - seen:
            seen.add(target)
            queue.append(target)
    assert seen == set(machine.states)


@pytest.mark.parametrize("machine", machine_params)
def test_terminal_states_are_exactly_those_without_outgoing_rules(
    machine: StateMachine[Any],
) -> None:
    sources = {source for rule in machine.rules for source in rule.sources}
    assert machine.terminal == frozenset(machine.states) - sources
    for state in machine.terminal:
        assert machine.allowed_targets(state) == frozenset()
    assert machine.initial not in machine.terminal


@pytest.mark.parametrize("machine", machine_params)
def test_no_two_rules_share_an_edge(machine: StateMachine[Any]) -> None:
    edges = [(source, rule.target) for rule in machine.rules for source in rule.sources]
    assert len(edges) == len(set(edges))


@pytest.mark.parametrize("machine", machine_params)
def test_rule_names_are_unique(machine: StateMachine[Any]) -> None:
    names = [rule.name for rule in machine.rules]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("machine", machine_params)
def test_no_self_transitions(machine: StateMachine[Any]) -> None:
    for state in machine.states:
        assert not machine.can(state, state)


def test_the_declared_final_states() -> None:
    assert MISSION.terminal == {MissionStatus.canceled}
    assert RUN.terminal == {
        RunStatus.completed,
        RunStatus.aborted,
        RunStatus.canceled,
    }
    assert STEP_RUN.terminal == {
        StepRunStatus.succeeded,
        StepRunStatus.skipped,
        StepRunStatus.canceled,
    }
    assert (MISSION.initial, RUN.initial, STEP_RUN.initial) == (
        MissionStatus.draft,
        RunStatus.pending,
        StepRunStatus.waiting,
    )


# -- the engine semantics the product promises, written out so a table edit cannot drop them --

REQUIRED_EDGES: list[tuple[StateMachine[Any], str, str]] = [
    (MISSION, "draft", "planning"),
    (MISSION, "planning", "planned"),
    (MISSION, "planning", "failed"),
    (MISSION, "planned", "planning"),
    (MISSION, "planned", "running"),
    (MISSION, "planned", "canceled"),
    (MISSION, "running", "completed"),
    (MISSION, "running", "failed"),
    (MISSION, "running", "canceled"),
    (MISSION, "failed", "planning"),
    (MISSION, "failed", "running"),
    (MISSION, "completed", "planning"),
    (MISSION, "completed", "running"),
    (MISSION, "draft", "canceled"),
    (MISSION, "planning", "canceled"),
    (MISSION, "failed", "canceled"),
    (MISSION, "planning", "needs_clarification"),
    (MISSION, "needs_clarification", "planning"),
    (MISSION, "needs_clarification", "canceled"),
    (RUN, "pending", "running"),
    (RUN, "pending", "failed"),
    (RUN, "pending", "canceled"),
    (RUN, "pending", "aborted"),
    (RUN, "running", "paused"),
    (RUN, "running", "completed"),
    (RUN, "running", "failed"),
    (RUN, "running", "canceled"),
    (RUN, "running", "aborted"),
    (RUN, "paused", "running"),
    (RUN, "paused", "canceled"),
    (RUN, "paused", "aborted"),
    (RUN, "paused", "failed"),
    (RUN, "failed", "running"),
    (STEP_RUN, "waiting", "queued"),
    (STEP_RUN, "waiting", "skipped"),
    (STEP_RUN, "waiting", "blocked"),
    (STEP_RUN, "waiting", "canceled"),
    (STEP_RUN, "waiting", "failed"),
    (STEP_RUN, "queued", "failed"),
    (STEP_RUN, "queued", "running"),
    (STEP_RUN, "queued", "awaiting_approval"),
    (STEP_RUN, "queued", "blocked"),
    (STEP_RUN, "queued", "canceled"),
    (STEP_RUN, "queued", "skipped"),
    (STEP_RUN, "awaiting_approval", "queued"),
    (STEP_RUN, "awaiting_approval", "failed"),
    (STEP_RUN, "awaiting_approval", "skipped"),
    (STEP_RUN, "awaiting_approval", "canceled"),
    (STEP_RUN, "running", "succeeded"),
    (STEP_RUN, "running", "failed"),
    (STEP_RUN, "running", "queued"),
    (STEP_RUN, "running", "canceled"),
    (STEP_RUN, "failed", "queued"),
    (STEP_RUN, "blocked", "waiting"),
    (STEP_RUN, "blocked", "canceled"),
    (STEP_RUN, "blocked", "skipped"),
]


def test_the_tables_hold_exactly_the_designed_edges() -> None:
    for machine in MACHINES:
        designed = {(s, t) for m, s, t in REQUIRED_EDGES if m is machine}
        actual = {(str(s), str(t)) for s, t in edges_of(machine)}
        assert actual == designed, machine.name


def test_rule_for_names_the_move() -> None:
    assert transition(MISSION, MissionStatus.failed, MissionStatus.running).name == "rerun"
    assert transition(RUN, RunStatus.pending, RunStatus.failed).name == "fail_before_dispatch"
    assert transition(STEP_RUN, StepRunStatus.running, StepRunStatus.queued).name == "requeue"
    start = transition(MISSION, MissionStatus.completed, MissionStatus.planning)
    assert start.name == "start_planning"
    assert start.sources == {
        MissionStatus.draft,
        MissionStatus.planned,
        MissionStatus.failed,
        MissionStatus.completed,
    }
    asked = transition(MISSION, MissionStatus.planning, MissionStatus.needs_clarification)
    assert asked.name == "ask_questions"
    resumed = transition(MISSION, MissionStatus.needs_clarification, MissionStatus.planning)
    assert resumed.name == "resume_planning"


def test_a_mission_waiting_for_answers_can_neither_run_nor_end_as_planned() -> None:
    waiting = MissionStatus.needs_clarification
    assert MISSION.allowed_targets(waiting) == {MissionStatus.planning, MissionStatus.canceled}
    with pytest.raises(InvalidTransition, match="needs_clarification it can go to: planning"):
        transition(MISSION, waiting, MissionStatus.running)


# -- messages --


def test_message_for_a_final_state() -> None:
    with pytest.raises(InvalidTransition) as caught:
        transition(RUN, RunStatus.completed, RunStatus.running)
    assert str(caught.value) == (
        "run cannot go from completed to running; from completed it can go to: "
        "(none, completed is final)"
    )
    assert caught.value.code == "invalid_transition"
    assert isinstance(caught.value, Conflict)


def test_message_lists_allowed_targets_in_declaration_order() -> None:
    with pytest.raises(InvalidTransition) as caught:
        transition(MISSION, MissionStatus.draft, MissionStatus.running)
    assert str(caught.value) == (
        "mission cannot go from draft to running; from draft it can go to: planning, canceled"
    )


def test_message_for_a_self_transition() -> None:
    with pytest.raises(InvalidTransition) as caught:
        transition(STEP_RUN, StepRunStatus.running, StepRunStatus.running)
    assert str(caught.value) == (
        "step_run cannot go from running to running; "
        "from running it can go to: queued, succeeded, failed, canceled"
    )


# -- values from outside: strings and other enums --


def untyped(value: object) -> Any:
    """Hide a value's type, as a status read from a database or a request would be."""
    return value


def test_plain_strings_are_accepted_as_states() -> None:
    rule = transition(RUN, untyped("pending"), untyped("running"))
    assert rule.name == "start"
    assert RUN.can(untyped("paused"), untyped("running"))


def test_a_member_of_another_enum_is_read_by_value() -> None:
    # StrEnum members with equal values compare equal; the machine must not be fooled into
    # treating MissionStatus.running as a run state it does not own, nor reject it wrongly.
    rule = transition(RUN, untyped(MissionStatus.running), untyped(MissionStatus.completed))
    assert rule.name == "complete"
    assert rule.target is RunStatus.completed
    with pytest.raises(InvalidTransition, match=r"^mission has no state 'paused'"):
        transition(MISSION, untyped(RunStatus.running), untyped(RunStatus.paused))


def test_an_unknown_state_is_named_with_the_known_ones() -> None:
    with pytest.raises(InvalidTransition) as caught:
        transition(MISSION, MissionStatus.draft, untyped("runing"))
    assert str(caught.value) == (
        "mission has no state 'runing'; its states are: "
        "draft, planning, needs_clarification, planned, running, completed, failed, canceled"
    )


# -- construction checks the table --


class Light(StrEnum):
    red = "red"
    green = "green"
    off = "off"


def light_rules(*extra: TransitionRule[Light]) -> tuple[TransitionRule[Light], ...]:
    return (
        TransitionRule("go", frozenset({Light.red}), Light.green, "Go."),
        TransitionRule("stop", frozenset({Light.green}), Light.red, "Stop."),
        TransitionRule("switch_off", frozenset({Light.red, Light.green}), Light.off, "Off."),
        *extra,
    )


def make_light(
    *extra: TransitionRule[Light], terminal: frozenset[Light] = frozenset({Light.off})
) -> StateMachine[Light]:
    return StateMachine("light", Light.red, terminal, light_rules(*extra))


def test_a_well_formed_table_builds() -> None:
    machine = make_light()
    assert machine.states == (Light.red, Light.green, Light.off)
    assert machine.allowed_targets(Light.red) == {Light.green, Light.off}
    assert machine == make_light()
    assert hash(machine) == hash(make_light())


def test_terminal_must_match_the_states_without_rules() -> None:
    with pytest.raises(ValueError, match="terminal is red, off but the states with no"):
        make_light(terminal=frozenset({Light.off, Light.red}))


def test_two_rules_on_one_edge_are_refused() -> None:
    twin = TransitionRule("go_again", frozenset({Light.red}), Light.green, "Twice.")
    with pytest.raises(ValueError, match="rules 'go' and 'go_again' both allow red → green"):
        make_light(twin)


def test_a_repeated_rule_name_is_refused() -> None:
    twin = TransitionRule("go", frozenset({Light.off}), Light.red, "Again.")
    with pytest.raises(ValueError, match="rule name 'go' is used twice"):
        make_light(twin, terminal=frozenset())


def test_a_rule_without_sources_is_refused() -> None:
    empty = TransitionRule("nothing", frozenset(), Light.red, "Never.")
    with pytest.raises(ValueError, match="rule 'nothing' has no source state"):
        make_light(empty)


def test_a_state_of_another_enum_is_refused() -> None:
    alien = TransitionRule("alien", frozenset({Light.off}), RunStatus.running, "Alien.")
    with pytest.raises(ValueError, match=r"rule 'alien' uses .* which is not a Light"):
        make_light(alien)  # type: ignore[arg-type]
