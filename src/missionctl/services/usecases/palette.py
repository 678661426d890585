"""The command palette: places and actions matching a few typed letters, best first (ADR 0062).

The palette asks a registry of sources (:data:`SOURCES`), one function per kind of thing. A
source is asked only when the caller holds its permission, reads at most a bounded number of
candidates through ``repositories.palette`` (``LIKE`` prefiltered, newest first) and returns
them unscored; this module scores every candidate with ``domain.palette`` and keeps the best.
Actions come from sources that need a permission to act, so a viewer is offered no action at
all. An action names an existing route (the JSON API, with the page's CSRF token): the palette
changes nothing itself.

Adding a kind is one function returning :class:`Candidate` s and one line in
:data:`SOURCES`.
"""

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Control
from missionctl.db.types import utcnow
from missionctl.domain.access import Identity
from missionctl.domain.access import Permission as P
from missionctl.domain.palette import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    QueryTooLong,
    best_score,
    like_patterns,
    query_words,
    score,
)
from missionctl.domain.states import RUN
from missionctl.domain.workers import MAX_CONCURRENCY, WorkerStatus, worker_status
from missionctl.errors import Problem, ValidationFailed
from missionctl.gallery import SHIPPED
from missionctl.repositories import palette as repo
from missionctl.schemas.palette import (
    PaletteAction,
    PaletteItem,
    PaletteKind,
    PaletteNumber,
    PalettePage,
)
from missionctl.services.runtime.composition import known_agent_names
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.workers import RECENT_S

CANDIDATES_PER_SOURCE: Final = 50
"""The most rows one source reads for a query: the best match is nearly always among the newest
fifty that contain the letters in order, and the read stays bounded however large the tables."""
BLANK_PER_SOURCE: Final = 4
"""For a blank query (the palette just opened), the few newest of each kind."""
# A match on a secondary text (a page's description, a run's workflow when the run is named
# after its mission) ranks below one on the name itself.
SECONDARY: Final = 150
_CANCELABLE: Final = frozenset(str(s) for s in RUN.rule("cancel").sources)


@dataclass(frozen=True, slots=True)
class Candidate:
    """Something a source offers, before scoring: ``texts`` are what it is found by.

    Each text comes with its handicap (0 for the name itself; see :data:`SECONDARY`).
    """

    kind: PaletteKind
    title: str
    url: str
    subtitle: str = ""
    action: PaletteAction | None = None
    texts: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Lookup:
    """What every source is given: the query, the caller, a session and its bound."""

    ctx: ServiceContext
    session: AsyncSession
    who: Identity
    words: list[str]
    patterns: list[str] = field(default_factory=list)
    limit: int = CANDIDATES_PER_SOURCE
    now: datetime = field(default_factory=utcnow)

    @property
    def blank(self) -> bool:
        """Whether the query has no word (the palette just opened)."""
        return not self.words

    def patterns_past(self, verb: str) -> list[str]:
        """The ``LIKE`` patterns of the words that do not match ``verb``.

        An action is found by its verb and its object ("cancel bill"), but the database only
        holds the object: a word the verb accounts for is left out of the prefilter, which can
        only widen it. The full title is scored afterwards.
        """
        kept = [w for w in self.words if score([w], verb) is None]
        return like_patterns(kept)


SourceFunction = Callable[[Lookup], Awaitable[list[Candidate]]]


@dataclass(frozen=True, slots=True)
class Source:
    """One kind of thing the palette finds, asked only when the caller holds ``permission``."""

    name: str
    permission: P
    find: SourceFunction


async def search_palette(
    ctx: ServiceContext, *, identity: Identity, q: str = "", limit: int = DEFAULT_LIMIT
) -> PalettePage:
    """The best ``limit`` items for ``q`` that ``identity`` may see, best first.

    Each source ``identity`` holds the permission of reads at most
    :data:`CANDIDATES_PER_SOURCE` rows (:data:`BLANK_PER_SOURCE` for a blank ``q``); items of
    equal score keep the order of :data:`SOURCES`, then each source's own (newest first).
    Actions are only those ``identity`` may take: a viewer gets none.

    Raises:
        ValidationFailed: ``q`` is too long or has too many words, or ``limit`` is out of
            range (each named, with the fix).
    """
    problems: list[Problem] = []
    words: list[str] = []
    try:
        words = query_words(q)
    except QueryTooLong as exc:
        problems.append(Problem("q", str(exc)))
    if not 1 <= limit <= MAX_LIMIT:
        problems.append(Problem("limit", f"must be between 1 and {MAX_LIMIT}"))
    if problems:
        raise ValidationFailed(problems)
    scored: list[tuple[int, Candidate]] = []
    async with ctx.read() as session:
        lookup = Lookup(
            ctx=ctx,
            session=session,
            who=identity,
            words=words,
            patterns=like_patterns(words),
            limit=CANDIDATES_PER_SOURCE if words else BLANK_PER_SOURCE,
        )
        for source in SOURCES:
            if identity.allows(source.permission):
                scored.extend(_scored(lookup, await source.find(lookup)))
    scored.sort(key=lambda pair: -pair[0])  # stable: ties keep the sources' order
    return PalettePage(items=[_item(c, s) for s, c in scored[:limit]])


