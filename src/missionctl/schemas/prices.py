"""Model prices, in USD per million tokens: the price in force for a model, and an override.

An override is in force from the moment it is set (older ones stay as history); models
without one use the bundled public list. Model names contain ``.``, ``-`` and ``/``
(``openai/gpt-4.1``).
"""

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from missionctl.schemas.missions import USD_TEXT, plain_text, usd_json_schema

MODEL_MAX_CHARS = 200
"""The longest model name a price is kept for."""

# What leaving the cached-input price out means. ``model_prices.cached_input_micros_per_mtok``
# is NOT NULL, so the row stores the input price; the ``price.set`` event records that it was
# not given (``cached_input_given``), and readers show "= input" rather than a made-up discount.
CACHED_INPUT_NOT_SET = (
    "Optional. When not set, the model has no cache discount: "
    "cached tokens are charged at the input price."
)

ModelName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MODEL_MAX_CHARS,
        description="Model name, e.g. `gpt-4o-mini` or `openai/gpt-4.1`.",
    ),
    plain_text(MODEL_MAX_CHARS),  # no NUL, which PostgreSQL cannot compare or store (422)
]
"""A model's name in a path: the same limits as ``PriceSet.model``, and no NUL."""

Usd = Annotated[
    Decimal, Field(ge=0, le=10_000, decimal_places=6), USD_TEXT, usd_json_schema(10_000)
]
"""A price in USD per million tokens: 0 to 10,000 with at most 6 decimal places."""


class PriceRead(BaseModel):
    """A model's effective price, in USD per million tokens, and where it comes from."""

    model: str
    input_usd_per_mtok: float
    cached_input_usd_per_mtok: float
    output_usd_per_mtok: float
    source: str


class PriceSet(BaseModel):
    """An admin's price for a model (USD per million tokens)."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=MODEL_MAX_CHARS)
    input_usd_per_mtok: Decimal = Field(ge=0, le=10_000, decimal_places=6)
    output_usd_per_mtok: Decimal = Field(ge=0, le=10_000, decimal_places=6)
    cached_input_usd_per_mtok: Decimal | None = Field(
        default=None,
        ge=0,
        le=10_000,
        decimal_places=6,
        description=CACHED_INPUT_NOT_SET,
    )


class PriceChange(BaseModel):
    """A model's new price, in USD per million tokens."""

    model_config = ConfigDict(extra="forbid")

    input_usd_per_mtok: Usd
    output_usd_per_mtok: Usd
    cached_input_usd_per_mtok: Usd | None = Field(default=None, description=CACHED_INPUT_NOT_SET)
