"""Model routing (ADR 0119): the catalogue admins keep, and the model each ``llm:`` step runs on.

A run's ``llm:`` steps are routed when the run is created (:func:`price_steps`): each step's
estimate and reserve are priced at the model routing chose, so a capped run is checked against
what it will really spend, and the choice with its reason is the step's ``step.routed`` event.
The engine then hands the model to the step (``ClaimedStep.model``); retries keep it.

Routing is active once an admin marks a model other than the configured one routable
(``missionctl models set NAME --routable``). Until then every step runs on the configured
model, nothing is read from the history and no ``step.routed`` event is written.
"""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy.orm import Session

from missionctl.db.database import Database
from missionctl.db.routing import CatalogueEntry
from missionctl.db.types import utcnow
from missionctl.domain import events as ev
from missionctl.domain.budget import Price, charges_tokens, estimate_micros, max_cost_micros
from missionctl.domain.routing import (
    CatalogueModel,
    Record,
    Route,
    Routing,
    records_by_model_role,
    step_needs,
)
from missionctl.domain.workflows import StepDef, WorkflowDag
from missionctl.errors import Problem
from missionctl.eventlog import NewEvent
from missionctl.repositories import routing as repo
from missionctl.schemas.routing import (
    ConsideredRead,
    RouteRead,
    load_rules,
    route_payload,
)
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.money import micros_to_usd
from missionctl.services.usecases.pricing import bundled_context, price_in_force

RECORDS_TTL_S = 60.0
"""How long a process reuses the models' records: a 30-day window barely moves in a minute,
and run creation must not scan the window's steps for every run."""

_RECORDS: "WeakKeyDictionary[Database, tuple[float, str, dict[tuple[str, str], Record]]]" = (
    WeakKeyDictionary()
)


def routing_in_force(
    session: Session, ctx: ServiceContext, *, records: bool = False
) -> Routing | None:
    """What routing knows now, or ``None`` without a configured model (no step calls one).

    The catalogue's prices and the records are read when routing is active (a routable model
    besides the default) or ``records`` asks for them; otherwise the catalogue's models are
    unpriced (nothing chooses among them) and the records empty.
    """
    default = ctx.settings.llm.model
    if not default:
        return None
    entries = repo.read_catalogue(session)
    active = any(e.routable and e.model != default for e in entries)
    full = active or records
    routing = Routing(
        rules=load_rules(),
        default=default,
        default_price=price_in_force(session, model=default),
        catalogue=tuple(_catalogue_model(session, e, priced=full) for e in entries),
        records={},
    )
    if not full:
        return routing
    return replace(routing, records=_records(session, ctx.db, routing.rules.window_days, default))


def _catalogue_model(session: Session, entry: CatalogueEntry, *, priced: bool) -> CatalogueModel:
    return CatalogueModel(
        model=entry.model,
        routable=entry.routable,
        price=price_in_force(session, model=entry.model) if priced else None,
        tier=entry.tier,
        context_tokens=entry.context_tokens or bundled_context(entry.model),
        tool_use=entry.tool_use,
        offered=entry.offered,
    )


def _records(
    session: Session, db: Database, window_days: int, default: str
) -> dict[tuple[str, str], Record]:
    """The models' records per role, read at most once per :data:`RECORDS_TTL_S` per database."""
    now = time.monotonic()
    cached = _RECORDS.get(db)
    if cached is not None and now - cached[0] < RECORDS_TTL_S and cached[1] == default:
        return cached[2]
    since = utcnow() - timedelta(days=window_days)
    records = records_by_model_role(repo.read_records(session, since=since, default=default))
    _RECORDS[db] = (now, default, records)
    return records


def forget_records(db: Database) -> None:
    """Read the records afresh at the next run (after an admin's change, or in a test)."""
    _RECORDS.pop(db, None)


@dataclass(frozen=True, slots=True)
class PricedSteps:
    """Each step's estimate and reserve (0 for steps that call no model), and its model.

    ``models`` holds the model each ``llm:`` step runs on and ``default`` the configured one
    (both empty without a model); ``routes`` the routes with their reasons, while routing is
    active or a step is pinned; ``problems`` what a capped run lacks (an uncapped run ignores
    them).
    """

    estimates: dict[str, int]
    reserves: dict[str, int]
    default: str | None = None
    models: dict[str, str] = field(default_factory=dict)
    routes: dict[str, Route] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def columns(self, step_id: str) -> dict[str, str | None]:
        """The step run row's ``routed_model`` and ``routed_from`` (``None`` for other steps)."""
        model = self.models.get(step_id)
        return {"routed_model": model, "routed_from": self.default if model else None}


