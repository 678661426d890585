"""Prometheus metrics: ``GET /metrics`` on the main address, and a listener of its own.

What a scrape returns (ADR 0043):

- the process's instruments, kept in ``prometheus_client``'s default registry by the modules
  that count: ``engine.metrics`` (step durations, tokens and cost by model), ``llm.metrics``
  (request latency and errors), ``eventlog.metrics`` (events appended), and the client's own
  process and Python collectors;
- with ``database=True`` (the server), gauges read from the database at scrape time by
  :class:`DatabaseCollector`: runs and step runs by status, the queue depth, live workers,
  the steps ready to be claimed and how long the oldest waited, each log follower's lag (in
  events and seconds); and the live-stream subscribers of this
  process.

On the main address ``/metrics`` needs ``metrics:read`` (an API token of any role); the
listener that ``MISSIONCTL_METRICS_ADDRESS`` starts serves only ``/metrics``, to anyone, so a
scraper needs no token there. A ``missionctl worker`` process serves its own instruments on its
own listener (``database=False``: the database's gauges come from the server, once).
"""

import asyncio
import contextlib
import errno
import logging
import socket
from collections.abc import AsyncIterator, Iterator, Sequence

import uvicorn
from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from missionctl.api.deps import Context, P, public, requires
from missionctl.schemas.health import FollowerRead
from missionctl.security.guard import GuardedRoute
from missionctl.services import ServiceContext
from missionctl.services.followers import follower_lags
from missionctl.services.usecases.health import StatusCounts, count_by_status
from missionctl.services.usecases.workers import count_alive_workers, read_ready_queue
from missionctl.settings import split_address

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"


class DatabaseCollector(Collector):
    """The gauges one scrape read from the database, and this process's live subscribers."""

    def __init__(
        self,
        counts: StatusCounts | None,
        workers_alive: int,
        subscribers: int,
        followers: Sequence[FollowerRead] = (),
        ready: tuple[int, float] = (0, 0.0),
    ) -> None:
        """Gauges of ``counts`` (``None``: no database gauges), ``subscribers``, ``followers``.

        ``ready``: the steps ready to be claimed, and the seconds the oldest of them waited.
        """
        self.counts = counts
        self.workers_alive = workers_alive
        self.subscribers = subscribers
        self.followers = followers
        self.ready = ready

    def collect(self) -> Iterator[Metric]:
        """Yield the gauges (every status is named, zeros included)."""
        subscribers = GaugeMetricFamily(
            "missionctl_live_subscribers",
            "Subscribers of this process's live event stream (pages' SSE streams, its engine).",
            value=self.subscribers,
        )
        yield subscribers
        if self.counts is None:
            return
        runs = GaugeMetricFamily("missionctl_runs", "Runs by status.", labels=["status"])
        for status, count in self.counts.runs.items():
            runs.add_metric([status], count)
        steps = GaugeMetricFamily("missionctl_steps", "Step runs by status.", labels=["status"])
        for status, count in self.counts.steps.items():
            steps.add_metric([status], count)
        yield runs
        yield steps
        yield GaugeMetricFamily(
            "missionctl_queue_depth",
            "Step runs queued for an engine.",
            value=self.counts.steps.get("queued", 0),
        )
        yield GaugeMetricFamily(
            "missionctl_queue_ready",
            "Step runs ready to be claimed now: queued, held back by nothing, due.",
            value=self.ready[0],
        )
        yield GaugeMetricFamily(
            "missionctl_queue_oldest_wait_seconds",
            "Seconds the longest-waiting ready step has waited (0: none is ready).",
            value=self.ready[1],
        )
        yield GaugeMetricFamily(
            "missionctl_workers_alive",
            "Engines heartbeating within the last 30 seconds.",
            value=self.workers_alive,
        )
        yield from self._follower_lags()

    def _follower_lags(self) -> Iterator[Metric]:
        events = GaugeMetricFamily(
            "missionctl_follower_lag_events",
            "Events appended that the follower of the log has not read.",
            labels=["follower"],
        )
        seconds = GaugeMetricFamily(
            "missionctl_follower_lag_seconds",
            "Seconds since the oldest event the follower has not read was appended (0: current).",
            labels=["follower"],
        )
        for follower in self.followers:
            events.add_metric([follower.name], follower.lag_events)
            seconds.add_metric([follower.name], follower.lag_s)
        yield events
        yield seconds


