"""Every live list shows after a reload what it showed live: the same rows, order and limit.

The mission page's Audit Trail, the Events page and an open step's log on the run page each
keep as many rows live as the page shows on load (``data-keep``, ``static/js/app.js``): more
events than that arrive live, and the rows shown (order and count) match a reload's. After
live rows pushed old ones out, the older link continues right after the oldest row shown, and
rows the reader loaded with it stay when more arrive. The Runs list (under a filter too) and
a run's timeline are re-rendered whole by their streams: once the runs settle, they match a
reload's row for row.

Events are appended by another process's service context (``seed``), as a worker would: the
server learns of them from the database, and the page from its stream.
"""

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from missionctl.db.models import Event
from missionctl.eventlog import NewEvent, append
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.usecases.dashboard import AUDIT_PAGE
from missionctl.services.usecases.runs import start_run
from missionctl.services.usecases.workflows import create_workflow
from missionctl.web.routes.events import PAGE_SIZE
from missionctl.web.routes.runs import PAGE_SIZE as RUNS_PAGE
from missionctl.web.routes.runs import STEP_LOG_LINES
from tests.browser.conftest import seed
from tests.conftest import LiveServer
from tests.web.support import ACTOR, planned_mission, start_steps, wait_for_run

pytestmark = pytest.mark.browser

SEQS = "els => els.map(e => Number(e.dataset.seq))"
AUDIT_LINES = "#audit-list .audit__line"
EVENT_ROWS = "#event-rows tr[data-seq]"
LONG_STEP = [{"id": "long", "agent": "builtin:sleep", "inputs": {"seconds": 60}}]


def _append(server: LiveServer, events: list[NewEvent]) -> list[int]:
    """Append ``events`` in one transaction of another process; their seqs, oldest first."""

    async def work(ctx: ServiceContext) -> list[int]:
        async with ctx.write() as session:
            return [e.seq for e in await append(session, events)]

    return seed(server.settings, work)


def _seqs(server: LiveServer, mission_id: uuid.UUID | None = None) -> list[int]:
    """Every seq of the log (or of one mission's events), newest first."""

    async def work(ctx: ServiceContext) -> list[int]:
        query = select(Event.seq).order_by(Event.seq.desc())
        if mission_id is not None:
            query = query.where(Event.mission_id == mission_id)
        async with ctx.read() as session:
            return list((await session.scalars(query)).all())

    return seed(server.settings, work)


def _distinct(seqs: list[int]) -> list[int]:
    return list(dict.fromkeys(seqs))


def _notes(server: LiveServer, count: int, mission_id: uuid.UUID | None = None) -> list[int]:
    """``count`` events arriving live in a few batches; their seqs, oldest first. For a
    mission, every third is a log batch of two lines (two Audit Trail lines, one event)."""
    seqs: list[int] = []
    for start in range(0, count, 25):
        batch = []
        for i in range(start, min(count, start + 25)):
            if mission_id is not None and i % 3 == 0:
                lines = [{"level": "info", "message": f"note {i} a"}, {"message": f"note {i} b"}]
                batch.append(NewEvent("step.log", "system", {"lines": lines}, mission_id))
            else:
                batch.append(NewEvent("probe.noted", "user:ops", {"n": i}, mission_id))
        seqs += _append(server, batch)
    return seqs


def _audit(page: Page) -> list[int]:
    """The seq of every Audit Trail line, top to bottom (an event may have several lines)."""
    return page.locator(AUDIT_LINES).evaluate_all(SEQS)


def test_the_audit_trail_shows_the_same_lines_live_and_after_a_reload(
    live_server: LiveServer, page: Page
) -> None:
    mission_id = seed(live_server.settings, planned_mission).id
    page.goto(f"{live_server.url}/missions/{mission_id}")
    expect(page.locator("#live")).to_have_class(re.compile(r"live--connected"))
    more = page.locator("#audit-more a")
    expect(more).to_be_hidden()  # a few events: nothing older

    newest = _notes(live_server, AUDIT_PAGE + 20, mission_id)[-1]
    total = len(_seqs(live_server, mission_id))
    expect(page.locator("#audit-count")).to_have_text(str(total))
    expect(page.locator(AUDIT_LINES).first).to_have_attribute("data-seq", str(newest))
    live = _audit(page)
    assert len(_distinct(live)) == AUDIT_PAGE, "the live Audit Trail keeps its page of events"
    expect(more).to_be_visible()  # lines were dropped: the older ones can be loaded
    expect(more).to_have_attribute("href", re.compile(rf"before={live[-1]}$"))

    page.reload()
    expect(page.locator("#live")).to_have_class(re.compile(r"live--connected"))
    assert _audit(page) == live, "the Audit Trail differs after a reload"

    # More arrive after the reload: the trail keeps its page, and "Load older events"
    # continues right after its oldest line, with no gap and no line twice.
    _notes(live_server, 30, mission_id)
    expect(page.locator(AUDIT_LINES).first).to_have_attribute(
        "data-seq", str(max(_seqs(live_server, mission_id)))
    )
    shown = _distinct(_audit(page))
    assert len(shown) == AUDIT_PAGE
    lines = page.locator(AUDIT_LINES).count()
    more.click()
    expect(page.locator(AUDIT_LINES)).not_to_have_count(lines)
    every = _seqs(live_server, mission_id)
    loaded = _distinct(_audit(page))
    assert loaded == every[: len(loaded)] and len(loaded) == min(len(every), 2 * AUDIT_PAGE)

    # Rows loaded on purpose stay when more arrive live.
    later = _notes(live_server, 5, mission_id)
    expect(page.locator(AUDIT_LINES).first).to_have_attribute("data-seq", str(later[-1]))
    assert _distinct(_audit(page)) == list(reversed(later)) + loaded


