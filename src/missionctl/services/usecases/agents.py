"""Agent restrictions: disable an agent, limit it to some risk tiers, list the programs it runs.

Rules are kept per agent name (``command``, ``builtin:architect``) or per kind (``llm:*``);
see ``domain.governance``. A queued step whose agent's rule refuses it is held by the engine
(``step.held``, with the reason shown on the step) rather than failed. Changing a rule
re-checks every held step in the same transaction: those now allowed are released
(``step.released``) and the engines woken; the controls' version moves, so every engine
re-reads the rules at its next tick.

The ``command`` agent's rule also carries the allow-list of programs its steps run without an
approver (``allowed_programs`` in its row's ``config``). A change names only the programs it
adds, changes or removes, and is applied under the controls' row lock to the list as it is
then, so two admins' changes both land. Steps already waiting for an approver keep waiting.
Queued ``command`` steps no approver has decided, whose program the new list no longer lets
run freely, are sent to approval in the same transaction; steps admitted later, and every
``command`` step the engine claims, are judged by the new list.
"""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Agent, Control, StepRun
from missionctl.db.types import utcnow
from missionctl.domain import events as ev
from missionctl.domain.governance import (
    CODING_RULE,
    MAX_PROGRAMS,
    MAX_REPOSITORIES,
    PROGRAMS_KEY,
    REPOSITORIES_KEY,
    AgentRule,
    Gate,
    ProgramRule,
    command_gate,
    hold_reason,
    mcp_gate,
    parse_programs,
    parse_repositories,
    programs_config,
    rule_for,
    runs_programs,
    step_gate,
)
from missionctl.domain.states import STEP_RUN, transition
from missionctl.domain.workflows import (
    COMMAND_AGENT,
    MCP_AGENT,
    PROGRAM_AGENTS,
    StepDef,
    as_risk_tier,
)
from missionctl.errors import NotFound, Problem, StateRefused, ValidationFailed
from missionctl.eventlog import NewEvent, append
from missionctl.repositories import agents as repo
from missionctl.repositories import controls as controls_repo
from missionctl.repositories import runs as run_repo
from missionctl.schemas.governance import AgentRead, AgentUpdate, AllowedProgram
from missionctl.services.runtime.composition import (
    agent_is_diagnostic,
    agent_is_known,
    known_agent_names,
)
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.execution.admission import REQUEST_APPROVAL, add_approval
from missionctl.services.usecases.execution.types import SHIPPED_CLIS

MAX_AGENT_NAME = 100  # the agents.name column


def _kind(name: str) -> str:
    return name.partition(":")[0]


def _rule(row: Agent) -> AgentRule:
    """The rule a row stores (the engine reads the same columns the same way)."""
    programs = parse_programs(row.config) if row.name == COMMAND_AGENT else {}
    repositories = parse_repositories(row.config) if row.name == CODING_RULE else ()
    return AgentRule(row.enabled, tuple(row.allowed_risk_tiers), programs, repositories)


def _agent_read(name: str, row: Agent | None, held_steps: int) -> AgentRead:
    programs = _rule(row).programs if row is not None else {}
    repositories = _rule(row).repositories if row is not None else ()
    return AgentRead(
        name=name,
        kind=_kind(name),
        diagnostic=agent_is_diagnostic(name),
        enabled=row.enabled if row else True,
        allowed_risk_tiers=[as_risk_tier(t) for t in row.allowed_risk_tiers] if row else [],
        allowed_programs={
            program: AllowedProgram(
                tier=as_risk_tier(rule.tier),
                network=rule.network,
                env=list(rule.env),
            )
            for program, rule in sorted(programs.items())
        },
        allowed_repositories=list(repositories),
        held_steps=held_steps,
        updated_at=row.updated_at if row else None,
    )


