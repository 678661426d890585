"""The event feed and the audit explorer: filtered pages of the event log and of runs, and exports.

``read_event_feed`` is ``GET /api/v1/events`` (``search_events``) and the Events and Audit
pages' event list; ``search_runs`` is the audit explorer's run search (``search_audit_runs``
its route); ``export_events`` and ``export_runs`` stream a search as CSV or JSON Lines, a page
of rows at a time, each page read in a short transaction of its own, so an export of any size
holds one page in memory and no snapshot open between pages (however slowly the client reads).
ADR 0040 says why.
The live feed is ``services.usecases.dashboard.follow_events`` with the same ``EventFilters``.
"""

import csv
import io
import json
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

from missionctl.db.models import Event
from missionctl.domain.events import PAYLOAD_SEVERITY_TYPES, Severity, severity_of
from missionctl.errors import Problem, ValidationFailed
from missionctl.eventlog import EventRecord
from missionctl.llm.redaction import redact
from missionctl.repositories import dashboard as dashboard_repo
from missionctl.repositories import events as event_repo
from missionctl.repositories import missions as mission_repo
from missionctl.repositories import runs as run_repo
from missionctl.schemas.dashboard import EventItem
from missionctl.schemas.events import (
    MAX_FEED_PAGE,
    MAX_SEQ,
    AuditRunFilters,
    AuditRunQuery,
    EventFeedItem,
    EventFeedPage,
    EventFilters,
    EventQuery,
    ExportFormat,
    SubjectNames,
)
from missionctl.schemas.runs import RunFilters, RunPage
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.dashboard import read_runs
from missionctl.services.usecases.money import micros_to_usd

EXPORT_PAGE = 10_000
"""Rows read from the database per transaction while exporting: few enough to hold in memory
(a few MB), many enough that the transactions' and queries' own costs are a small share."""

EVENT_COLUMNS = (
    "seq",
    "ts",
    "type",
    "severity",
    "actor",
    "mission_id",
    "run_id",
    "step_id",
    "payload",
)
RUN_COLUMNS = (
    "id",
    "workflow",
    "workflow_version",
    "status",
    "created_by",
    "created_at",
    "started_at",
    "ended_at",
    "mission_id",
    "trigger",
    "spent_usd",
    "input_tokens",
    "output_tokens",
    "error",
)


def to_feed_item(row: Event | EventRecord | EventItem) -> EventFeedItem:
    """An event of the log as the feed shows it, with its severity."""
    return EventFeedItem(
        seq=row.seq,
        ts=row.ts,
        type=row.type,
        severity=severity_of(row.type, row.payload),
        actor=row.actor,
        mission_id=row.mission_id,
        run_id=row.run_id,
        step_id=row.step_id,
        payload=row.payload,
    )


async def name_subjects(ctx: ServiceContext, items: Sequence[EventFeedItem]) -> SubjectNames:
    """The titles of the missions and the workflows of the runs that ``items`` concern.

    One read for a whole page (or a live batch), so that a list can name what each event is
    about rather than show its ids; a mission or run no longer found is left out.
    """
    mission_ids = {item.mission_id for item in items if item.mission_id is not None}
    run_ids = {item.run_id for item in items if item.run_id is not None}
    if not mission_ids and not run_ids:
        return SubjectNames()
    async with ctx.read() as session:
        missions = await mission_repo.read_titles(session, mission_ids=mission_ids)
        runs = await run_repo.read_workflow_names(session, run_ids=run_ids)
    return SubjectNames(missions=missions, runs=runs)


_NO_PAYLOAD: Mapping[str, Any] = MappingProxyType({})


def _severity(event_type: str, payload_text: str) -> Severity:
    """``severity_of`` the event whose payload is stored as ``payload_text``.

    The payload is decoded only for the types whose severity depends on it (a ``step.log``);
    every other type's severity is its type's, whatever the payload says.
    """
    if event_type in PAYLOAD_SEVERITY_TYPES:
        return severity_of(event_type, json.loads(payload_text))
    return severity_of(event_type, _NO_PAYLOAD)


def _event_record(row: Any) -> dict[str, Any]:
    """A row of ``read_event_rows`` as ``to_feed_item(event).model_dump(mode="json")`` gives it.

    Built straight from the row (an export builds one per event: skipping the model's
    validation halves its cost), its payload decoded from the stored JSON text.
    """
    seq, ts, type_, actor, mission_id, run_id, step_id, payload_text = row
    payload = json.loads(payload_text)
    return {
        "seq": seq,
        "ts": ts,
        "type": type_,
        "severity": severity_of(type_, payload),
        "actor": actor,
        "mission_id": mission_id,
        "run_id": run_id,
        "step_id": step_id,
        "payload": payload,
    }