def test_the_events_page_shows_the_same_rows_live_and_after_a_reload(
    live_server: LiveServer, page: Page
) -> None:
    page.goto(f"{live_server.url}/events")
    expect(page.locator("#live")).to_have_class(re.compile(r"live--connected"))
    older = page.locator("#events-older")
    expect(older).to_be_hidden()  # a new log: no older page yet
    rows = page.locator(EVENT_ROWS)

    newest = _notes(live_server, PAGE_SIZE + 20)[-1]
    expect(rows.first).to_have_attribute("data-seq", str(newest))
    live = rows.evaluate_all(SEQS)
    assert len(live) == PAGE_SIZE, "the live Events page keeps a page of rows"
    assert live == sorted(live, reverse=True)
    expect(older).to_be_visible()
    expect(older).to_have_attribute("href", re.compile(rf"before={live[-1]}$"))

    page.reload()
    expect(page.locator("#live")).to_have_class(re.compile(r"live--connected"))
    assert rows.evaluate_all(SEQS) == live, "the Events page differs after a reload"

    # Trimmed again live, the older page starts right after the oldest row shown.
    _notes(live_server, 10)
    every = _seqs(live_server)
    expect(rows.first).to_have_attribute("data-seq", str(every[0]))
    shown = rows.evaluate_all(SEQS)
    assert shown == every[:PAGE_SIZE]
    older.click()
    expect(page).to_have_url(re.compile(rf"before={shown[-1]}$"))
    expect(rows.first).to_have_attribute("data-seq", str(every[PAGE_SIZE]))
    assert rows.evaluate_all(SEQS) == every[PAGE_SIZE : 2 * PAGE_SIZE]


def _watch_running(server: LiveServer, page: Page, steps: list[dict[str, Any]]) -> uuid.UUID:
    """Start a run of ``steps``; once its first step runs, open its page, connected live."""

    async def running(ctx: ServiceContext) -> uuid.UUID:
        run = await start_steps(ctx, None, steps)
        await wait_for_run(ctx, run.id, lambda r: r.steps[0].status == "running")
        return run.id

    run_id = seed(server.settings, running)
    page.goto(f"{server.url}/runs/{run_id}")
    expect(page.locator("#live")).to_have_class(re.compile(r"live--connected"))
    return run_id


def _open_log(page: Page) -> list[str]:
    """Open the step's details; the messages of its log lines, top to bottom."""
    page.locator("#step-long summary").click()
    expect(page.locator("#step-log-long")).to_be_attached()
    return _log(page)


def _log(page: Page) -> list[str]:
    texts = page.locator("#step-log-long .log__line").all_text_contents()
    return [re.sub(r"^.*?(log line \d+)\s*$", r"\1", t.strip(), flags=re.S) for t in texts]


def test_an_open_step_log_keeps_the_lines_a_reload_shows(
    live_server: LiveServer, page: Page
) -> None:
    run_id = _watch_running(live_server, page, LONG_STEP)
    _open_log(page)

    count = STEP_LOG_LINES + 30
    for start in range(0, count, 20):
        lines = [
            {"level": "info", "message": f"log line {i:03d}"} for i in range(start, start + 20)
        ]
        payload = {"attempt": 1, "lines": lines}
        _append(live_server, [NewEvent("step.log", "system", payload, None, run_id, "long")])
    last = page.locator("#step-log-long .log__line").last
    expect(last).to_contain_text(f"log line {count - 1:03d}")
    live = _log(page)
    assert len(live) == STEP_LOG_LINES, "the live log keeps the lines a reload shows"
    assert live[-1] == f"log line {count - 1:03d}"

    page.reload()
    expect(page.locator("#live")).to_have_class(re.compile(r"live--connected"))
    assert _open_log(page) == live, "the step's log differs after a reload"


RUN_ROWS = "#run-list tbody tr"
ROW_TEXT = """rows => rows.map(r => [r.dataset.runId,
    r.querySelector('.badge').textContent.trim(),
    r.querySelector('.progress-cell__text').textContent.trim()])"""


