"""Backtest of model routing on the demo history: the last two weeks, held out.

Run: ``PYTHONPATH=src:. .venv/bin/python bench/routing_backtest.py [--days 90] [--seed 42]``
(``--home DIR``: a home ``missionctl demo seed`` already wrote, instead of seeding one).

The demo history (``missionctl demo seed``, a fixed seed) ran a share of its runs on a trial
model (``gpt-4o-mini``, through workflow versions pinned to it) and the others on the
configured one (``gpt-4o``); the trial model fails more often at writing code. The backtest:

1. reads each model's record per role from the steps that ended in the 30 days before the
   first held-out day (routing's evidence window), as routing would have then;
2. routes every ``llm:`` step that ended in the held-out weeks, with the catalogue the demo
   leaves (the trial model routable, no tier: only its record can earn it a role);
3. prices each held-out step's tokens at the configured model and at the model routing chose,
   and reads, per role, the success rate each model measured *in the held-out weeks* (steps
   that ran on it there): the success rate routing would have kept is the mix of those rates
   over the roles' steps.

It prints, as JSON, the cost of the held-out steps on the configured model and routed (and
the share saved), the success rate unrouted and routed, each role's choice with its reason and
counts, and the same figures for the naive choice of sending every step to the cheapest model.
"""

from collections import defaultdict
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any

from bench._backtest import run
from bench.prediction_backtest import seed
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from missionctl.db.models import StepRun
from missionctl.domain.budget import Price, cost_micros
from missionctl.domain.routing import Routing, records_by_model_role, step_needs
from missionctl.repositories import routing as repo
from missionctl.services import open_context
from missionctl.services.usecases.routing import routing_in_force
from missionctl.settings import LLMSettings, Settings

HELD_OUT_DAYS = 14
DEFAULT_MODEL = "gpt-4o"


def _held_out(session: Session, since: datetime) -> list[Any]:
    """The ``llm:`` steps that ended succeeded or failed since ``since``."""
    model = func.coalesce(StepRun.routed_model, StepRun.model)
    query = select(
        StepRun.agent,
        model,
        StepRun.status,
        StepRun.input_tokens + StepRun.earlier_input_tokens,
        StepRun.output_tokens + StepRun.earlier_output_tokens,
    ).where(
        StepRun.agent.startswith("llm:"),
        StepRun.ended_at >= since,
        StepRun.status.in_(("succeeded", "failed")),
    )
    return list(session.execute(query))


def _rates(rows: list[Any]) -> dict[tuple[str, str], tuple[int, int]]:
    """(model, role) → (steps, succeeded) measured over ``rows``."""
    tally: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for agent, model, status, *_ in rows:
        line = tally[(model or DEFAULT_MODEL, agent.removeprefix("llm:"))]
        line[0] += 1
        line[1] += status == "succeeded"
    return {key: (n, ok) for key, (n, ok) in tally.items()}


def _evaluate(
    rows: list[Any], choice: dict[str, str], prices: dict[str, Price], measured: dict[Any, Any]
) -> dict[str, Any]:
    """Cost and success of the held-out steps when each role runs on ``choice[role]``."""
    spent = default = 0
    expected_ok = default_ok = 0.0
    for agent, _model, _status, tokens_in, tokens_out in rows:
        role = agent.removeprefix("llm:")
        usage = {"input_tokens": tokens_in, "output_tokens": tokens_out}
        spent += cost_micros(prices[choice[role]], **usage)
        default += cost_micros(prices[DEFAULT_MODEL], **usage)
        n, ok = measured.get((choice[role], role), (0, 0))
        d_n, d_ok = measured.get((DEFAULT_MODEL, role), (0, 0))
        expected_ok += ok / n if n else 0.0
        default_ok += d_ok / d_n if d_n else 0.0
    return {
        "cost_usd": round(spent / 1e6, 4),
        "default_cost_usd": round(default / 1e6, 4),
        "saved_share": round(1 - spent / default, 3) if default else None,
        "success_rate": round(expected_ok / len(rows), 3),
        "default_success_rate": round(default_ok / len(rows), 3),
    }


async def backtest(settings: Settings) -> dict[str, Any]:
    """Route the held-out weeks' steps from the weeks before them; price and score the choice."""
    async with open_context(settings) as ctx:

        def read(session: Session) -> tuple[Routing, list[Any], datetime, datetime]:
            last = session.scalar(select(func.max(StepRun.ended_at)))
            assert last is not None, "the home holds no steps: seed it first"
            cutoff = datetime.combine(last.date() - timedelta(days=HELD_OUT_DAYS - 1), time())
            cutoff = cutoff.replace(tzinfo=last.tzinfo)
            routing = routing_in_force(session, ctx)
            assert routing is not None
            since = cutoff - timedelta(days=routing.rules.window_days)
            rows = repo.read_records(session, since=since, until=cutoff, default=DEFAULT_MODEL)
            trained = replace(routing, records=records_by_model_role(rows))
            return trained, _held_out(session, cutoff), cutoff, last

        routing, held, cutoff, last = await ctx.read_blocking(read)
    roles = sorted({agent.removeprefix("llm:") for agent, *_ in held})
    measured = _rates(held)
    prices = {m.model: m.price for m in routing.catalogue if m.price}
    prices[DEFAULT_MODEL] = routing.default_price  # type: ignore[assignment]
    routes = {role: routing.route(step_needs(routing.rules, role, 0)) for role in roles}
    cheapest = min(prices, key=lambda m: prices[m].input_micros_per_mtok)
    return {
        "held_out": f"{cutoff.date()} to {last.date()}",
        "steps_held_out": len(held),
        "routed": _evaluate(held, {r: routes[r].model for r in roles}, prices, measured),
        "all_on_cheapest": _evaluate(held, dict.fromkeys(roles, cheapest), prices, measured),
        "roles": {
            role: {
                "model": routes[role].model,
                "reason": routes[role].reason,
                "record": {
                    model: {
                        "steps": routing.records[(model, role)].steps,
                        "succeeded": routing.records[(model, role)].succeeded,
                    }
                    for model in prices
                    if (model, role) in routing.records
                },
                "held_out_measured": {
                    model: {"steps": n, "succeeded": ok}
                    for (model, r), (n, ok) in sorted(measured.items())
                    if r == role
                },
            }
            for role in roles
        },
    }


def main() -> None:
    run(
        "routing_backtest",
        __doc__,
        seed,
        lambda home: backtest(Settings(home=home, llm=LLMSettings(model=DEFAULT_MODEL))),
    )


if __name__ == "__main__":
    main()
