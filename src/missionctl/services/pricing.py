"""Model prices: admin overrides in ``model_prices`` first, then genai-prices' bundled data."""

from decimal import Decimal

from genai_prices import Usage, calc_price
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import ModelPrice
from missionctl.db.types import utcnow
from missionctl.domain.budget import Price

_MTOK = 1_000_000


def _micros(usd: Decimal | int | float | None) -> int:
    return int((Decimal(str(usd or 0)) * _MTOK).to_integral_value())


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


async def resolve_price(session: AsyncSession, *, model: str) -> Price | None:
    """The price in force now for ``model``: the newest effective override, else the bundle."""
    row = await session.scalar(
        select(ModelPrice)
        .where(ModelPrice.model == model, ModelPrice.effective_from <= utcnow())
        .order_by(ModelPrice.effective_from.desc())
        .limit(1)
    )
    if row is not None:
        return Price(
            model=model,
            input_micros_per_mtok=row.input_micros_per_mtok,
            cached_input_micros_per_mtok=row.cached_input_micros_per_mtok,
            output_micros_per_mtok=row.output_micros_per_mtok,
            source="override",
        )
    return bundled_price(model)
