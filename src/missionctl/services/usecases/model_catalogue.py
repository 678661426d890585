"""The model catalogue routing chooses from (ADR 0119): what admins set, what the endpoint offers.

Reading it needs the records (``routing.routing_in_force``) to say which roles each model
earned or is barred from; changing an entry or syncing the endpoint's list forgets the cached
records, so the next run is routed with the change.
"""

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from missionctl.db.routing import CatalogueEntry
from missionctl.db.types import utcnow
from missionctl.domain import events as ev
from missionctl.domain.routing import Routing
from missionctl.errors import Conflict, Problem, ValidationFailed
from missionctl.eventlog import NewEvent, append_sync
from missionctl.llm.openai_client import OpenAICompatibleClient
from missionctl.repositories import routing as repo
from missionctl.schemas.prices import MODEL_MAX_CHARS
from missionctl.schemas.routing import CatalogueChange, CatalogueModelRead, load_rules
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.pricing import bundled_context, price_in_force, price_table
from missionctl.services.usecases.routing import forget_records, routing_in_force


async def list_catalogue(ctx: ServiceContext) -> list[CatalogueModelRead]:
    """The models routing may choose from: the price table's and every one an admin set.

    Each row says what routing knows of the model and where it comes from, with the roles its
    record (sure, in the evidence window) earned it or keeps it off.
    """
    names = [price.model for price in await price_table(ctx)]

    def read(session: Session) -> list[CatalogueModelRead]:
        entries = {e.model: e for e in repo.read_catalogue(session)}
        routing = routing_in_force(session, ctx, records=True)
        default = ctx.settings.llm.model
        ordered = dict.fromkeys([*([default] if default else []), *names, *sorted(entries)])
        return [_read(session, m, entries.get(m), routing, default) for m in ordered]

    return await ctx.read_blocking(read)


def _read(
    session: Session,
    model: str,
    entry: CatalogueEntry | None,
    routing: Routing | None,
    default: str | None,
) -> CatalogueModelRead:
    price = price_in_force(session, model=model)
    bundled = bundled_context(model)
    earned, barred = routing.judged_roles(model) if routing else ([], [])
    tier = entry.tier if entry else None
    context = entry.context_tokens if entry and entry.context_tokens else bundled
    return CatalogueModelRead(
        model=model,
        default=model == default,
        routable=model == default or bool(entry and entry.routable),
        tier=tier,
        tier_name=load_rules().tier_names.get(tier) if tier else None,
        context_tokens=context,
        context_source=(
            "admin" if entry and entry.context_tokens else "genai-prices" if bundled else None
        ),
        tool_use=entry.tool_use if entry else None,
        offered=entry.offered if entry else None,
        priced=price is not None,
        input_usd_per_mtok=None if price is None else price.input_micros_per_mtok / 1e6,
        output_usd_per_mtok=None if price is None else price.output_micros_per_mtok / 1e6,
        earned_roles=earned,
        barred_roles=barred,
        updated_by=entry.updated_by if entry else None,
        updated_at=entry.updated_at.isoformat() if entry else None,
    )


async def change_model(
    ctx: ServiceContext, *, model: str, change: CatalogueChange, actor: str
) -> CatalogueModelRead:
    """Set what ``change`` gives for ``model`` (fields it leaves out keep their value).

    A new entry starts not routable with nothing known; the ``model.set`` event records the
    entry as it now is. Routing reads the change from the next run it creates.

    Raises:
        ValidationFailed: ``change`` sets nothing.
    """
    given = change.model_dump(exclude_unset=True)
    if not given:
        raise ValidationFailed(
            [Problem("routable", "set at least one of routable, tier, context_tokens, tool_use")]
        )

    def write(session: Session) -> None:
        entry = repo.read_entry(session, model=model) or CatalogueEntry(
            model=model, routable=False, updated_by=actor
        )
        for name, value in given.items():
            setattr(entry, name, value)
        entry.updated_by = actor
        session.add(entry)
        session.flush()
        append_sync(
            session,
            [
                NewEvent(
                    type=ev.MODEL_SET,
                    actor=actor,
                    payload={
                        "model": model,
                        "changed": sorted(given),
                        "routable": entry.routable,
                        "tier": entry.tier,
                        "context_tokens": entry.context_tokens,
                        "tool_use": entry.tool_use,
                    },
                )
            ],
        )

    try:
        await ctx.write_blocking(write)
    except IntegrityError:
        # Another server added the model's entry at the same moment: change that one.
        await ctx.write_blocking(write)
    forget_records(ctx.db)
    return next(m for m in await list_catalogue(ctx) if m.model == model)


async def sync_models(ctx: ServiceContext, *, actor: str) -> list[CatalogueModelRead]:
    """Ask the configured endpoint which models it offers and record it in the catalogue.

    A model it lists that the catalogue lacks is added, not routable; every entry's
    ``offered`` says whether it was listed. One ``model.synced`` event records the list.

    Raises:
        Conflict: no endpoint is configured (409: the server's settings must name one).
        LLMUnavailable: the endpoint failed (503, naming it); nothing changes.
    """
    if not ctx.settings.llm.configured:
        raise Conflict(
            "no model endpoint is configured on the server: set MISSIONCTL_LLM_MODEL (and "
            "MISSIONCTL_LLM_BASE_URL) and restart it"
        )
    async with OpenAICompatibleClient.from_settings(ctx.settings.llm) as client:
        listed = await client.list_models()

    def write(session: Session) -> None:
        now = utcnow()
        entries = {e.model: e for e in repo.read_catalogue(session)}
        for model in listed[:MAX_LISTED]:
            if model not in entries and len(model) <= MODEL_MAX_CHARS:
                entries[model] = CatalogueEntry(model=model, routable=False, updated_by=actor)
                session.add(entries[model])
        for entry in entries.values():
            entry.offered, entry.listed_at = entry.model in listed, now
        session.flush()
        payload = {"listed": listed[:MAX_LISTED], "more": max(0, len(listed) - MAX_LISTED)}
        append_sync(session, [NewEvent(type=ev.MODEL_SYNCED, actor=actor, payload=payload)])

    await ctx.write_blocking(write)
    return await list_catalogue(ctx)


MAX_LISTED = 500
"""The most models a sync records: an endpoint listing thousands lists them for browsing."""