def _check_page(*, limit: int, before: int | None, after: int | None) -> None:
    """Raise ``ValidationFailed`` naming every paging argument out of range."""
    problems: list[Problem] = []
    if not 1 <= limit <= MAX_FEED_PAGE:
        problems.append(Problem("limit", f"must be between 1 and {MAX_FEED_PAGE}"))
    for name, cursor in (("before", before), ("after", after)):
        if cursor is not None and not 0 <= cursor <= MAX_SEQ:
            problems.append(Problem(name, f"must be a seq between 0 and {MAX_SEQ}"))
    if problems:
        raise ValidationFailed(problems)


async def read_event_feed(
    ctx: ServiceContext,
    *,
    filters: EventFilters,
    before: int | None = None,
    after: int | None = None,
    limit: int = 50,
) -> EventFeedPage:
    """A page of the events matching ``filters``, newest first (keyset paging by ``seq``).

    Without cursors: the newest ``limit``. With ``before``: the ``limit`` newest older than it
    (``next_before`` of the previous page). With ``after``: the ``limit`` oldest newer than it
    (what a poller has not seen yet; page on with ``after=newest``), still newest first.

    Raises:
        ValidationFailed: ``limit`` or a cursor is out of range (each named).
    """
    _check_page(limit=limit, before=before, after=after)
    oldest_first = after is not None and before is None
    async with ctx.read() as session:
        rows = await event_repo.read_event_feed(
            session,
            filters=filters,
            before=before,
            after=after,
            limit=limit + 1,
            oldest_first=oldest_first,
        )
    more = len(rows) > limit
    rows = rows[:limit]
    items = [to_feed_item(row) for row in rows]
    if oldest_first:
        items.reverse()
    newest = items[0].seq if items else (after or 0)
    older = more and not oldest_first and bool(items)
    return EventFeedPage(items=items, next_before=items[-1].seq if older else None, newest=newest)


async def search_events(ctx: ServiceContext, *, query: EventQuery) -> EventFeedPage:
    """``GET /api/v1/events``: ``read_event_feed`` of the query's filters and page.

    Raises:
        ValidationFailed: a filter at fault (each named, before the page is looked at), or
            else ``limit`` or a cursor out of range.
    """
    filters = query.filters()
    return await read_event_feed(
        ctx, filters=filters, before=query.before, after=query.after, limit=query.limit
    )


def run_filters(filters: AuditRunFilters) -> RunFilters:
    """The runs list's filters for an audit search (``actor`` is who started the run)."""
    return RunFilters(
        status=filters.status,
        workflow=filters.workflow,
        agent=filters.agent,
        created_by=filters.actor,
        started_after=filters.since,
        started_before=filters.until,
    )


async def search_runs(
    ctx: ServiceContext, *, filters: AuditRunFilters, limit: int = 50, cursor: str | None = None
) -> RunPage:
    """A page of the runs matching an audit search, newest first, with the total.

    Raises:
        ValidationFailed: ``limit`` or ``cursor`` is out of range (as ``read_runs``).
    """
    return await read_runs(ctx, filters=run_filters(filters), limit=limit, cursor=cursor)


async def search_audit_runs(ctx: ServiceContext, *, query: AuditRunQuery) -> RunPage:
    """``GET /api/v1/audit/runs``: ``search_runs`` of the query's filters and page.

    Raises:
        ValidationFailed: a filter at fault (each named), or else ``limit`` or ``cursor``.
    """
    filters = query.filters()
    return await search_runs(ctx, filters=filters, limit=query.limit, cursor=query.cursor)


FORMULA_STARTS = frozenset("=+-@\t\r")
"""First characters that make a spreadsheet run a cell as a formula."""

_CELL_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""A JSON cell's encoder, made once: ``json.dumps`` with options builds one per call."""


def _cell(value: Any) -> str:
    """A CSV cell; text a spreadsheet would run as a formula is quoted with ``'``."""
    if value is None:
        return ""
    if type(value) is str:  # most cells: checked first, an export makes millions
        text = value
    elif isinstance(value, datetime):
        return value.isoformat()
    elif isinstance(value, dict | list):
        text = _CELL_JSON.encode(value)
    else:
        text = str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text


def _csv(cells: Iterable[Sequence[str]], columns: Sequence[str], *, head: bool) -> bytes:
    """Rows of cells as CSV (after the header when ``head``), redacted."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if head:
        writer.writerow(columns)
    writer.writerows(cells)
    return redact(out.getvalue()).encode()


_JSON_LINE = json.JSONEncoder(ensure_ascii=False, default=str)
"""A JSON Lines record's encoder, made once: ``json.dumps`` with options builds one per call."""


