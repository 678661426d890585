"""Whole ids from their first digits, as ``git`` takes a commit's (``domain.id_prefixes``)."""

import uuid
from collections.abc import Sequence

from missionctl.domain.id_prefixes import IdPrefix
from missionctl.errors import Conflict, NotFound, Problem, ValidationFailed
from missionctl.repositories import ids as ids_repo
from missionctl.schemas.ids import IdKind, ResolvedId
from missionctl.services.runtime.context import ServiceContext

_CANDIDATES_SHOWN = 5


async def resolve_id(ctx: ServiceContext, *, kind: IdKind, prefix: str) -> ResolvedId:
    """The one id of ``kind`` that starts with ``prefix`` (dashes optional, any case).

    Raises:
        ValidationFailed: ``prefix`` is not the start of an id (field ``prefix``).
        NotFound: no id of that kind starts with it.
        Conflict: several do; the message lists the first few, to type more of one.
    """
    try:
        wanted = IdPrefix.parse(prefix)
    except ValueError as exc:
        raise ValidationFailed([Problem(field="prefix", message=str(exc))]) from None
    async with ctx.read() as session:
        found = await ids_repo.ids_between(
            session, kind, wanted.lowest, wanted.highest, limit=_CANDIDATES_SHOWN + 1
        )
    if not found:
        raise NotFound(f"no {kind.singular} has an id that starts with {prefix!r}")
    if len(found) > 1:
        raise Conflict(_ambiguous(kind, prefix, found))
    return ResolvedId(id=found[0])


def _ambiguous(kind: IdKind, prefix: str, found: Sequence[uuid.UUID]) -> str:
    shown = ", ".join(str(i) for i in found[:_CANDIDATES_SHOWN])
    more = " and more" if len(found) > _CANDIDATES_SHOWN else ""
    return (
        f"{prefix!r} starts the ids of several {kind.value}: {shown}{more}; "
        "type more of the one you mean"
    )