def _scored(lookup: Lookup, candidates: Sequence[Candidate]) -> list[tuple[int, Candidate]]:
    found: list[tuple[int, Candidate]] = []
    for candidate in candidates:
        value = best_score(lookup.words, ((candidate.title, 0), *candidate.texts))
        if value is not None:
            found.append((value, candidate))
    return found


def _item(candidate: Candidate, value: int) -> PaletteItem:
    return PaletteItem(
        kind=candidate.kind,
        title=candidate.title,
        subtitle=candidate.subtitle,
        url=candidate.url,
        action=candidate.action,
        score=value,
    )


def _short(run_id: uuid.UUID) -> str:
    return str(run_id)[:8]


def _run_title(mission_title: str | None, workflow: str, run_id: uuid.UUID) -> str:
    """A run is called by its mission's title, or else by its workflow and short id."""
    return mission_title or f"{workflow} run {_short(run_id)}"


# --- Sources: one function per kind -----------------------------------------------------------


async def _missions(lookup: Lookup) -> list[Candidate]:
    rows = await repo.find_missions(lookup.session, patterns=lookup.patterns, limit=lookup.limit)
    return [
        Candidate("mission", row.title, f"/missions/{row.id}", f"Mission · {row.status}")
        for row in rows
    ]


async def _runs(lookup: Lookup) -> list[Candidate]:
    rows = await repo.find_runs(lookup.session, patterns=lookup.patterns, limit=lookup.limit)
    return [
        Candidate(
            "run",
            _run_title(row.mission_title, row.workflow, row.id),
            f"/runs/{row.id}",
            f"Run {_short(row.id)} · {row.status} · {row.workflow} v{row.version}",
            texts=((row.workflow, SECONDARY),),
        )
        for row in rows
    ]


async def _workflows(lookup: Lookup) -> list[Candidate]:
    rows = await repo.find_workflows(lookup.session, patterns=lookup.patterns, limit=lookup.limit)
    return [
        Candidate(
            "workflow",
            row.name,
            f"/workflows/{quote(row.name, safe='')}",
            f"Workflow · v{row.version}",
        )
        for row in rows
    ]


async def _agents(lookup: Lookup) -> list[Candidate]:
    """The agents a workflow may name and any stored ones, with whether they are enabled.

    Like the agents page: the registry's names (``kind:*`` among them) and the stored rows.
    """
    rows = await repo.find_agents(lookup.session, patterns=lookup.patterns, limit=lookup.limit)
    enabled = {row.name: row.enabled for row in rows}
    # The registry is a few dozen names in memory: matched here, not in the database.
    known = [n for n in known_agent_names() if score(lookup.words, n) is not None]
    names = sorted(set(known[: lookup.limit]) | set(enabled))[: lookup.limit]
    return [
        Candidate(
            "agent",
            name,
            "/agents",
            f"Agent · {name.partition(':')[0]} · "
            f"{'enabled' if enabled.get(name, True) else 'disabled'}",
        )
        for name in names
    ]


async def _workers(lookup: Lookup) -> list[Candidate]:
    since = lookup.now - timedelta(seconds=RECENT_S)
    rows = await repo.find_workers(
        lookup.session, patterns=lookup.patterns, since=since, limit=lookup.limit
    )
    candidates = []
    for row in rows:
        status = _status(row, lookup.now)
        candidates.append(
            Candidate(
                "worker",
                row.name,
                "/workers",
                f"Worker · {status.value} · {row.host}",
                texts=((row.host, SECONDARY),),
            )
        )
    return candidates


