"""The document studio: generate, list, read, compare and export a mission's documents.

``generate_document`` reads what a writer needs (``documents.sources``: the mission, its newest
plan, its decision log and risk register, the runs of that plan), has the model write the kind
of document when one is configured (the local writer stands in on a timeout or a failure, and
says why: ``documents.model_writer``) or the local writer otherwise, and stores it as the next
version of that kind, with a ``document.generated`` event, in one transaction that locks the
mission's row: two generations at once take turns and get consecutive versions. The model's
tokens are charged to the mission like the planner's (``pricing.charge_planning``).
Versions are never edited (ADR 0053).
"""

import asyncio
import difflib
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Decision, Document, Risk
from missionctl.db.types import utcnow
from missionctl.documents.catalog import catalog, kind_spec
from missionctl.documents.export import MEDIA_TYPES, body_html, to_html, to_pdf
from missionctl.documents.local import write_local
from missionctl.documents.model_writer import LOCAL_WRITER, Written, write_document
from missionctl.documents.sources import ArtifactOutcome, DocumentSources, RunOutcome, StepOutcome
from missionctl.domain.budget import Price, cost_micros, token_allowance
from missionctl.domain.diagrams import MissionDiagrams
from missionctl.domain.events import DOCUMENT_GENERATED
from missionctl.domain.files import FileAnswer
from missionctl.domain.ids import new_id
from missionctl.domain.slugs import slug
from missionctl.errors import NotFound
from missionctl.eventlog import NewEvent, append
from missionctl.llm import LLMClient
from missionctl.llm.protocol import LLMUsage
from missionctl.llm.redaction import redact
from missionctl.repositories import artifacts as artifact_repo
from missionctl.repositories import dashboard as dashboard_repo
from missionctl.repositories import documents as document_repo
from missionctl.repositories import missions as mission_repo
from missionctl.repositories import plans as plan_repo
from missionctl.repositories import register as register_repo
from missionctl.repositories import runs as run_repo
from missionctl.schemas.diagrams import diagrams_read, mission_diagrams_from_read
from missionctl.schemas.documents import (
    DocumentCompareRead,
    DocumentDiffLine,
    DocumentKind,
    DocumentKindRead,
    DocumentRead,
    DocumentVersionRead,
    ExportFormat,
)
from missionctl.schemas.missions import MissionRead
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases import decision_log, risk_register
from missionctl.services.usecases import diagrams as diagram_service
from missionctl.services.usecases import missions as mission_service
from missionctl.services.usecases import plans as plan_service
from missionctl.services.usecases.pricing import charge_planning, resolve_price
from missionctl.services.usecases.register_common import lock_mission, require_mission
from missionctl.services.usecases.reports import outcome_of

MAX_ARTIFACTS_PER_RUN = 5000
"""Artifacts read per run (the artifacts list's own limit)."""
TITLE_MAX_CHARS = 300


async def read_sources(ctx: ServiceContext, *, mission_id: uuid.UUID) -> DocumentSources:
    """What a writer reads of ``mission_id``: its newest plan, register and runs of that plan.

    Raises:
        NotFound: no such mission (``field="mission_id"``).
        Conflict: the mission has no plan yet (``field="mission_id"``): plan it first.
    """
    mission, plan = await plan_service.read_planned(
        ctx, mission_id=mission_id, version=None, lacking="so there is nothing to write from"
    )
    runs: list[RunOutcome] = []
    async with ctx.read() as session:  # one snapshot of the register and the runs
        decisions = await register_repo.read_current(session, model=Decision, mission_id=mission_id)
        links = await register_repo.read_links(session, mission_id=mission_id)
        risks = await register_repo.read_current(session, model=Risk, mission_id=mission_id)
        for row in await dashboard_repo.read_mission_runs(session, mission_id=mission_id):
            if row.plan_id == plan.id:
                runs.append(await _run_outcome(session, row.id))
    return DocumentSources(
        mission,
        plan,
        tuple(decision_log.to_read(d, links) for d in decisions),
        tuple(risk_register.to_read(r) for r in risks),
        tuple(runs),
        diagram_service.draw_plan(mission, plan),
    )


async def _run_outcome(session: AsyncSession, run_id: uuid.UUID) -> RunOutcome:
    run = await run_repo.read_run(session, run_id=run_id)
    assert run is not None  # listed a moment ago in the same snapshot
    steps = await run_repo.read_step_runs(session, run_id=run_id)
    artifacts = await artifact_repo.read_artifacts_with_steps(
        session, limit=MAX_ARTIFACTS_PER_RUN, run_id=run_id
    )
    return RunOutcome(
        id=run.id,
        status=str(run.status),
        cost_micros=run.spent_micros,
        input_tokens=run.input_tokens,
        output_tokens=run.output_tokens,
        error=run.error,
        steps=tuple(
            StepOutcome(
                s.step_id,
                str(s.status),
                s.agent,
                s.attempt,
                s.cost_micros,
                s.error,
                outcome_of(s),
            )
            for s in steps
        ),
        artifacts=tuple(ArtifactOutcome(a.name, a.kind, a.size, step) for a, step in artifacts),
    )


