"""Helpers of the page tests: seeding missions in given states, a streaming ASGI transport and
a reader of Server-Sent Events.

httpx2's ``ASGITransport`` buffers a whole response before returning it, so an endless SSE
stream would never return. ``StreamingASGITransport`` hands the body over as the app sends it
and tells the app the client went away (``http.disconnect``) when the response is closed, which
is what a browser dropping its connection does.
"""

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2
from sqlalchemy import func, select

from missionctl.db.models import Event
from missionctl.planning import LocalPlanner
from missionctl.schemas.missions import MissionCreate, MissionRead
from missionctl.schemas.runs import RunRead
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.usecases import missions as mission_service
from missionctl.services.usecases import plans as plan_service
from missionctl.services.usecases.runs import read_run, start_run
from missionctl.services.usecases.workflows import create_workflow

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}
ACTOR = "user:test"
FINISHED = {"completed", "failed", "canceled", "aborted"}


async def planned_mission(ctx: ServiceContext, goal: str = "Build a URL shortener") -> MissionRead:
    """A mission planned by the local planner."""
    mission = await mission_service.create_mission(
        ctx, data=MissionCreate(goal=goal, budget_usd=None), actor=ACTOR
    )
    await plan_service.plan_mission(ctx, mission_id=mission.id, actor=ACTOR, planner=LocalPlanner())
    return await mission_service.read_mission(ctx, mission_id=mission.id)


async def start_steps(
    ctx: ServiceContext, mission_id: uuid.UUID | None, steps: list[dict[str, Any]]
) -> RunRead:
    """Save a workflow of ``steps`` (for ``mission_id``, if any) and start a run of it."""
    spec = WorkflowSpec.model_validate({"name": f"wf-{uuid.uuid4().hex[:8]}", "steps": steps})
    workflow = await create_workflow(ctx, spec=spec, actor=ACTOR, mission_id=mission_id)
    return await start_run(ctx, workflow_id=workflow.id, actor=ACTOR, mission_id=mission_id)


async def wait_for_run(
    ctx: ServiceContext,
    run_id: uuid.UUID,
    done: Callable[[RunRead], bool] = lambda r: r.status in FINISHED,
    within_s: float = 20.0,
) -> RunRead:
    """Poll the run until ``done`` says so."""
    deadline = time.monotonic() + within_s
    while True:
        run = await read_run(ctx, run_id=run_id)
        if done(run):
            return run
        if time.monotonic() > deadline:
            raise AssertionError(
                f"run stayed {run.status}: {[(s.step_id, s.status) for s in run.steps]}"
            )
        await asyncio.sleep(0.05)


async def event_seqs(ctx: ServiceContext, *, mission_id: uuid.UUID, after: int = 0) -> list[int]:
    """Every ``seq`` of the mission's events after ``after``, in order."""
    async with ctx.read() as session:
        rows = await session.scalars(
            select(Event.seq)
            .where(Event.mission_id == mission_id, Event.seq > after)
            .order_by(Event.seq)
        )
        return list(rows.all())


async def run_event_seqs(ctx: ServiceContext, run_id: uuid.UUID) -> list[int]:
    """Every ``seq`` of the run's events, in order."""
    async with ctx.read() as session:
        rows = await session.scalars(
            select(Event.seq).where(Event.run_id == run_id).order_by(Event.seq)
        )
        return list(rows.all())


async def last_seq(ctx: ServiceContext, *, mission_id: uuid.UUID) -> int:
    """The newest event of the mission."""
    async with ctx.read() as session:
        seq = await session.scalar(
            select(func.max(Event.seq)).where(Event.mission_id == mission_id)
        )
        return int(seq or 0)


# --- Server-Sent Events ----------------------------------------------------------------------


@dataclass
class Message:
    """One SSE message."""

    id: str | None = None
    data: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.data)


def shown_parts(received: list[Message]) -> dict[str, str]:
    """What a page shows of each ``<hx-partial>`` target after applying ``received`` in order:
    the last part sent for it (a stream leaves out a part that did not change)."""
    shown: dict[str, str] = {}
    for message in received:
        for part in re.finditer(
            r'<hx-partial hx-target="([^"]+)"[^>]*>(.*?)</hx-partial>', message.text, re.S
        ):
            shown[part.group(1)] = " ".join(part.group(2).split())
    return shown


async def messages(response: httpx2.Response) -> AsyncIterator[Message]:
    """Parse the SSE messages of a streaming response (comments, such as pings, are skipped)."""
    current = Message()
    async for line in response.aiter_lines():
        if line == "":
            if current.id is not None or current.data:
                yield current
            current = Message()
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "id":
                current.id = value
            elif name == "data":
                current.data.append(value)


class Inbox:
    """The messages of a streaming response, read into a queue by a task of their own.

    Waiting for the next message with a timeout must not cancel the read itself: a cancelled
    async generator is closed for good, so ``asyncio.wait_for(anext(stream), t)`` ends the
    stream at the first pause longer than ``t`` (which a loaded machine makes likely).
    """

    def __init__(self, response: httpx2.Response) -> None:
        self._queue: asyncio.Queue[Message | None] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read(response))

    async def _read(self, response: httpx2.Response) -> None:
        try:
            async for message in messages(response):
                self._queue.put_nowait(message)
        finally:
            self._queue.put_nowait(None)  # the stream ended

    async def next(self, within_s: float) -> Message | None:
        """The next message, or None if none came within ``within_s`` or the stream ended."""
        try:
            return await asyncio.wait_for(self._queue.get(), within_s)
        except TimeoutError:
            return None

    async def __aenter__(self) -> "Inbox":
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop reading (before the response is closed)."""
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


class _BodyStream(httpx2.AsyncByteStream):
    def __init__(
        self, queue: "asyncio.Queue[bytes | None]", task: "asyncio.Task[None]", gone: asyncio.Event
    ) -> None:
        self._queue = queue
        self._task = task
        self._gone = gone

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (chunk := await self._queue.get()) is not None:
            yield chunk

    async def aclose(self) -> None:
        self._gone.set()  # the client went away: the app hears http.disconnect
        try:
            await asyncio.wait_for(self._task, timeout=10)
        except TimeoutError:
            self._task.cancel()


class StreamingASGITransport(httpx2.AsyncBaseTransport):
    """Like ``httpx2.ASGITransport``, but the body streams and closing it disconnects."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        body = await request.aread()
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        started = asyncio.Event()
        gone = asyncio.Event()
        head: dict[str, Any] = {}
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                head["status"] = message["status"]
                head["headers"] = message.get("headers", [])
                started.set()
            elif message["type"] == "http.response.body":
                if message.get("body"):
                    queue.put_nowait(message["body"])
                if not message.get("more_body", False):
                    queue.put_nowait(None)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "server": (request.url.host, request.url.port),
            "client": ("127.0.0.1", 123),
            "root_path": "",
        }

        async def run() -> None:
            try:
                await self.app(scope, receive, send)
            finally:
                started.set()
                queue.put_nowait(None)

        task = asyncio.create_task(run())
        await started.wait()
        if "status" not in head:
            await task  # the app failed before it answered: raise its error here
        return httpx2.Response(
            head["status"], headers=head["headers"], stream=_BodyStream(queue, task, gone)
        )