def _encode(
    records: Iterable[dict[str, Any]], columns: Sequence[str], fmt: ExportFormat, *, head: bool
) -> bytes:
    """``records`` as CSV rows (after the header when ``head``) or JSON lines, redacted."""
    if fmt == "jsonl":
        lines = [_JSON_LINE.encode(record) for record in records]
        return redact("".join(line + "\n" for line in lines)).encode()
    return _csv(([_cell(record[c]) for c in columns] for record in records), columns, head=head)


def _payload_cell(payload_text: str) -> str:
    r"""The payload's CSV cell, from its stored JSON text: what ``_cell`` makes of its value.

    The log stores a payload as its canonical JSON (``db.types.canonical_json``: compact, keys
    sorted, non-ASCII as is), which is exactly the text ``_cell`` writes for the decoded object
    (``json.dumps`` keeps the keys' order): an object's text without ``\u`` or ``\/`` is
    returned as it is, since decoding and encoding it again would give it back. Any other text
    is decoded first, so that an escape never hides from ``redact`` what it spells (an escaped
    ``sk-`` key, say) and anything but an object is written as before.
    """
    # Canonical JSON writes every character as itself but ``"``, ``\`` and control characters
    # (``\n``… or ``\u00XX``), so these two escapes are the only ones that can spell one otherwise.
    if payload_text[:1] == "{" and "\\u" not in payload_text and "\\/" not in payload_text:
        return payload_text  # "{" never starts a formula
    return _cell(json.loads(payload_text))


def _event_cells(row: Any) -> list[str]:
    """A row of ``read_event_rows`` as the CSV cells ``_encode`` makes of its ``_event_record``.

    Built straight from the row: an export of a hundred thousand events feels every step.
    """
    seq, ts, type_, actor, mission_id, run_id, step_id, payload_text = row
    return [
        str(seq),
        ts,
        _cell(type_),
        _severity(type_, payload_text),
        _cell(actor),
        mission_id or "",
        run_id or "",
        _cell(step_id),
        _payload_cell(payload_text),
    ]


def _encode_events(rows: Sequence[Any], fmt: ExportFormat, *, head: bool) -> bytes:
    """Rows of ``read_event_rows`` as CSV (after a header when ``head``) or JSON lines, redacted."""
    if fmt == "jsonl":
        return _encode(map(_event_record, rows), EVENT_COLUMNS, fmt, head=head)
    return _csv(map(_event_cells, rows), EVENT_COLUMNS, head=head)


async def export_events(
    ctx: ServiceContext, *, filters: EventFilters, fmt: ExportFormat
) -> AsyncIterator[bytes]:
    """The events matching ``filters``, oldest first, as CSV (with a header) or JSON Lines.

    Events up to the head at the start are exported (a consistent end, however long the
    export takes); every chunk is one page, passed through ``redact``.
    """
    async with ctx.read() as session:
        head = await event_repo.read_head_seq(session)
    after, first = 0, True
    while True:
        async with ctx.read() as session:
            rows = await event_repo.read_event_rows(
                session, filters=filters, after=after, before=head + 1, limit=EXPORT_PAGE
            )
        if rows or first:
            yield _encode_events(rows, fmt, head=first)
        first = False
        if len(rows) < EXPORT_PAGE:
            return
        after = rows[-1].seq


def _run_record(row: dashboard_repo.RunListRow) -> dict[str, Any]:
    run = row.run
    return {
        "id": str(run.id),
        "workflow": row.workflow,
        "workflow_version": row.workflow_version,
        "status": str(run.status),
        "created_by": run.created_by,
        "created_at": run.created_at.isoformat(),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "ended_at": run.ended_at.isoformat() if run.ended_at else None,
        "mission_id": str(run.mission_id) if run.mission_id else None,
        "trigger": run.trigger,
        "spent_usd": micros_to_usd(run.spent_micros),
        "input_tokens": run.input_tokens,
        "output_tokens": run.output_tokens,
        "error": run.error,
    }


async def export_runs(
    ctx: ServiceContext, *, filters: AuditRunFilters, fmt: ExportFormat
) -> AsyncIterator[bytes]:
    """The runs matching ``filters``, newest first, as CSV (with a header) or JSON Lines."""
    wanted = run_filters(filters)
    before, first = None, True
    while True:
        async with ctx.read() as session:
            rows = await dashboard_repo.read_runs(
                session, filters=wanted, before_id=before, limit=EXPORT_PAGE
            )
        if rows or first:
            yield _encode(map(_run_record, rows), RUN_COLUMNS, fmt, head=first)
        first = False
        if len(rows) < EXPORT_PAGE:
            return
        before = rows[-1].run.id