async def list_agents(ctx: ServiceContext) -> list[AgentRead]:
    """Every agent a workflow may name (and every kind), with its rule and held steps."""
    async with ctx.read() as session:
        rows = {row.name: row for row in await repo.read_agents(session)}
        held = await repo.count_held_steps(session)
    rules = {name: _rule(row) for name, row in rows.items()}
    names = sorted(set(known_agent_names()) | set(rows))
    result = []
    for name in names:
        if name.endswith(":*"):
            count = sum(n for agent, n in held.items() if rule_for(rules, agent) is rules.get(name))
        else:
            count = int(held.get(name, 0))
        result.append(_agent_read(name, rows.get(name), count))
    return result


async def read_allowed_programs(ctx: ServiceContext) -> Mapping[str, ProgramRule]:
    """The allow-list in force: the programs ``command`` steps run without an approver."""
    async with ctx.read() as session:
        config = await repo.read_agent_config(session, name=COMMAND_AGENT)
    return parse_programs(config)


async def read_allowed_repositories(ctx: ServiceContext) -> tuple[str, ...]:
    """The repositories coding steps may work on now (empty: none)."""
    async with ctx.read() as session:
        config = await repo.read_agent_config(session, name=CODING_RULE)
    return parse_repositories(config)


async def update_agent(
    ctx: ServiceContext, *, name: str, data: AgentUpdate, actor: str
) -> AgentRead:
    """Change an agent's rule, release the held steps it now allows, recall what it now gates.

    ``data.allowed_programs`` (the ``command`` agent only) is applied to the stored list as it
    is when this change holds the controls' lock: named programs are set, or removed when
    mapped to ``None``; the others keep their entry.

    Raises:
        NotFound: no agent (or ``kind:*``) has that name.
        StateRefused: ``allowed_programs`` for another agent than ``command`` (or
            ``allowed_repositories`` for another than the coding rule); nothing is changed.
        ValidationFailed: a list that would grow past ``MAX_PROGRAMS``; nothing is changed.
    """
    if len(name) > MAX_AGENT_NAME or not (agent_is_known(name) or name in known_agent_names()):
        raise NotFound(f"no agent {name!r}; agents: {', '.join(known_agent_names())}", field="name")
    if data.allowed_programs is not None and name != COMMAND_AGENT:
        problem = f"only the {COMMAND_AGENT} agent runs programs; change its list instead"
        raise StateRefused([Problem("allowed_programs", problem)])
    if data.allowed_repositories is not None and name != CODING_RULE:
        problem = f"the repositories of coding steps are kept on {CODING_RULE}; change it instead"
        raise StateRefused([Problem("allowed_repositories", problem)])
    async with ctx.write() as session:
        # Every change to the rules takes this lock first: changes are applied one at a time.
        controls = await session.get(Control, 1, with_for_update=True)
        row = await repo.lock_agent(session, name=name)
        if row is None:
            row = Agent(name=name, kind=_kind(name), enabled=True, allowed_risk_tiers=[], config={})
            session.add(row)
        _apply(row, data)
        row.updated_at = now = utcnow()
        if controls is not None:
            controls.version += 1
        await session.flush()
        events = [NewEvent(type=ev.AGENT_UPDATED, actor=actor, payload=_payload(row, data))]
        rules = {agent.name: _rule(agent) for agent in await repo.read_agents(session)}
        held = await _release_held(session, rules, actor, events)
        if data.allowed_programs is not None:
            events += await _recall_queued(session, rules[name].programs, actor, now)
        await append(session, events)
        count = sum(
            1
            for step in held
            if step.hold_reason is not None and rule_for(rules, step.agent) is rules[name]
        )
        return _agent_read(name, row, count)