def _status(row: repo.WorkerMatch, now: datetime) -> WorkerStatus:
    return worker_status(
        last_heartbeat_at=row.last_heartbeat_at,
        stopped_at=row.stopped_at,
        offline_reported_at=row.offline_reported_at,
        state=row.state,
        now=now,
    )


async def _schedules(lookup: Lookup) -> list[Candidate]:
    rows = await repo.find_schedules(lookup.session, patterns=lookup.patterns, limit=lookup.limit)
    return [
        Candidate(
            "schedule",
            row.name,
            f"/schedules#schedule-{row.id}",
            f"Schedule · {row.cron} ({row.timezone}) · "
            + ("paused" if row.paused else f"next {row.next_fire_at:%Y-%m-%d %H:%M} UTC"),
            texts=((row.cron, SECONDARY),),
        )
        for row in rows
    ]


async def _templates(lookup: Lookup) -> list[Candidate]:
    """The shipped templates (a handful, scored here) and the saved ones that match."""
    shipped = [(t.name, t.title, t.category) for t in SHIPPED.values()]
    rows = await repo.find_templates(lookup.session, patterns=lookup.patterns, limit=lookup.limit)
    found = [*shipped, *((r.name, r.title, r.category) for r in rows)]
    return [
        Candidate(
            "template",
            title,
            f"/templates#template-{name}",
            f"Template · {category}",
            texts=((name, SECONDARY),),
        )
        for name, title, category in found[: lookup.limit]
    ]


@dataclass(frozen=True, slots=True)
class PageEntry:
    """A page of the product the palette can open."""

    title: str
    url: str
    permission: P
    description: str


PAGES: Final[tuple[PageEntry, ...]] = (
    PageEntry("Missions", "/missions", P.MISSIONS_READ, "goals, plans and their runs"),
    PageEntry("Board", "/board", P.MISSIONS_READ, "every task by state, kanban"),
    PageEntry("Epics", "/epics", P.MISSIONS_READ, "groups of missions, owner, target date"),
    PageEntry("Runs", "/runs", P.RUNS_READ, "every run of every workflow"),
    PageEntry("Approvals", "/approvals", P.APPROVALS_READ, "gated steps waiting for a person"),
    PageEntry("Workflows", "/workflows", P.WORKFLOWS_READ, "saved workflow definitions"),
    PageEntry("Schedules", "/schedules", P.WORKFLOWS_READ, "workflows run on a timetable, cron"),
    PageEntry("Calendar", "/calendar", P.WORKFLOWS_READ, "schedules' firings and runs by day"),
    PageEntry("Templates", "/templates", P.WORKFLOWS_READ, "the gallery of workflow templates"),
    PageEntry("Search", "/search", P.RUNS_READ, "full-text search of step logs and errors"),
    PageEntry("Memory", "/memory", P.MISSIONS_READ, "what finished missions left behind"),
    PageEntry("Events", "/events", P.RUNS_READ, "the live event feed"),
    PageEntry("Audit", "/audit", P.AUDIT_READ, "the event log explorer and access refusals"),
    PageEntry("Agents", "/agents", P.AGENTS_READ, "agents, their rules and allowed programs"),
    PageEntry("Workers", "/workers", P.AGENTS_READ, "engines and their heartbeats"),
    PageEntry("Costs", "/costs", P.RUNS_READ, "spend and tokens by day, agent and model"),
    PageEntry("Prices", "/settings/prices", P.PRICES_READ, "model prices per million tokens"),
    PageEntry(
        "Spending caps",
        "/settings/spending-caps",
        P.PRICES_READ,
        "what agents may spend per UTC day or month",
    ),
    PageEntry("Webhooks", "/webhooks", P.WEBHOOKS_ADMIN, "signed event deliveries to endpoints"),
    PageEntry("Users", "/users", P.USERS_ADMIN, "people, roles, passwords and sign-in links"),
    PageEntry("API tokens", "/tokens", P.TOKENS_ADMIN, "every API token: create and revoke"),
    PageEntry("Settings", "/settings", P.POLICIES_ADMIN, "the server's effective settings"),
    PageEntry("Account", "/account", P.MISSIONS_READ, "your password and your API tokens"),
    PageEntry("API docs", "/docs", P.MISSIONS_READ, "the JSON API, interactive"),
)


async def _pages(lookup: Lookup) -> list[Candidate]:
    return [
        Candidate(
            "page",
            page.title,
            page.url,
            f"Page · {page.description}",
            texts=((page.description, SECONDARY),),
        )
        for page in PAGES
        if lookup.who.allows(page.permission)
    ]


