"""``GET /api/v1/ids/<kind>/{prefix}``: the whole id that its first digits stand for.

A person at an 80-column terminal types the start of an id (``missionctl mission show
01a2182758``); the command asks here for the whole one. Each kind is a route of its own so
that it declares the permission that reading that kind of record needs: whoever may not read
webhooks cannot learn which webhook ids exist. 404 when no id of the kind starts so, 409
(listing a few) when several do, 422 when the text is not the start of an id.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Path

from missionctl.api.deps import Context, P, requires
from missionctl.api.errors import CONFLICT_RESPONSES, ERROR_RESPONSES
from missionctl.domain.id_prefixes import MIN_PREFIX_DIGITS
from missionctl.schemas.ids import IdKind, ResolvedId
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases.ids import resolve_id

router = APIRouter(route_class=GuardedRoute, tags=["ids"], responses=ERROR_RESPONSES)

PERMISSION_BY_KIND: dict[IdKind, P] = {
    IdKind.MISSIONS: P.MISSIONS_READ,
    IdKind.EPICS: P.MISSIONS_READ,
    IdKind.RUNS: P.RUNS_READ,
    IdKind.ARTIFACTS: P.ARTIFACTS_READ,
    IdKind.APPROVALS: P.APPROVALS_READ,
    IdKind.SPECS: P.MISSIONS_READ,
    IdKind.DECISIONS: P.MISSIONS_READ,
    IdKind.RISKS: P.MISSIONS_READ,
    IdKind.SCHEDULES: P.WORKFLOWS_READ,
    IdKind.WORKFLOWS: P.WORKFLOWS_READ,
    IdKind.WORKERS: P.AGENTS_READ,
    IdKind.WEBHOOKS: P.WEBHOOKS_ADMIN,
    IdKind.DELIVERIES: P.WEBHOOKS_ADMIN,
}
"""What reading each kind needs: the same permission as the kind's own routes."""


Prefix = Annotated[
    str,
    Path(
        min_length=MIN_PREFIX_DIGITS,
        max_length=36,
        pattern=r"^[0-9A-Fa-f-]+$",
        description="The id's first hexadecimal digits (at least 4), dashes optional.",
    ),
]


def _resolver(kind: IdKind) -> Callable[[str, Context], Awaitable[ResolvedId]]:
    async def resolve(prefix: Prefix, ctx: Context) -> ResolvedId:
        return await resolve_id(ctx, kind=kind, prefix=prefix)

    resolve.__doc__ = (
        f"The id of the one {kind.singular} whose id starts with `prefix` "
        "(at least 4 hexadecimal digits, dashes optional)."
    )
    return resolve


for _kind in IdKind:
    router.add_api_route(
        f"/ids/{_kind.value}/{{prefix}}",
        _resolver(_kind),
        methods=["GET"],
        name=f"resolve_{_kind.value}_id",
        response_model=ResolvedId,
        responses=CONFLICT_RESPONSES,
        dependencies=[requires(PERMISSION_BY_KIND[_kind])],
        # Plumbing of the CLI's id arguments, documented in the guide; twelve more operations
        # in /docs would be twelve lines of the same thing.
        include_in_schema=False,
    )
