"""Model prices: admin overrides in ``model_prices`` first, then genai-prices' bundled data."""

from decimal import Decimal
from functools import cache
from typing import Any

from genai_prices import Usage, calc_price
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from missionctl.db.models import Mission, ModelPrice
from missionctl.db.types import utcnow
from missionctl.domain.budget import Price, cost_micros
from missionctl.errors import NotFound
from missionctl.eventlog import NewEvent, append
from missionctl.llm import LLMUsage
from missionctl.repositories import prices as repo
from missionctl.schemas.prices import PriceChange, PriceRead, PriceSet
from missionctl.services.runtime.context import ServiceContext

_MTOK = 1_000_000


def _micros(usd: Any) -> int:
    # A tiered price (long-context models) is given by its base tier: the price of a prompt
    # below the first threshold, which is what budgets estimate with.
    base = getattr(usd, "base", usd)
    return int((Decimal(str(base or 0)) * _MTOK).to_integral_value())


def bundled_price(model: str) -> Price | None:
    """The public list price genai-prices ships for ``model`` (no network), or ``None``."""
    try:
        calc = calc_price(
            Usage(input_tokens=_MTOK, output_tokens=_MTOK, cache_read_tokens=_MTOK), model_ref=model
        )
    except LookupError:
        return None
    mp = calc.model_price
    cached = getattr(mp, "cache_read_mtok", None) or getattr(mp, "input_mtok", 0)
    return Price(
        model=model,
        input_micros_per_mtok=_micros(getattr(mp, "input_mtok", 0)),
        cached_input_micros_per_mtok=_micros(cached),
        output_micros_per_mtok=_micros(getattr(mp, "output_mtok", 0)),
        source="genai-prices",
    )


@cache
def bundled_context(model: str) -> int | None:
    """The context window genai-prices ships for ``model`` (tokens), or ``None``."""
    try:
        calc = calc_price(Usage(input_tokens=1, output_tokens=1), model_ref=model)
    except LookupError:
        return None
    window = getattr(calc.model, "context_window", None)
    return int(window) if window else None


def price_in_force(session: Session, *, model: str) -> Price | None:
    """The price in force now for ``model``: the newest effective override, else the bundle.

    Blocking, as the writer thread calls it; an async service calls :func:`resolve_price`,
    which runs this same function on its session.
    """
    override = repo.read_override(session, model=model, at=utcnow())
    if override is not None:
        return Price(
            model=model,
            input_micros_per_mtok=override.input_micros_per_mtok,
            cached_input_micros_per_mtok=override.cached_input_micros_per_mtok,
            output_micros_per_mtok=override.output_micros_per_mtok,
            source="override",
        )
    return bundled_price(model)


async def resolve_price(session: AsyncSession, *, model: str) -> Price | None:
    """:func:`price_in_force` on an async session."""
    return await session.run_sync(price_in_force, model=model)


async def charge_planning(
    session: AsyncSession, mission: Mission, *, model: str, usage: LLMUsage
) -> int:
    """Add a planning's tokens, and their cost when ``model``'s price is known, to ``mission``.

    Planning that ends in a plan, a rejection or questions is charged alike.

    Returns:
        The micro-dollars charged (0 without tokens or without a price).
    """
    if not (usage.input_tokens or usage.output_tokens):
        return 0
    price = await resolve_price(session, model=model)
    micros = (
        cost_micros(
            price,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cached_input_tokens=usage.cached_input_tokens,
        )
        if price
        else 0
    )
    mission.input_tokens += usage.input_tokens
    mission.output_tokens += usage.output_tokens
    mission.spent_micros += micros
    return micros


def _read(price: Price) -> PriceRead:
    return PriceRead(
        model=price.model,
        input_usd_per_mtok=price.input_micros_per_mtok / _MTOK,
        cached_input_usd_per_mtok=price.cached_input_micros_per_mtok / _MTOK,
        output_usd_per_mtok=price.output_micros_per_mtok / _MTOK,
        source=price.source,
    )


async def read_price(ctx: ServiceContext, *, model: str) -> PriceRead:
    """The price in force for ``model``.

    Raises:
        NotFound: neither an override nor the bundled data knows the model.
    """
    async with ctx.read() as session:
        price = await resolve_price(session, model=model)
    if price is None:
        raise NotFound(
            f"no price is known for model {model!r}; set one with `missionctl prices set`",
            field="model",
        )
    return _read(price)


# Models shown in the price table even before anyone overrides them: the common ones.
FEATURED_MODELS = (
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-4.1-mini",
    "o3-mini",
    "claude-sonnet-4-5",
    "claude-haiku-4-5",
    "gemini-2.5-pro",
    "gemini-2.5-flash",
)


async def list_prices(
    ctx: ServiceContext, *, configured_model: str | None = None
) -> list[PriceRead]:
    """The price table: every overridden model, the configured model and the featured ones.

    Each row is the price in force now (override, else bundled); models no source knows are
    left out.
    """
    async with ctx.read() as session:
        overridden = await repo.read_overridden_models(session)
        names = dict.fromkeys(
            [
                *sorted(overridden),
                *([configured_model] if configured_model else []),
                *FEATURED_MODELS,
            ]
        )
        prices = [await resolve_price(session, model=name) for name in names]
    return [_read(price) for price in prices if price is not None]


async def price_table(ctx: ServiceContext) -> list[PriceRead]:
    """:func:`list_prices` with the model the settings configure (``llm.model``) among them."""
    return await list_prices(ctx, configured_model=ctx.settings.llm.model)


async def set_price(ctx: ServiceContext, *, data: PriceSet, actor: str) -> PriceRead:
    """Record an override for ``data.model`` in force from now (older ones stay as history).

    Without ``data.cached_input_usd_per_mtok`` the row stores the input price (the column is
    NOT NULL): cached tokens cost what input tokens cost. The ``price.set`` event says whether
    the cached-input price was given.
    """
    cached = data.cached_input_usd_per_mtok
    row = ModelPrice(
        model=data.model,
        input_micros_per_mtok=_micros(data.input_usd_per_mtok),
        cached_input_micros_per_mtok=_micros(
            cached if cached is not None else data.input_usd_per_mtok
        ),
        output_micros_per_mtok=_micros(data.output_usd_per_mtok),
        effective_from=utcnow(),
        created_by=actor,
    )
    async with ctx.write() as session:
        session.add(row)
        await session.flush()
        await append(
            session,
            [
                NewEvent(
                    type="price.set",
                    actor=actor,
                    payload={
                        "model": row.model,
                        "input_micros_per_mtok": row.input_micros_per_mtok,
                        "cached_input_micros_per_mtok": row.cached_input_micros_per_mtok,
                        "cached_input_given": cached is not None,
                        "output_micros_per_mtok": row.output_micros_per_mtok,
                    },
                )
            ],
        )
    return await read_price(ctx, model=data.model)


async def change_price(
    ctx: ServiceContext, *, model: str, change: PriceChange, actor: str
) -> PriceRead:
    """Override ``model``'s price with ``change`` (the API's request: its path names the model).

    As :func:`set_price` does, from now on; returns the price now in force.

    Raises:
        pydantic.ValidationError: ``model`` is empty or longer than ``MODEL_MAX_CHARS`` (the
            route's path refuses both before this runs).
    """
    data = PriceSet(model=model, **change.model_dump())
    return await set_price(ctx, data=data, actor=actor)
