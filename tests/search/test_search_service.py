"""Full-text search over what runs wrote: log lines, errors and event reasons, on both databases.

Runs go through the engine (``tests/search/helpers.py``); what is searched is what the indexer
that follows the log took from the events the engine appended (ADR 0047).
"""

import uuid

import pytest

from missionctl.domain.search import MAX_QUERY_CHARS, SearchKind
from missionctl.errors import ValidationFailed
from missionctl.eventlog import NewEvent, append
from missionctl.schemas.search import SearchPage
from missionctl.services import ServiceContext
from missionctl.services.usecases.search import search
from tests.search.helpers import failing_run


def texts(page: SearchPage) -> list[str]:
    """Each hit's snippet as plain text."""
    return ["".join(part.text for part in hit.snippet) for hit in page.items]


def marked(page: SearchPage) -> list[list[str]]:
    """The pieces of each hit's snippet that are marked as matches."""
    return [[part.text for part in hit.snippet if part.match] for hit in page.items]


async def test_a_runs_log_line_and_error_are_found_and_link_to_the_step(
    ctx: ServiceContext,
) -> None:
    run = await failing_run(ctx, "the flux capacitor overheated at db.example.com:5432")
    assert run.status == "failed"

    page = await search(ctx, q="capacitor")
    assert [(h.kind, h.event_type) for h in page.items] == [
        (SearchKind.error, "step.failed"),  # newest first: the failure came after its log
        (SearchKind.log, "step.log"),
    ]
    assert {h.url for h in page.items} == {f"/runs/{run.id}/steps/boom"}
    assert all(h.run_id == run.id and h.step_id == "boom" and h.attempt == 1 for h in page.items)
    assert texts(page) == [
        "the flux capacitor overheated at db.example.com:5432",
        "attempt 1: the flux capacitor overheated at db.example.com:5432",
    ]
    assert page.items[1].level == "error"
    assert marked(page) == [["capacitor"], ["capacitor"]]
    assert page.next_cursor is None

    # A phrase, a prefix, and words inside a host name, on both databases alike.
    assert marked(await search(ctx, q='"flux capacitor"', kind=SearchKind.log))[0] in (
        ["flux capacitor"],
        ["flux", "capacitor"],
    )
    assert marked(await search(ctx, q="overh*", kind=SearchKind.error)) == [["overheated"]]
    assert len((await search(ctx, q="example 5432")).items) == 2
    assert (await search(ctx, q='"capacitor flux"')).items == []  # a phrase keeps its order
    assert (await search(ctx, q="capacitor missing")).items == []  # every word must match


async def test_filters_narrow_by_kind_run_and_mission(ctx: ServiceContext) -> None:
    first = await failing_run(ctx, "quantum relay tripped")
    second = await failing_run(ctx, "quantum relay tripped again")
    mission_id = uuid.uuid4()
    async with ctx.write() as session:
        await append(
            session,
            [
                NewEvent(
                    "step.log",
                    "system",
                    {"attempt": 1, "lines": [{"level": "info", "message": "quantum tunnel"}]},
                    mission_id=mission_id,
                    run_id=second.id,
                    step_id="boom",
                )
            ],
        )
    assert len((await search(ctx, q="quantum")).items) == 5
    errors = await search(ctx, q="quantum", kind=SearchKind.error)
    assert {h.run_id for h in errors.items} == {first.id, second.id}
    assert {h.kind for h in errors.items} == {SearchKind.error}
    of_first = await search(ctx, q="quantum", run_id=first.id)
    assert {h.run_id for h in of_first.items} == {first.id} and len(of_first.items) == 2
    of_mission = await search(ctx, q="quantum", mission_id=mission_id)
    assert texts(of_mission) == ["quantum tunnel"]
    assert (await search(ctx, q="tunnel", run_id=first.id)).items == []
    logs_of_second = await search(ctx, q="relay", kind=SearchKind.log, run_id=second.id)
    assert texts(logs_of_second) == ["attempt 1: quantum relay tripped again"]


