"""The model catalogue that routing chooses from (ADR 0119, docs/routing.md).

Reading it needs ``prices:read``; changing a model's entry needs ``prices:admin`` (admins), as
its price does. A model's name contains ``.``, ``-`` and ``/``: the path takes it as it is.
"""

from missionctl.domain.access import Permission as P
from missionctl.operations import Operation
from missionctl.schemas.prices import ModelName
from missionctl.schemas.routing import CatalogueChange, CatalogueModelRead

_SERVICE = "missionctl.services.usecases.model_catalogue"

LIST: Operation[list[CatalogueModelRead]] = Operation(
    name="list_models",
    doc="The models routing may choose from: the configured one, the price table's and every "
    "one an admin set, with their tier, context, tool use, price and the roles their record "
    "earned them or keeps them off.",
    method="GET",
    path="/models",
    permission=P.PRICES_READ,
    service=f"{_SERVICE}:list_catalogue",
    output=list[CatalogueModelRead],
    cli="models list",
    mcp=True,
)
SET: Operation[CatalogueModelRead] = Operation(
    name="set_model",
    doc="Set whether routing may choose a model, and its tier, context size and tool use "
    "(fields left out keep their value). Runs created from now on are routed with it.",
    method="PUT",
    path="/models/{model:path}",
    permission=P.PRICES_ADMIN,
    service=f"{_SERVICE}:change_model",
    body=CatalogueChange,
    body_as="change",
    path_types={"model": ModelName},
    output=CatalogueModelRead,
    cli="models set",
)

SYNC: Operation[list[CatalogueModelRead]] = Operation(
    name="sync_models",
    doc="Ask the configured endpoint which models it offers (`GET /models`) and record it: "
    "models it lists are added (not routable), and routing never chooses one it did not list. "
    "409 when the server configures no endpoint; 503 when it fails.",
    method="POST",
    path="/catalogue/sync",
    permission=P.PRICES_ADMIN,
    service=f"{_SERVICE}:sync_models",
    output=list[CatalogueModelRead],
    errors=(409, 503),
    cli="models sync",
)

OPERATIONS = (LIST, SYNC, SET)
