"""Agent restrictions: disable an agent, or limit it to some risk tiers.

Rules are kept per agent name (``command``, ``builtin:architect``) or per kind (``llm:*``);
see ``domain.governance``. A queued step whose agent's rule refuses it is held by the engine
(``step.held``, with the reason shown on the step) rather than failed. Changing a rule
re-checks every held step in the same transaction: those now allowed are released
(``step.released``) and the engines woken; the controls' version moves, so every engine
re-reads the rules at its next tick.
"""

from sqlalchemy import func, select

from missionctl.db.models import Agent, Control, StepRun
from missionctl.db.types import utcnow
from missionctl.domain import events as ev
from missionctl.domain.governance import AgentRule, hold_reason, rule_for
from missionctl.errors import NotFound
from missionctl.eventlog import NewEvent, append
from missionctl.schemas.governance import AgentRead, AgentUpdate
from missionctl.services.context import ServiceContext
from missionctl.services.runtime import agent_is_known, known_agent_names

MAX_AGENT_NAME = 100  # the agents.name column


def _kind(name: str) -> str:
    return name.partition(":")[0]


async def list_agents(ctx: ServiceContext) -> list[AgentRead]:
    """Every agent a workflow may name (and every kind), with its rule and held steps."""
    async with ctx.read() as session:
        rows = {row.name: row for row in (await session.scalars(select(Agent))).all()}
        held = dict(
            (
                await session.execute(
                    select(StepRun.agent, func.count())
                    .where(StepRun.status == "queued", StepRun.hold_reason.is_not(None))
                    .group_by(StepRun.agent)
                )
            ).all()
        )
    rules = {
        name: AgentRule(row.enabled, tuple(row.allowed_risk_tiers)) for name, row in rows.items()
    }
    names = sorted(set(known_agent_names()) | set(rows))
    result = []
    for name in names:
        row = rows.get(name)
        if name.endswith(":*"):
            count = sum(n for agent, n in held.items() if rule_for(rules, agent) is rules.get(name))
        else:
            count = int(held.get(name, 0))
        result.append(
            AgentRead(
                name=name,
                kind=_kind(name),
                enabled=row.enabled if row else True,
                allowed_risk_tiers=list(row.allowed_risk_tiers) if row else [],  # type: ignore[arg-type]
                held_steps=count,
                updated_at=row.updated_at if row else None,
            )
        )
    return result


async def update_agent(
    ctx: ServiceContext, *, name: str, data: AgentUpdate, actor: str
) -> AgentRead:
    """Change an agent's rule and release the held steps it now allows.

    Raises:
        NotFound: no agent (or ``kind:*``) has that name.
    """
    if len(name) > MAX_AGENT_NAME or not (agent_is_known(name) or name in known_agent_names()):
        raise NotFound(f"no agent {name!r}; agents: {', '.join(known_agent_names())}", field="name")
    async with ctx.write() as session:
        controls = await session.get(Control, 1, with_for_update=True)
        row = await session.scalar(select(Agent).where(Agent.name == name))
        if row is None:
            row = Agent(name=name, kind=_kind(name), enabled=True, allowed_risk_tiers=[])
            session.add(row)
        if data.enabled is not None:
            row.enabled = data.enabled
        if data.allowed_risk_tiers is not None:
            row.allowed_risk_tiers = list(dict.fromkeys(data.allowed_risk_tiers))
        row.updated_at = utcnow()
        if controls is not None:
            controls.version += 1
        await session.flush()
        events = [
            NewEvent(
                type=ev.AGENT_UPDATED,
                actor=actor,
                payload={
                    "name": name,
                    "enabled": row.enabled,
                    "allowed_risk_tiers": list(row.allowed_risk_tiers),
                },
            )
        ]
        rules = {
            agent.name: AgentRule(agent.enabled, tuple(agent.allowed_risk_tiers))
            for agent in (await session.scalars(select(Agent))).all()
        }
        held = (
            await session.scalars(
                select(StepRun)
                .where(StepRun.status == "queued", StepRun.hold_reason.is_not(None))
                .with_for_update()
            )
        ).all()
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
        await append(session, events)
        return AgentRead(
            name=name,
            kind=_kind(name),
            enabled=row.enabled,
            allowed_risk_tiers=list(row.allowed_risk_tiers),  # type: ignore[arg-type]
            held_steps=sum(
                1
                for step in held
                if step.hold_reason is not None and rule_for(rules, step.agent) is rules[name]
            ),
            updated_at=row.updated_at,
        )