def _apply(row: Agent, data: AgentUpdate) -> None:
    """Write ``data``'s changes on ``row`` (locked), each list applied to the list as it is.

    Raises:
        ValidationFailed: a list would grow past its limit.
    """
    if data.enabled is not None:
        row.enabled = data.enabled
    if data.allowed_risk_tiers is not None:
        row.allowed_risk_tiers = list(dict.fromkeys(data.allowed_risk_tiers))
    if data.allowed_programs is not None:
        programs = _changed_programs(_rule(row).programs, data.allowed_programs)
        row.config = {**(row.config or {}), PROGRAMS_KEY: programs_config(programs)}
    if data.allowed_repositories is not None:
        sources = _changed_repositories(_rule(row).repositories, data.allowed_repositories)
        row.config = {**(row.config or {}), REPOSITORIES_KEY: sources}


def _changed_programs(
    current: Mapping[str, ProgramRule], changes: Mapping[str, AllowedProgram | None]
) -> dict[str, ProgramRule]:
    """The allow-list after ``changes``.

    Raises:
        ValidationFailed: it would hold more than ``MAX_PROGRAMS`` programs.
    """
    programs = dict(current)
    for program, entry in changes.items():
        if entry is None:
            programs.pop(program, None)
        else:
            programs[program] = ProgramRule(
                tier=entry.tier, network=entry.network, env=tuple(entry.env)
            )
    if len(programs) > MAX_PROGRAMS:
        problem = (
            f"the list would hold {len(programs)} programs, more than {MAX_PROGRAMS}; "
            "remove some first"
        )
        raise ValidationFailed([Problem("allowed_programs", problem)])
    return programs


def _changed_repositories(current: Sequence[str], changes: Mapping[str, bool]) -> list[str]:
    """The allowed repositories after ``changes`` (``true`` adds, ``false`` removes), sorted.

    A source added twice is one entry: the list is a set, so two admins allowing the same
    repository at once leave it listed once.

    Raises:
        ValidationFailed: the list would hold more than ``MAX_REPOSITORIES`` entries.
    """
    sources = set(current)
    for source, allow in changes.items():
        if allow:
            sources.add(source)
        else:
            sources.discard(source)
    if len(sources) > MAX_REPOSITORIES:
        problem = (
            f"the list would hold {len(sources)} repositories, more than {MAX_REPOSITORIES}; "
            "allow a directory or URL prefix that covers several, or remove some first"
        )
        raise ValidationFailed([Problem("allowed_repositories", problem)])
    return sorted(sources)


def _payload(row: Agent, data: AgentUpdate) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": row.name,
        "enabled": row.enabled,
        "allowed_risk_tiers": list(row.allowed_risk_tiers),
    }
    if row.name == COMMAND_AGENT:
        payload["allowed_programs"] = programs_config(_rule(row).programs)
    if data.allowed_programs is not None:
        payload["programs_changed"] = sorted(data.allowed_programs)
    if row.name == CODING_RULE:
        payload["allowed_repositories"] = list(_rule(row).repositories)
    if data.allowed_repositories is not None:
        payload["repositories_changed"] = sorted(data.allowed_repositories)
    return payload


async def _release_held(
    session: AsyncSession, rules: Mapping[str, AgentRule], actor: str, events: list[NewEvent]
) -> list[StepRun]:
    """Release the held steps ``rules`` now allow (``step.released``).

    Returns every row that was held; those still held keep (or get) their new reason.
    """
    held = await repo.lock_held_steps(session)
    for step in held:
        reason = hold_reason(rules, agent=step.agent, risk_tier=step.risk_tier)
        if reason is None:
            events.append(
                NewEvent(
                    type=ev.STEP_RELEASED,
                    actor=actor,
                    run_id=step.run_id,
                    step_id=step.step_id,
                    payload={"attempt": step.attempt, "was": step.hold_reason},
                )
            )
            step.hold_reason = None
        elif reason != step.hold_reason:
            step.hold_reason = reason
    return list(held)


