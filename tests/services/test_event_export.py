"""Exports of the event log: byte for byte what the per-row path wrote, and never a secret.

The export reads each event's payload as the JSON text stored, its time and ids as text the
database writes, and writes them as they are; the reference here is the first export, which
built each event's feed item and wrote its JSON (``to_feed_item(...).model_dump(mode="json")``).
"""

import csv
import io
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import TypeAdapter
from sqlalchemy import Uuid, literal, select

from missionctl.db.models import Event
from missionctl.db.types import UTCDateTime
from missionctl.domain.events import severity_of
from missionctl.eventlog import NewEvent, append
from missionctl.llm.redaction import REDACTED, redact, register_secret
from missionctl.repositories import events as event_repo
from missionctl.repositories.events import _IsoText, _UuidText
from missionctl.schemas.events import EventFilters, ExportFormat
from missionctl.services import ServiceContext
from missionctl.services.usecases import event_feed
from missionctl.services.usecases.event_feed import EVENT_COLUMNS, export_events, to_feed_item

KEY = "sk-proj-AbC123xyz_789"
"""A key nobody registered, which redaction hides by its look."""
ODD_TEXT = "ünïcode ✓ 日本語 עברית \u2028 \u2029 e\u0301 \ufeff 👩\u200d💻 \U0010fffd"
"""Text a JSON or CSV writer may treat specially: non-ASCII, separators, joiners, a BOM."""
CONTROL_TEXT = 'a "quote" \\ back/slash \t tab \n new \r return \x01 \x1b[31m red \x7f'
"""Text JSON writes with escapes (every control character but NUL)."""


def first_cell(value: Any) -> str:
    """A CSV cell as the first export wrote it; a formula-like text is quoted with ``'``."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def first_export(events: Sequence[Event], fmt: ExportFormat) -> bytes:
    """``events`` exported as the first version did: each through its feed item's JSON."""
    records = [to_feed_item(event).model_dump(mode="json") for event in events]
    if fmt == "jsonl":
        lines = [json.dumps(record, ensure_ascii=False, default=str) for record in records]
        return redact("".join(line + "\n" for line in lines)).encode()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EVENT_COLUMNS)
    writer.writerows([first_cell(record[c]) for c in EVENT_COLUMNS] for record in records)
    return redact(out.getvalue()).encode()


async def export(ctx: ServiceContext, fmt: ExportFormat, filters: EventFilters) -> bytes:
    """The whole export of ``filters``, its chunks joined."""
    return b"".join([chunk async for chunk in export_events(ctx, filters=filters, fmt=fmt)])


def odd_events(secret: str) -> list[NewEvent]:
    """Events whose every field tests the writer: secrets, formulas, odd text, nested JSON."""
    mission, run = uuid.uuid4(), uuid.uuid4()
    lines = [
        {"level": "info", "message": "=HYPERLINK(\"http://x\")|' /C calc'!A0"},
        {"level": "warn", "message": ODD_TEXT},
        {"level": "error", "message": f"token {secret} in a line", "extra": [1, {"b": None}]},
    ]
    nested = {
        "numbers": [0, -1, 2.5, -0.0, 1e100, 1.5e-7, 12345678901234567890],
        "flags": [True, False, None],
        "deep": {"z": {"y": {"x": [[], {}, [[{"w": "@at"}]]]}}},
        "control": CONTROL_TEXT,
        "odd": ODD_TEXT,
        "": "an empty key",
        "=formula": "+1",
    }
    failure = {"error": f"boom {secret}; key={KEY}; Authorization: Bearer tok-1234567", "n": 2}
    return [
        NewEvent("step.log", "agent:noop", {"lines": lines}, run_id=run, step_id="=SUM(A1:A2)"),
        NewEvent("step.failed", "agent:noop", failure, mission_id=mission, run_id=run),
        NewEvent("note.added", "user:ann", nested, mission_id=mission),
        NewEvent("run.started", "system", {}, run_id=run, step_id="-minus"),
        NewEvent("step.log", "agent:noop", {"lines": "not a list"}, run_id=run, step_id="@at"),
        NewEvent("mission.created", "user:ann", {"title": f"  {ODD_TEXT}  "}, mission_id=mission),
    ]


@pytest.mark.parametrize("page", [10_000, 2])
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
async def test_an_export_is_byte_for_byte_what_the_per_row_path_wrote(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch, fmt: ExportFormat, page: int
) -> None:
    secret = f"canary-{uuid.uuid4().hex}"
    register_secret(secret)
    async with ctx.write() as session:
        await append(session, odd_events(secret))
    monkeypatch.setattr(event_feed, "EXPORT_PAGE", page)
    async with ctx.read() as session:
        events = await event_repo.read_events_after(session, after_seq=0, limit=1000)

    errors = [e for e in events if severity_of(e.type, e.payload) == "error"]
    searches = [
        (EventFilters(), events),
        (EventFilters(type=["step."]), [e for e in events if e.type.startswith("step.")]),
        (EventFilters(actor="user:ann"), [e for e in events if e.actor == "user:ann"]),
        (EventFilters(severity=["error"]), errors),
    ]
    for filters, wanted in searches:
        assert await export(ctx, fmt, filters) == first_export(wanted, fmt)

    text = (await export(ctx, fmt, EventFilters())).decode()
    assert secret not in text and KEY not in text and "tok-1234567" not in text
    assert text.count(REDACTED) == 4 and len(errors) == 2


def test_a_payload_stored_with_escapes_is_decoded_before_it_is_redacted() -> None:
    # The log stores canonical JSON only; text written otherwise (by hand, in the database)
    # still never shows a secret spelled with escapes, and is written as its value is.
    secret = f"canary-{uuid.uuid4().hex}"
    register_secret(secret)
    spelled = "".join(f"\\u{ord(c):04x}" for c in secret)
    stored = f'{{"k":"{spelled}","key":"\\u0073k-proj-AbC123xyz_789","path":"a\\/b"}}'
    rows = [
        (1, "2026-03-01T00:00:00Z", "note.added", "system", None, None, None, stored),
        (2, "2026-03-01T00:00:00Z", "note.added", "system", None, None, None, '"=cmd"'),
        (3, "2026-03-01T00:00:00Z", "note.added", "system", None, None, None, "[1, 2]"),
    ]

    text = event_feed._encode_events(rows, "csv", head=False).decode()

    payloads = [row[8] for row in csv.reader(io.StringIO(text))]
    assert secret not in text and KEY not in text
    assert json.loads(payloads[0]) == {"k": REDACTED, "key": REDACTED, "path": "a/b"}
    assert payloads[1:] == ["'=cmd", "[1,2]"]


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 1, tzinfo=UTC),
        datetime(2026, 3, 1, 4, 5, 6, 7, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(99, 1, 2, 3, 4, 5, 500000, tzinfo=UTC),
        datetime(2026, 3, 1, 2, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ],
)
async def test_the_database_writes_times_and_ids_as_a_feed_items_json_does(
    ctx: ServiceContext, moment: datetime
) -> None:
    run_id = uuid.uuid4()
    query = select(
        _IsoText(literal(moment, UTCDateTime())),
        _UuidText(literal(run_id, Uuid())),
        _UuidText(literal(None, Uuid())),
    )
    async with ctx.read() as session:
        row = (await session.execute(query)).one()

    as_json = TypeAdapter(datetime).dump_python(moment.astimezone(UTC), mode="json")
    assert tuple(row) == (as_json, str(run_id), None)