@dataclass(slots=True)
class _Budget:
    """What a mission with a budget has left for the model (micro-USD), and the model's price."""

    left: int
    price: Price | None


async def _read_budget(ctx: ServiceContext, mission_id: uuid.UUID, model: str) -> _Budget | None:
    """The mission's budget left and ``model``'s price, or ``None`` for a mission without one."""
    async with ctx.read() as session:
        row = await mission_repo.read_mission(session, mission_id=mission_id)
        if row is None or row.budget_micros is None:
            return None
        left = max(0, row.budget_micros - row.spent_micros)
        return _Budget(left, await resolve_price(session, model=model))


async def _write(
    ctx: ServiceContext,
    kind: DocumentKind,
    sources: DocumentSources,
    llm: LLMClient | None,
    budget: _Budget | None,
) -> tuple[Written, DocumentSources]:
    """The document, by ``llm`` within what ``budget`` has left, or locally, and its sources.

    A technical design's diagrams are drawn by the model first (they are what its
    architecture section describes), within the same deadline and budget, or left as the
    local rules drew them. What the model spent is taken off ``budget``, so the next document
    of the same call sees what is left (they are charged together when stored).
    """
    if llm is None:
        return Written(write_local(kind, sources), LOCAL_WRITER), sources
    max_tokens = None
    if budget is not None:
        if budget.price is None:
            note = (
                f"No price is known for the model {llm.model}, so the mission's budget cannot "
                "be kept; the local writer wrote this version (set one with `missionctl prices "
                "set`)."
            )
            return Written(write_local(kind, sources), LOCAL_WRITER, (note,)), sources
        max_tokens = token_allowance(budget.price, budget.left)
    timeout = ctx.settings.documents.model_timeout_s
    drawing = LLMUsage()
    if kind == "technical_design":
        # One deadline for the design: its diagrams may take a third of it, the text the rest.
        started = time.monotonic()
        drawn = await diagram_service.draw_with_model(
            llm, sources.mission, sources.plan, timeout_s=timeout / 3, max_tokens=max_tokens
        )
        sources, drawing = replace(sources, diagrams=drawn.diagrams), drawn.usage
        timeout = round(max(0.1, timeout - (time.monotonic() - started)), 1)
        if budget is not None and budget.price is not None:
            budget.left = max(0, budget.left - _cost(budget.price, drawing))
            max_tokens = token_allowance(budget.price, budget.left)
    written = await write_document(
        kind, sources, client=llm, timeout_s=timeout, max_tokens=max_tokens
    )
    if budget is not None and budget.price is not None:
        budget.left = max(0, budget.left - _cost(budget.price, written.usage))
    return replace(written, usage=written.usage + drawing), sources


def _cost(price: Price, usage: LLMUsage) -> int:
    """What ``usage`` costs at ``price``, in micro-USD."""
    return cost_micros(
        price,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_input_tokens=usage.cached_input_tokens,
    )


async def generate_document(
    ctx: ServiceContext,
    *,
    mission_id: uuid.UUID,
    kind: DocumentKind,
    actor: str,
    llm: LLMClient | None,
) -> DocumentRead:
    """Write the mission's ``kind`` document and store it as that kind's next version.

    The model writes it when ``llm`` is given (within the mission's budget, the deadline of
    ``settings.documents.model_timeout_s``); otherwise, or when the model fails, the local
    writer, and ``notes`` say why. Appends ``document.generated``.

    Raises:
        NotFound: no such mission (``field="mission_id"``).
        Conflict: the mission has no plan yet (``field="mission_id"``): plan it first.
    """
    written = await generate_documents(
        ctx, mission_id=mission_id, kinds=[kind], actor=actor, llm=llm
    )
    return written[0]


async def generate_documents(
    ctx: ServiceContext,
    *,
    mission_id: uuid.UUID,
    kinds: Sequence[DocumentKind],
    actor: str,
    llm: LLMClient | None,
) -> list[DocumentRead]:
    """Write each of ``kinds`` from one reading of the sources; store them in one transaction.

    Each becomes its kind's next version, with its own ``document.generated``; as
    :func:`generate_document` otherwise.

    Raises:
        NotFound: no such mission (``field="mission_id"``).
        Conflict: the mission has no plan yet (``field="mission_id"``): plan it first.
    """
    sources = await read_sources(ctx, mission_id=mission_id)
    budget = None if llm is None else await _read_budget(ctx, mission_id, llm.model)
    written = [(kind, *await _write(ctx, kind, sources, llm, budget)) for kind in kinds]
    async with ctx.write() as session:
        mission = await lock_mission(session, mission_id)
        rows: list[Document] = []
        events: list[NewEvent] = []
        for kind, text, used in written:
            row = await _stored(session, kind, used, text, actor)
            charged = 0
            if llm is not None:
                charged = await charge_planning(session, mission, model=llm.model, usage=text.usage)
            rows.append(row)
            events.append(_generated(row, kind_spec(kind).title, charged))
        await session.flush()
        await append(session, events)
        return [to_read(row) for row in rows]