def _start_runs(server: LiveServer, workflows: list[uuid.UUID], count: int) -> list[str]:
    """Start ``count`` runs, taking the workflows in turn; their ids, oldest first."""

    async def work(ctx: ServiceContext) -> list[str]:
        runs = []
        for i in range(count):
            workflow_id = workflows[i % len(workflows)]
            runs.append(await start_run(ctx, workflow_id=workflow_id, actor=ACTOR))
        for run in runs:
            await wait_for_run(ctx, run.id)
        return [str(run.id) for run in runs]

    return seed(server.settings, work)


def _settled_rows(page: Page, newest: str, rows: int) -> list[list[str]]:
    """The list's rows once its newest is ``newest``, it holds ``rows`` and none is running."""
    expect(page.locator(RUN_ROWS).first).to_have_attribute("data-run-id", newest)
    expect(page.locator(RUN_ROWS)).to_have_count(rows)
    badges = page.locator(f"{RUN_ROWS} .badge")
    expect(badges.filter(has_text=re.compile("Running|Queued|Pending"))).to_have_count(0)
    return page.locator(RUN_ROWS).evaluate_all(ROW_TEXT)


def test_the_runs_list_shows_the_same_rows_live_and_after_a_reload(
    live_server: LiveServer, page: Page
) -> None:
    async def workflows(ctx: ServiceContext) -> list[uuid.UUID]:
        made = []
        for name, agent in (("tidy-ok", "builtin:noop"), ("tidy-bad", "builtin:fail")):
            steps = [{"id": "s", "agent": agent}]
            spec = WorkflowSpec.model_validate({"name": name, "steps": steps})
            made.append((await create_workflow(ctx, spec=spec, actor=ACTOR)).id)
        return made

    ok, bad = seed(live_server.settings, workflows)
    page.goto(f"{live_server.url}/runs")
    expect(page.locator("#live")).to_have_class(re.compile(r"live--connected"))

    started = _start_runs(live_server, [ok, bad], RUNS_PAGE + 6)
    live = _settled_rows(page, started[-1], RUNS_PAGE)
    assert [row[0] for row in live] == list(reversed(started))[:RUNS_PAGE]
    assert {row[1] for row in live} == {"Completed", "Failed"}
    footer = page.locator("#run-list .list__footer").inner_text()
    assert f"Showing {RUNS_PAGE} of {RUNS_PAGE + 6}" in footer

    page.reload()
    expect(page.locator("#live")).to_have_class(re.compile(r"live--connected"))
    assert page.locator(RUN_ROWS).evaluate_all(ROW_TEXT) == live, "the Runs list differs"
    assert page.locator("#run-list .list__footer").inner_text() == footer

    # Under a filter the live list keeps to it, as a reload does.
    page.goto(f"{live_server.url}/runs?status=failed")
    expect(page.locator("#live")).to_have_class(re.compile(r"live--connected"))
    failed = _start_runs(live_server, [bad, ok], 4)[::2]
    live = _settled_rows(page, failed[-1], (RUNS_PAGE + 6) // 2 + len(failed))
    assert {row[1] for row in live} == {"Failed"}
    page.reload()
    expect(page.locator("#live")).to_have_class(re.compile(r"live--connected"))
    assert page.locator(RUN_ROWS).evaluate_all(ROW_TEXT) == live, "the filtered list differs"


TIMELINE_ROWS = "#run-timeline-chart g.chart__row"
TIMELINE_TEXT = """rows => rows.map(r => [r.dataset.step,
    r.querySelector('rect').getAttribute('class'),
    r.querySelector('.chart__value').textContent])"""
BRANCHES = [
    {"id": "fetch", "agent": "builtin:sleep", "inputs": {"seconds": 0.4}},
    {"id": "lint", "agent": "builtin:sleep", "inputs": {"seconds": 0.6}, "depends_on": ["fetch"]},
    {"id": "test", "agent": "builtin:sleep", "inputs": {"seconds": 1.2}, "depends_on": ["fetch"]},
    {"id": "ship", "agent": "builtin:fail", "depends_on": ["lint", "test"]},
]


def test_a_runs_timeline_shows_the_same_bars_live_and_after_a_reload(
    live_server: LiveServer, page: Page
) -> None:
    _watch_running(live_server, page, BRANCHES)
    expect(page.locator("#run-status")).to_contain_text("Failed", timeout=20_000)
    rows = page.locator(TIMELINE_ROWS)
    expect(rows).to_have_count(len(BRANCHES))
    live = rows.evaluate_all(TIMELINE_TEXT)
    assert [row[0] for row in live[:1]] == ["fetch"] and live[-1][0] == "ship"
    assert live[-1][1].endswith("--failed") and live[0][1].endswith("--succeeded")

    page.reload()
    expect(page.locator("#run-status")).to_contain_text("Failed")
    assert rows.evaluate_all(TIMELINE_TEXT) == live, "the timeline differs after a reload"