def _action(kind_title: str, url: str, subtitle: str, action: PaletteAction) -> Candidate:
    return Candidate("action", kind_title, url, subtitle, action=action)


async def _approvals(lookup: Lookup) -> list[Candidate]:
    rows = await repo.find_pending_approvals(
        lookup.session, patterns=lookup.patterns_past("approve reject"), limit=lookup.limit
    )
    candidates = []
    for row in rows:
        run = _run_title(row.mission_title, row.workflow, row.run_id)
        base = f"/api/v1/approvals/{row.id}"
        page = f"/approvals#approval-{row.id}"
        where = f"Waiting approval · {row.workflow} · run {_short(row.run_id)}"
        approve = PaletteAction(
            method="POST", url=f"{base}/approve", done=f"Approved {row.step_id} of {run}"
        )
        reject = PaletteAction(
            method="POST",
            url=f"{base}/reject",
            confirm=f"Reject {row.step_id} of {run}? The step will not run.",
            reason="required",
            label="Reject",
            danger=True,
            done=f"Rejected {row.step_id} of {run}",
        )
        candidates.append(_action(f"Approve {row.step_id} of {run}", page, where, approve))
        candidates.append(_action(f"Reject {row.step_id} of {run}", page, where, reject))
    return candidates


async def _cancels(lookup: Lookup) -> list[Candidate]:
    if lookup.blank:
        return []  # offered once the user names the run, never as a default
    rows = await repo.find_runs(
        lookup.session,
        patterns=lookup.patterns_past("cancel run"),
        limit=lookup.limit,
        statuses=_CANCELABLE,
    )
    candidates = []
    for row in rows:
        run = _run_title(row.mission_title, row.workflow, row.id)
        action = PaletteAction(
            method="POST",
            url=f"/api/v1/runs/{row.id}/cancel",
            confirm=f"Cancel the run {run}? Its running steps are stopped.",
            label="Cancel the run",
            danger=True,
            done=f"Canceled the run {run}",
        )
        subtitle = f"Run {_short(row.id)} · {row.status} · {row.workflow} v{row.version}"
        candidates.append(_action(f"Cancel run {run}", f"/runs/{row.id}", subtitle, action))
    return candidates


async def _worker_actions(lookup: Lookup) -> list[Candidate]:
    """Drain, resume, stop or scale a live worker: what its row on the Workers page offers."""
    if lookup.blank:
        return []  # offered once the user names the verb or the worker, never as a default
    since = lookup.now - timedelta(seconds=RECENT_S)
    patterns = lookup.patterns_past("drain resume stop scale worker")
    rows = await repo.find_workers(
        lookup.session, patterns=patterns, since=since, limit=lookup.limit
    )
    candidates = []
    for row in rows:
        status = _status(row, lookup.now)
        if status in (WorkerStatus.offline, WorkerStatus.stopped):
            continue  # the page offers nothing for these either
        candidates.extend(_worker_commands(row, status))
    return candidates


def _worker_commands(row: repo.WorkerMatch, status: WorkerStatus) -> list[Candidate]:
    url = f"/api/v1/workers/{row.id}"
    subtitle = f"Worker · {status.value} · {row.host}"
    found = []
    if row.desired_state == "run":
        drain = PaletteAction(
            method="POST",
            url=f"{url}/drain",
            confirm=f"Drain {row.name}? It finishes the steps it holds and claims no new ones.",
            label="Drain",
            done=f"Draining {row.name}",
        )
        found.append(_action(f"Drain worker {row.name}", "/workers", subtitle, drain))
    else:
        resume = PaletteAction(
            method="POST", url=f"{url}/resume", label="Resume", done=f"Resumed {row.name}"
        )
        found.append(_action(f"Resume worker {row.name}", "/workers", subtitle, resume))
    if row.desired_state != "stop":
        stop = PaletteAction(
            method="POST",
            url=f"{url}/stop",
            confirm=f"Stop {row.name}? It drains, then its process ends.",
            label="Stop the worker",
            danger=True,
            done=f"Stopping {row.name}",
        )
        found.append(_action(f"Stop worker {row.name}", "/workers", subtitle, stop))
    steps = row.desired_concurrency or row.concurrency
    scale = PaletteAction(
        method="PATCH",
        url=url,
        confirm=f"How many steps should {row.name} run at once? It obeys at its next heartbeat.",
        label="Set",
        number=PaletteNumber(
            field="concurrency",
            label="Steps at once",
            minimum=1,
            maximum=MAX_CONCURRENCY,
            value=steps,
        ),
        done=f"{row.name} will run the new number of steps at once",
    )
    found.append(
        _action(f"Scale worker {row.name}", "/workers", f"{subtitle} · {steps} at once", scale)
    )
    return found