async def _stored(
    session: AsyncSession, kind: DocumentKind, sources: DocumentSources, text: Written, actor: str
) -> Document:
    """The new version's row, added to ``session`` (its mission's row is locked)."""
    title = redact(f"{kind_spec(kind).title}: {sources.mission.title}")[:TITLE_MAX_CHARS]
    mission_id = sources.mission.id
    row = Document(
        id=new_id(),
        mission_id=mission_id,
        kind=kind,
        version=await document_repo.next_version(session, mission_id=mission_id, kind=kind),
        title=title,
        body=redact(text.body),
        plan_version=sources.plan.version,
        writer=text.writer,
        notes=[redact(n) for n in text.notes],
        author=actor,
        input_tokens=text.usage.input_tokens,
        output_tokens=text.usage.output_tokens,
        diagrams=_stored_diagrams(kind, sources),
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()  # the next kind's version query sees this one
    return row


def _stored_diagrams(kind: DocumentKind, sources: DocumentSources) -> dict[str, Any] | None:
    """The diagrams a technical design shows, as stored with it (redacted like its text)."""
    if kind != "technical_design" or sources.diagrams is None:
        return None
    found = diagrams_read(sources.mission.id, sources.diagrams).model_dump(mode="json")
    redacted: dict[str, Any] = redact(found)  # every string of it, keys too
    return redacted


def _generated(row: Document, title: str, charged: int) -> NewEvent:
    return NewEvent(
        type=DOCUMENT_GENERATED,
        actor=row.author,
        mission_id=row.mission_id,
        payload={
            "document_id": str(row.id),
            "kind": row.kind,
            "title": title,
            "version": row.version,
            "plan_version": row.plan_version,
            "writer": row.writer,
            "fell_back": bool(row.notes),
            "notes": row.notes,
            "input_tokens": row.input_tokens,
            "output_tokens": row.output_tokens,
            "cost_micros": charged,
        },
    )


def to_read(row: Document) -> DocumentRead:
    """A stored version as clients read it."""
    return DocumentRead.model_validate(row, from_attributes=True)


async def list_documents(ctx: ServiceContext, *, mission_id: uuid.UUID) -> list[DocumentKindRead]:
    """Every kind of document, in the studio's order, each with the mission's versions.

    Raises:
        NotFound: no such mission.
    """
    async with ctx.read() as session:
        await require_mission(session, mission_id)
        rows = await document_repo.read_versions(session, mission_id=mission_id)
    by_kind: dict[str, list[DocumentVersionRead]] = {}
    for row in rows:
        by_kind.setdefault(row.kind, []).append(
            DocumentVersionRead.model_validate(row, from_attributes=True)
        )
    return [
        DocumentKindRead(
            kind=spec.key, title=spec.title, purpose=spec.purpose, versions=by_kind.get(key, [])
        )
        for key, spec in catalog().items()
    ]


async def read_document(
    ctx: ServiceContext, *, mission_id: uuid.UUID, kind: DocumentKind, version: int | None
) -> DocumentRead:
    """Version ``version`` of the mission's ``kind`` document (default: the latest).

    Raises:
        NotFound: no such mission (``field="mission_id"``), no document of that kind yet
            (``field="kind"``: generate it first) or no such version (``field="version"``).
    """
    async with ctx.read() as session:
        await require_mission(session, mission_id)
        row = await document_repo.read_document(
            session, mission_id=mission_id, kind=kind, version=version
        )
        if row is None:
            latest = await document_repo.next_version(session, mission_id=mission_id, kind=kind)
    if row is not None:
        return to_read(row)
    if latest == 1:
        raise NotFound(
            f"mission {mission_id} has no {kind} document yet; generate it first "
            f"(POST /api/v1/missions/{mission_id}/documents with kind {kind}, or "
            f"`missionctl docs generate {mission_id} --kind {kind}`)",
            field="kind",
        )
    raise NotFound(
        f"the {kind} document has no version {version}; its versions are 1 to {latest - 1}",
        field="version",
    )


async def compare_documents(
    ctx: ServiceContext, *, mission_id: uuid.UUID, kind: DocumentKind, base: int, target: int
) -> DocumentCompareRead:
    """Versions ``base`` and ``target`` of a kind compared line by line.

    Raises:
        NotFound: as :func:`read_document`, for either version.
    """
    old = await read_document(ctx, mission_id=mission_id, kind=kind, version=base)
    new = await read_document(ctx, mission_id=mission_id, kind=kind, version=target)
    return await asyncio.to_thread(compare, old, new)  # long documents: off the event loop


def compare(old: DocumentRead, new: DocumentRead) -> DocumentCompareRead:
    """The line diff of two versions: each line kept, added or removed.

    Lines are compared whole (``difflib.SequenceMatcher`` over lines, no junk heuristic and no
    intraline matching): ``ndiff``'s character matching inside changed lines is quadratic, and
    a model that rewords every line of a long document made it take a minute.
    """
    before, after = old.body.splitlines(), new.body.splitlines()
    lines: list[DocumentDiffLine] = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            lines += [DocumentDiffLine(op="same", text=text) for text in before[i1:i2]]
            continue
        lines += [DocumentDiffLine(op="removed", text=text) for text in before[i1:i2]]
        lines += [DocumentDiffLine(op="added", text=text) for text in after[j1:j2]]
    added = sum(line.op == "added" for line in lines)
    removed = sum(line.op == "removed" for line in lines)
    return DocumentCompareRead(
        kind=new.kind,
        base=old.version,
        target=new.version,
        same=not (added or removed),
        added=added,
        removed=removed,
        lines=lines,
    )


async def export_document(
    ctx: ServiceContext,
    *,
    mission_id: uuid.UUID,
    kind: DocumentKind,
    version: int | None,
    format: ExportFormat,
) -> FileAnswer:
    """Version ``version`` (default: the latest) as Markdown, standalone HTML or PDF.

    The file is named after the version's title (the kind and the mission's title), as
    ``<title-slug>-v<N>.<format>``.

    Raises:
        NotFound: as :func:`read_document`.
    """
    document = await read_document(ctx, mission_id=mission_id, kind=kind, version=version)
    # A PDF of a long document takes seconds to draw: not on the event loop.
    return await asyncio.to_thread(export, document, format)


def export(document: DocumentRead, fmt: ExportFormat) -> FileAnswer:
    """``document`` as a file in ``fmt`` (pure)."""
    name = f"{slug(document.title, max_chars=60)}-v{document.version}.{fmt}"
    diagrams = document_diagrams(document)
    if fmt == "md":
        content = document.body.encode("utf-8")
    elif fmt == "html":
        content = to_html(document.title, document.body, diagrams).encode("utf-8")
    else:
        content = to_pdf(document.title, document.body, diagrams)
    return FileAnswer(content, MEDIA_TYPES[fmt], name=name)


def document_diagrams(document: DocumentRead) -> MissionDiagrams | None:
    """The diagrams stored with ``document`` (a technical design's), or ``None``."""
    return None if document.diagrams is None else mission_diagrams_from_read(document.diagrams)


def document_html(document: DocumentRead) -> str:
    """``document``'s body as sanitised HTML with its diagrams drawn in place (pure)."""
    return body_html(document.body, document_diagrams(document))


@dataclass(frozen=True, slots=True)
class Studio:
    """What the studio page shows: the mission, every kind's versions, the chosen one."""

    mission: MissionRead
    planned: bool
    kinds: list[DocumentKindRead]
    kind: DocumentKindRead
    document: DocumentRead | None
    diff: DocumentCompareRead | None


async def read_studio(
    ctx: ServiceContext,
    *,
    mission_id: uuid.UUID,
    kind: DocumentKind,
    version: int | None,
    compare_with: int | None,
) -> Studio:
    """The studio of ``mission_id`` showing ``kind`` at ``version`` (default: the latest).

    ``compare_with`` adds the diff from that version to the one shown.

    Raises:
        NotFound: no such mission, or no such version (``field="version"``).
    """
    mission = await mission_service.read_mission(ctx, mission_id=mission_id)
    async with ctx.read() as session:
        planned = await plan_repo.has_plan(session, mission_id=mission_id)
    kinds = await list_documents(ctx, mission_id=mission_id)
    chosen = next(k for k in kinds if k.kind == kind)
    document = None
    if chosen.versions or version is not None:
        document = await read_document(ctx, mission_id=mission_id, kind=kind, version=version)
    diff = None
    if document is not None and compare_with is not None:
        base = await read_document(ctx, mission_id=mission_id, kind=kind, version=compare_with)
        diff = await asyncio.to_thread(compare, base, document)
    return Studio(mission, planned, kinds, chosen, document, diff)


__all__ = [
    "Studio",
    "compare_documents",
    "export_document",
    "generate_document",
    "generate_documents",
    "list_documents",
    "read_document",
    "read_sources",
    "read_studio",
]
