"""Model prices: the table budgets are checked against (admins override it).

Prices are USD per million tokens. Reading them needs ``prices:read``; setting one needs
``prices:admin`` (admins). An override is in force from the moment it is set (older ones stay
as history); models without one use the bundled public list (genai-prices). Model names contain
``.``, ``-`` and ``/`` (``openai/gpt-4.1``): the path takes them as they are, through the
``path`` convertor. A price with more than 6 decimal places is a 422 naming the field.

MCP offers the table; one model's price takes a narrower path parameter than an MCP tool's
(``path_types``), and setting a price stays with the API, the pages and the CLI, as the other
administration of users, tokens and webhooks does.
"""

from missionctl.domain.access import Permission as P
from missionctl.domain.refusals import DECIMAL_PLACES
from missionctl.operations import Operation
from missionctl.schemas.prices import ModelName, PriceChange, PriceRead

_SERVICE = "missionctl.services.usecases.pricing"

LIST: Operation[list[PriceRead]] = Operation(
    name="list_prices",
    doc="Overridden models, the configured model and the common ones, each at its price now.",
    method="GET",
    path="/prices",
    permission=P.PRICES_READ,
    service=f"{_SERVICE}:price_table",
    output=list[PriceRead],
    cli="prices list",
    mcp=True,
)
READ: Operation[PriceRead] = Operation(
    # Named as the route was before it was declared, so its OpenAPI operation id stays.
    name="get_price",
    doc="The price in force for a model and its `source` (404 when no source knows it).",
    method="GET",
    path="/prices/{model:path}",
    permission=P.PRICES_READ,
    service=f"{_SERVICE}:read_price",
    path_types={"model": ModelName},
    output=PriceRead,
    cli="prices show",
)
SET: Operation[PriceRead] = Operation(
    name="set_price",
    doc="Override a model's price from now on (its `source` becomes `override`).\n\n"
    "Without `cached_input_usd_per_mtok` the model has no cache discount: the response shows "
    "the input price as the cached-input price, which is what budgets charge cached tokens.",
    method="PUT",
    path="/prices/{model:path}",
    permission=P.PRICES_ADMIN,
    service=f"{_SERVICE}:change_price",
    body=PriceChange,
    body_as="change",
    path_types={"model": ModelName},
    refusals={
        "input_usd_per_mtok": DECIMAL_PLACES,
        "output_usd_per_mtok": DECIMAL_PLACES,
        "cached_input_usd_per_mtok": DECIMAL_PLACES,
    },
    output=PriceRead,
    cli="prices set",
)

OPERATIONS = (LIST, READ, SET)