def _needs_inputs(definition: dict[str, Any]) -> bool:
    """Whether a run of this definition must be given inputs (one is required)."""
    inputs = definition.get("inputs")
    if not isinstance(inputs, dict):
        return False
    return any(isinstance(spec, dict) and spec.get("required") for spec in inputs.values())


async def _workflow_runs(lookup: Lookup) -> list[Candidate]:
    if lookup.blank:
        return []
    patterns = lookup.patterns_past("run workflow")
    rows = await repo.find_workflows(lookup.session, patterns=patterns, limit=lookup.limit)
    candidates = []
    for row in rows:
        page = f"/workflows/{quote(row.name, safe='')}"
        if _needs_inputs(row.definition):
            # The inputs are asked by the workflow page's run form, with their help texts.
            action = PaletteAction(method="GET", url=f"{page}#run-form", done="")
            subtitle = f"Workflow v{row.version} · asks for its inputs"
        else:
            action = PaletteAction(
                method="POST",
                url=f"/api/v1/workflows/{row.id}/runs",
                then="/runs/{id}",
                done=f"Started a run of {row.name}",
            )
            subtitle = f"Workflow v{row.version} · starts now"
        candidates.append(_action(f"Run workflow {row.name}", page, subtitle, action))
    return candidates


async def _commands(lookup: Lookup) -> list[Candidate]:
    who = lookup.who
    found: list[Candidate] = []
    if who.allows(P.MISSIONS_WRITE):
        action = PaletteAction(method="GET", url="/missions#new-mission", done="")
        found.append(_action("New mission", "/missions", "Describe a goal to plan", action))
    if who.allows(P.WORKFLOWS_WRITE):
        action = PaletteAction(method="GET", url="/workflows/new", done="")
        found.append(_action("New workflow", "/workflows", "Write a workflow in YAML", action))
    if who.allows(P.SCHEDULES_WRITE):
        action = PaletteAction(method="GET", url="/schedules#schedule-form", done="")
        found.append(_action("New schedule", "/schedules", "Run a workflow on a cron", action))
    controls = await lookup.session.get(Control, 1)
    stopped = controls is not None and controls.emergency_stop
    if not stopped and who.allows(P.EMERGENCY_STOP):
        stop = PaletteAction(
            method="POST",
            url="/api/v1/emergency-stop",
            confirm="Stop all work now? Every active run is aborted; only an admin can release.",
            reason="optional",
            label="Stop everything",
            danger=True,
            done="Emergency stop engaged",
        )
        found.append(_action("Emergency stop", "/missions", "Abort every run, halt dispatch", stop))
    if stopped and who.allows(P.EMERGENCY_RELEASE):
        release = PaletteAction(
            method="POST",
            url="/api/v1/emergency-stop/release",
            confirm="Release the emergency stop? Dispatch resumes for queued and new work.",
            reason="optional",
            label="Release the stop",
            done="Emergency stop released",
        )
        found.append(
            _action("Release the emergency stop", "/missions", "Dispatch resumes", release)
        )
    return found


SOURCES: Final[tuple[Source, ...]] = (
    Source("approvals", P.APPROVALS_DECIDE, _approvals),
    Source("missions", P.MISSIONS_READ, _missions),
    Source("runs", P.RUNS_READ, _runs),
    Source("workflows", P.WORKFLOWS_READ, _workflows),
    Source("pages", P.MISSIONS_READ, _pages),
    Source("commands", P.MISSIONS_READ, _commands),
    Source("cancels", P.RUNS_CONTROL, _cancels),
    Source("workflow-runs", P.RUNS_CONTROL, _workflow_runs),
    Source("agents", P.AGENTS_READ, _agents),
    Source("workers", P.AGENTS_READ, _workers),
    Source("worker-actions", P.WORKERS_CONTROL, _worker_actions),
    Source("schedules", P.WORKFLOWS_READ, _schedules),
    Source("templates", P.WORKFLOWS_READ, _templates),
)
"""Every source, in the order that breaks ties (and fills the palette for a blank query)."""
