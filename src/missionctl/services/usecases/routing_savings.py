"""What model routing saved, and whether success held, in a scope of the Costs page (ADR 0119).

A routed step's **default cost** is its tokens (every attempt) at the price the configured
model it was routed from has now; its saving is that less what it cost. Success is compared
per role: the routed steps' share that succeeded against the share of the role's steps that ran
on the configured model, in the same scope. It **held** when the routed share is within
routing's tolerance of the other, both with at least routing's ``min_steps`` steps; with
fewer the page says it is too soon to say.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.types import utcnow
from missionctl.domain.budget import cost_micros
from missionctl.repositories import costs as repo
from missionctl.schemas.costs import RoutedRole, RoutingSavings
from missionctl.schemas.routing import load_rules
from missionctl.services.usecases.money import micros_to_usd
from missionctl.services.usecases.pricing import resolve_price

DEFAULT_DAYS = 30
"""The window of a scope that names none: the steps of every run ever would be a full scan."""


async def routing_savings(session: AsyncSession, scope: repo.CostFilter) -> RoutingSavings | None:
    """The scope's routing figures, or ``None`` when none of its steps was routed away.

    A scope without a window covers the last :data:`DEFAULT_DAYS` days (``since`` says so).
    """
    since = scope.since
    if scope.since is None and scope.until is None:
        since = utcnow() - timedelta(days=DEFAULT_DAYS)
        scope = replace(scope, since=since)
    rows = await repo.routed_usage(session, scope=scope)
    routed = [r for r in rows if r.routed_model != r.routed_from]
    if not routed:
        return None
    defaults: dict[str, int] = {}
    for source in {r.routed_from for r in routed}:
        price = await resolve_price(session, model=source)
        for r in (r for r in routed if r.routed_from == source):
            at_default = (
                cost_micros(price, input_tokens=r.input_tokens, output_tokens=r.output_tokens)
                if price
                else r.cost_micros
            )
            defaults[_key(r)] = defaults.get(_key(r), 0) + at_default
    cost = sum(r.cost_micros for r in routed)
    default_cost = sum(defaults.values())
    saved = default_cost - cost
    return RoutingSavings(
        since=since,
        routed_steps=sum(r.steps for r in routed),
        cost_usd=micros_to_usd(cost),
        default_cost_usd=micros_to_usd(default_cost),
        saved_usd=micros_to_usd(saved),
        saved_share=saved / default_cost if default_cost else None,
        roles=_roles(rows, defaults),
    )


def _key(row: repo.RoutedUsage) -> str:
    return f"{row.agent}\x00{row.routed_model}\x00{row.routed_from}\x00{row.succeeded}"


def _roles(rows: Sequence[repo.RoutedUsage], defaults: dict[str, int]) -> list[RoutedRole]:
    rules = load_rules()
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for r in rows:
        line = tally[r.agent.removeprefix("llm:")]
        if r.routed_model != r.routed_from:
            line[0] += r.steps
            line[1] += r.steps if r.succeeded else 0
            line[4] += defaults.get(_key(r), r.cost_micros) - r.cost_micros
        else:
            line[2] += r.steps
            line[3] += r.steps if r.succeeded else 0
    roles = []
    for role, (routed, routed_ok, plain, plain_ok, saved) in sorted(tally.items()):
        if not routed:
            continue
        sure = routed >= rules.min_steps and plain >= rules.min_steps
        roles.append(
            RoutedRole(
                role=role,
                routed_steps=routed,
                routed_succeeded=routed_ok,
                default_steps=plain,
                default_succeeded=plain_ok,
                saved_usd=micros_to_usd(saved),
                held=(routed_ok / routed >= plain_ok / plain - rules.tolerance) if sure else None,
            )
        )
    return roles