async def render_metrics(ctx: ServiceContext, *, database: bool) -> bytes:
    """The exposition text of one scrape (see the module docstring for what it holds)."""
    counts, alive, lags, ready = None, 0, [], (0, 0.0)
    if database:
        counts = await count_by_status(ctx)
        alive = await count_alive_workers(ctx)
        lags = await follower_lags(ctx)
        ready = await read_ready_queue(ctx)
    scraped = CollectorRegistry(auto_describe=False)
    collector = DatabaseCollector(counts, alive, ctx.broadcaster.subscriber_count, lags, ready)
    scraped.register(collector)
    return generate_latest(REGISTRY) + generate_latest(scraped)


router = APIRouter(route_class=GuardedRoute)


@router.get(METRICS_PATH, dependencies=[requires(P.METRICS_READ)], include_in_schema=False)
async def metrics(ctx: Context) -> Response:
    """Prometheus text exposition; needs an API token of any role (or a signed-in session)."""
    body = await render_metrics(ctx, database=True)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def metrics_app(ctx: ServiceContext, *, database: bool) -> FastAPI:
    """The app of the scrapers' listener: ``GET /metrics`` to anyone, nothing else."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get(METRICS_PATH, dependencies=[public()])
    async def open_metrics(request: Request) -> Response:
        body = await render_metrics(ctx, database=database)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return app


def _bind(host: str, port: int, *, taken_is_fine: bool) -> socket.socket | None:
    """A socket listening on ``host:port``; ``None`` if it is in use and ``taken_is_fine``.

    Raises:
        OSError: it cannot be listened on (in use, unless that is fine; not this machine's).
    """
    family, kind, proto, _, where = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    listening = socket.socket(family, kind, proto)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(where)
        listening.listen(128)
    except OSError as exc:
        listening.close()
        if taken_is_fine and exc.errno == errno.EADDRINUSE:
            return None
        raise
    return listening


class _ListenerServer(uvicorn.Server):
    """A uvicorn server that leaves the process's signals to the program that runs it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Take no signal handlers: the program stops this server through ``should_exit``."""
        yield


@contextlib.asynccontextmanager
async def metrics_listener(
    ctx: ServiceContext, address: str | None, *, database: bool, shared: bool = False
) -> AsyncIterator[None]:
    """Serve ``metrics_app`` on ``address`` (``host:port``) while the block runs; nothing if None.

    ``shared``: one of several server processes on one port (``serve --workers``) asks; the
    first to bind the address serves the metrics, and the others go on without (their
    process-level figures are not scraped; the database's are the same in every process).

    Raises:
        OSError: the address cannot be listened on (in use, not this machine's), and not
            because a sibling process listens there (``shared``).
    """
    if address is None:
        yield
        return
    host, port = split_address(address)
    # Bound here, not by uvicorn: a port a sibling process holds is then an OSError here,
    # where uvicorn would end the whole process.
    listening = _bind(host, port, taken_is_fine=shared)
    if listening is None:
        log.info("metrics on %s are served by another server process", address)
        yield
        return
    config = uvicorn.Config(
        metrics_app(ctx, database=database),
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        access_log=False,
    )
    server = _ListenerServer(config)
    task = asyncio.create_task(server.serve(sockets=[listening]), name="missionctl-metrics")
    while not server.started:
        if task.done():
            await task  # it failed to start: raise why
            raise OSError(f"the metrics listener on {address} stopped at once")
        await asyncio.sleep(0.01)
    log.info("metrics for scrapers on http://%s/metrics", address)
    try:
        yield
    finally:
        server.should_exit = True
        await task