def price_steps(
    session: Session,
    ctx: ServiceContext,
    dag: WorkflowDag,
    cap: int | None,
    *,
    reused: frozenset[str] = frozenset(),
) -> PricedSteps:
    """Route the ``llm:`` steps of ``dag`` and price them at the models chosen.

    The estimate prices ``estimate_tokens`` as expected (3/4 input); the reserve prices it as
    the step's token limit, each token at the model's highest price (``domain.budget``). Steps
    are routed in definition order, each within what the cap leaves after the ones before it.
    In a capped run every LLM step needs a token limit (``estimate_tokens``) and a priced model.
    Steps in ``reused`` (a rerun copies their outputs) run on nothing: they are neither routed
    nor priced, and their rows keep no model (a model's record must not count them).
    """
    priced = PricedSteps(dict.fromkeys(dag.order, 0), dict.fromkeys(dag.order, 0))
    llm_steps = [
        dag.steps[s] for s in dag.order if charges_tokens(dag.steps[s].agent) and s not in reused
    ]
    if not llm_steps:
        return priced
    priced.problems.extend(_unlimited(llm_steps))
    routing = routing_in_force(session, ctx)
    if routing is None:
        priced.problems.append(_unpriced(None))
        return priced
    priced = replace(priced, default=routing.default)
    # Each model priced once per run, whatever the number of its steps.
    prices: dict[str, Price | None] = {routing.default: routing.default_price}
    for entry in routing.catalogue:
        if entry.price is not None:  # priced only while routing is active
            prices.setdefault(entry.model, entry.price)

    def price_of(model: str) -> Price | None:
        if model not in prices:
            prices[model] = price_in_force(session, model=model)
        return prices[model]

    spent = 0
    for step in llm_steps:
        route = _route(routing, dag, step, None if cap is None else cap - spent, price_of)
        model = routing.default if route is None else route.model
        priced.models[step.id] = model
        price = price_of(model)
        if route is not None:
            priced.routes[step.id] = route
        if price is None:
            priced.problems.append(_unpriced(model))
            continue
        priced.estimates[step.id] = estimate_micros(price, step.estimate_tokens)
        priced.reserves[step.id] = max_cost_micros(price, step.estimate_tokens)
        spent += priced.estimates[step.id]
    return priced


def _route(
    routing: Routing,
    dag: WorkflowDag,
    step: StepDef,
    budget_left: int | None,
    price_of: Callable[[str], Price | None],
) -> Route | None:
    """The step's route, or ``None`` when it runs unrouted (routing inactive, nothing pinned)."""
    pin, pinned_by = (step.model, "its step") if step.model else (dag.model, "its workflow")
    if pin is None and not routing.active:
        return None
    needs = step_needs(routing.rules, step.agent.partition(":")[2], step.estimate_tokens)
    return routing.route(
        needs,
        pin=pin,
        pinned_by=pinned_by,
        pin_price=None if pin is None else price_of(pin),
        budget_left=budget_left,
    )


def _unlimited(steps: list[StepDef]) -> list[Problem]:
    return [
        Problem(
            f"steps.{s.id}.estimate_tokens",
            f"step {s.id!r} has no estimate_tokens; with a budget cap it is the step's token "
            "limit: set it, or run without a budget cap",
        )
        for s in steps
        if not s.estimate_tokens
    ]


def _unpriced(model: str | None) -> Problem:
    return Problem(
        "budget_usd",
        f"no price is known for model {model or '(none configured)'}; set one with "
        "`missionctl prices set` (or on the Prices page), or run without a budget cap",
    )


def routed_events(
    routes: Mapping[str, Route], *, run_id: Any, mission_id: Any, actor: str
) -> list[NewEvent]:
    """One ``step.routed`` per routed step: the model, the reason and every model weighed."""
    return [
        NewEvent(
            type=ev.STEP_ROUTED,
            actor=actor,
            run_id=run_id,
            mission_id=mission_id,
            step_id=step_id,
            payload=route_payload(route),
        )
        for step_id, route in routes.items()
    ]


def route_read(payload: Mapping[str, Any]) -> RouteRead:
    """A ``step.routed`` event's payload as the step's page and API read it (USD)."""

    def usd(micros: Any) -> float | None:
        return None if micros is None else micros_to_usd(int(micros))

    return RouteRead(
        model=str(payload.get("model", "")),
        default_model=str(payload.get("default_model", "")),
        reason=str(payload.get("reason", "")),
        pinned=bool(payload.get("pinned")),
        estimate_usd=usd(payload.get("estimate_micros")),
        default_estimate_usd=usd(payload.get("default_estimate_micros")),
        considered=[
            ConsideredRead(
                model=str(c.get("model", "")),
                estimate_usd=usd(c.get("estimate_micros")),
                verdict=str(c.get("verdict", "")),
            )
            for c in payload.get("considered") or []
        ],
    )
