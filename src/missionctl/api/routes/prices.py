"""``/api/v1/prices``: the model price table budgets are checked against (admins override it).

Prices are USD per million tokens. An override is in force from the moment it is set (older
ones stay as history); models without one use the bundled public list (genai-prices). Model
names contain ``.``, ``-`` and ``/`` (``openai/gpt-4.1``): the path takes them as they are.
"""

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from missionctl.api.deps import Context, Identity, P, requires
from missionctl.api.errors import BODY_RESPONSES, ERROR_RESPONSES
from missionctl.api.refusals import refusals
from missionctl.domain.refusals import DECIMAL_PLACES
from missionctl.schemas.missions import USD_TEXT, plain_text, usd_json_schema
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import pricing as price_service
from missionctl.services.usecases.pricing import CACHED_INPUT_NOT_SET, PriceRead, PriceSet

router = APIRouter(
    route_class=GuardedRoute, prefix="/prices", tags=["prices"], responses=ERROR_RESPONSES
)

# The same limits as ``PriceSet.model``, so a path that passes builds a valid ``PriceSet``.
Model = Annotated[
    str,
    Path(
        min_length=1,
        max_length=200,
        description="Model name, e.g. `gpt-4o-mini` or `openai/gpt-4.1`.",
    ),
    plain_text(200),  # no NUL, which PostgreSQL cannot compare or store (422, not 500)
]
Usd = Annotated[
    Decimal, Field(ge=0, le=10_000, decimal_places=6), USD_TEXT, usd_json_schema(10_000)
]


class PriceChange(BaseModel):
    """A model's new price, in USD per million tokens."""

    model_config = ConfigDict(extra="forbid")

    input_usd_per_mtok: Usd
    output_usd_per_mtok: Usd
    cached_input_usd_per_mtok: Usd | None = Field(default=None, description=CACHED_INPUT_NOT_SET)


@router.get("", response_model=list[PriceRead], dependencies=[requires(P.PRICES_READ)])
async def list_prices(ctx: Context) -> list[PriceRead]:
    """Overridden models, the configured model and the common ones, each at its price now."""
    return await price_service.list_prices(ctx, configured_model=ctx.settings.llm.model)


@router.get("/{model:path}", response_model=PriceRead, dependencies=[requires(P.PRICES_READ)])
async def get_price(model: Model, ctx: Context) -> PriceRead:
    """The price in force for a model and its `source` (404 when no source knows it)."""
    return await price_service.read_price(ctx, model=model)


@router.put(
    "/{model:path}",
    response_model=PriceRead,
    responses=BODY_RESPONSES,
    openapi_extra=refusals(
        {
            "input_usd_per_mtok": DECIMAL_PLACES,
            "output_usd_per_mtok": DECIMAL_PLACES,
            "cached_input_usd_per_mtok": DECIMAL_PLACES,
        }
    ),
)
async def set_price(
    model: Model,
    body: PriceChange,
    ctx: Context,
    who: Annotated[Identity, requires(P.PRICES_ADMIN)],
) -> PriceRead:
    """Override a model's price from now on (its `source` becomes `override`).

    Without `cached_input_usd_per_mtok` the model has no cache discount: the response shows the
    input price as the cached-input price, which is what budgets charge cached tokens.
    """
    data = PriceSet(
        model=model,
        input_usd_per_mtok=body.input_usd_per_mtok,
        output_usd_per_mtok=body.output_usd_per_mtok,
        cached_input_usd_per_mtok=body.cached_input_usd_per_mtok,
    )
    return await price_service.set_price(ctx, data=data, actor=who.actor)