async def _recall_queued(
    session: AsyncSession, programs: Mapping[str, ProgramRule], actor: str, now: datetime
) -> list[NewEvent]:
    """Send queued program steps that ran freely by the old list, not the new, to approval.

    Program steps: ``command`` steps, and ``mcp`` steps whose server is a program.

    Only steps no approver has decided (no approval row): those admitted by the allow-list,
    judged at the tier their workflow declares (a step run keeps it). Rows locked at this
    moment are skipped (``SKIP LOCKED``) rather than waited for: their transaction may wait for
    the controls' lock this change holds, and waiting back would deadlock. They are not let
    through: the engine judges every ``command`` step again, under the list in force, when it
    claims it, and sends it to an approver then.
    """
    steps = [
        step
        for agent in sorted(PROGRAM_AGENTS)  # ``mcp`` steps' stdio servers are programs too
        for step in await repo.lock_unasked_steps(session, agent=agent)
    ]
    judge = {COMMAND_AGENT: command_gate, MCP_AGENT: mcp_gate}
    gates = {
        step.id: judge[step.agent](
            programs, inputs=step.inputs, risk_tier=step.risk_tier, policy_gated=False
        )
        for step in steps
    }
    recalled = [step for step in steps if gates[step.id].gated]
    if not recalled:
        return []
    # The approval rows' foreign key reads each run under a key-share lock: take it now, and
    # skip runs a decision holds (see above).
    missions = await run_repo.lock_run_keys(session, run_ids={step.run_id for step in recalled})
    events = []
    for step in recalled:
        if step.run_id in missions:
            reason = f"the allow-list changed: {gates[step.id].reason}"
            events.append(
                _to_approval(
                    session, step, gates[step.id], missions[step.run_id], actor, now, reason
                )
            )
    await session.flush()
    return events


async def lock_rules(session: AsyncSession) -> None:
    """Hold the controls' row under a shared lock until the transaction ends.

    Every transaction that may queue a ``command`` step takes it before any other lock: a
    change to the rules (and the emergency stop) holds the row ``FOR UPDATE`` and then locks
    runs and steps, so a transaction that held a run first and this row second could deadlock
    with it. Under this lock the rules read are the ones in force until the commit.
    """
    await controls_repo.lock_controls_shared(session)


async def gate_retried_step(
    session: AsyncSession,
    *,
    step: StepRun,
    definition: StepDef,
    mission_id: uuid.UUID | None,
    actor: str,
) -> list[NewEvent]:
    """Send a program's step a person just queued again to an approver, if the list gates it.

    A retry queues a failed step without passing admission: without this, a program an
    approver rejected, or one taken off the allow-list since it ran, would run unapproved. The
    step (``command``, ``mcp`` or coding) is judged as admission judges it (``step_gate``) on
    its stored, rendered inputs and its ``definition`` (the declared tier and the workflow's
    policy), never on a tier an earlier gate raised it to; a coding step by the shipped
    presets' command lines (the engine judges it again by the configured ones when it claims
    it). The caller took :func:`lock_rules` first, so the list read here stays in force until
    it commits. Returns the ``approval.requested`` event, or nothing.
    """
    if not runs_programs(step.agent):
        return []
    await lock_rules(session)  # already held by the caller; kept so the read is never unlocked
    config = await repo.read_agent_config(session, name=COMMAND_AGENT)
    gate = step_gate(definition, step.inputs, parse_programs(config), clis=SHIPPED_CLIS)
    if not gate.gated:
        return []
    event = _to_approval(session, step, gate, mission_id, actor, utcnow(), gate.reason or "")
    await session.flush()
    return [event]


def _to_approval(
    session: AsyncSession,
    step: StepRun,
    gate: Gate,
    mission_id: uuid.UUID | None,
    actor: str,
    now: datetime,
    reason: str,
) -> NewEvent:
    """Move a queued step to ``awaiting_approval`` with its approval row; the event to append."""
    step.status = transition(STEP_RUN, step.status, REQUEST_APPROVAL.target).target
    step.hold_reason = None
    return add_approval(
        session,
        step,
        run_id=step.run_id,
        inputs=step.inputs,
        gate=gate,
        mission_id=mission_id,
        actor=actor,
        now=now,
        reason=reason,
    )