async def test_pages_run_newest_first_without_repeats(ctx: ServiceContext) -> None:
    run = await failing_run(ctx, "warp core breach")
    lines = [{"level": "info", "message": f"warp line {n}"} for n in range(7)]
    async with ctx.write() as session:
        await append(
            session,
            [NewEvent("step.log", "system", {"attempt": 1, "lines": lines}, run_id=run.id)],
        )
    seen: list[str] = []
    cursor = None
    while True:
        page = await search(ctx, q="warp", limit=3, cursor=cursor)
        seen += texts(page)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    expected = [f"warp line {n}" for n in reversed(range(7))]
    assert seen == [*expected, "warp core breach", "attempt 1: warp core breach"]
    assert len(set(seen)) == len(seen)


HOSTILE = [
    '"',
    '"unclosed phrase',
    "AND",
    "OR NOT",
    "NEAR(",
    "NEAR(a b, 3)",
    "col:value",
    ":",
    "*",
    "**",
    "-",
    "-breach",
    "breach -",
    "'",
    "a'b",
    "\\",
    "breach & | ! <-> :*",
    "(breach",
    "{body}: breach",
    "^breach",
    "breach\x00",
    "😀",
    "Überhitzung 過熱 перегрев",
    "x" * MAX_QUERY_CHARS,
    " ".join(["w"] * 16),
]


@pytest.mark.parametrize("query", HOSTILE)
async def test_hostile_queries_search_sensibly_or_say_what_to_fix(
    ctx: ServiceContext, query: str
) -> None:
    await failing_run(ctx, "warp core breach")
    try:
        page = await search(ctx, q=query)
    except ValidationFailed as exc:
        assert [p.field for p in exc.problems] == ["q"], exc.problems
        assert exc.problems[0].message  # says what to change
        return
    for text in texts(page):
        assert "breach" in text


async def test_a_query_that_cannot_be_searched_is_refused_naming_q(ctx: ServiceContext) -> None:
    cases = {
        "x" * 10_000: "at most 500",
        '" * - :': "no word to search for",
        "a*": "at least 2 letters or digits before *",
        " ".join(f"w{n}" for n in range(17)): "at most 16",
    }
    for query, fix in cases.items():
        with pytest.raises(ValidationFailed) as refused:
            await search(ctx, q=query)
        assert [(p.field, fix in p.message) for p in refused.value.problems] == [("q", True)]
    with pytest.raises(ValidationFailed) as paging:
        await search(ctx, q="breach", limit=0, cursor="not-a-cursor")
    assert {p.field for p in paging.value.problems} == {"limit", "cursor"}


async def test_unicode_words_are_found_case_folded(ctx: ServiceContext) -> None:
    run = await failing_run(ctx, "Überhitzung im Kühlsystem: 過熱 перегрев")
    for query in ("überhitzung", "ÜBERHITZUNG", "kühlsystem", "перегрев", "Über*"):
        page = await search(ctx, q=query, run_id=run.id, kind=SearchKind.error)
        assert texts(page) == ["Überhitzung im Kühlsystem: 過熱 перегрев"], query


async def test_a_redacted_secret_cannot_be_found_by_its_value(ctx: ServiceContext) -> None:
    secret = "sk-proj-Zq8Rk2LmN4pX7vB1wYc3"
    run = await failing_run(ctx, f"upload refused for key {secret}")
    found = await search(ctx, q="upload refused", run_id=run.id)
    assert len(found.items) == 2
    assert all(secret not in text and "[REDACTED" in text for text in texts(found)), texts(found)
    for query in ("Zq8Rk2LmN4pX7vB1wYc3", '"proj Zq8Rk2LmN4pX7vB1wYc3"', "Zq8Rk*"):
        assert (await search(ctx, q=query)).items == [], query


async def test_odd_text_in_an_event_never_stops_its_append(ctx: ServiceContext) -> None:
    # A program's output may hold NUL, which PostgreSQL cannot hold as text, and an event's
    # attempt may be anything: the event is appended, its other lines are indexed.
    run_id = uuid.uuid4()
    lines = [
        {"level": "info\x00", "message": "binary \x00 garbage"},
        {"level": "info", "message": "walrus survived"},
    ]
    async with ctx.write() as session:
        await append(
            session,
            [
                NewEvent("step.log", "system", {"attempt": "x", "lines": lines}, run_id=run_id),
                NewEvent("step.failed", "system", {"error": "walrus \x00 lost"}, run_id=run_id),
                NewEvent("run.paused", "system", {"reason": "walrus nap", "attempt": 1e30}),
            ],
        )
    found = texts(await search(ctx, q="walrus"))
    assert "walrus survived" in found
