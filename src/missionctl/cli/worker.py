"""``missionctl worker``: an engine without the web server."""

import signal

from missionctl.cli._runtime import console, load_settings


def worker() -> None:
    """Claim and run steps from the database until interrupted (Ctrl-C or SIGTERM).

    Run as many workers as you like against one PostgreSQL database: steps are leased, and a
    worker that dies has its steps re-run elsewhere once their lease expires. Data:
    MISSIONCTL_HOME, else the nearest .missionctl here or above, else a new ./.missionctl.

    It obeys the control plane at each heartbeat (`missionctl workers drain|resume|stop|scale`,
    the Workers page, the API): asked to stop, it finishes the steps it holds, claims no new
    ones, and exits 0 once drained. See docs/deploy.md for running several under systemd or
    Docker Compose.

    With MISSIONCTL_METRICS_ADDRESS (host:port) it serves its own Prometheus metrics at
    http://HOST:PORT/metrics (its steps, tokens, model requests, events); give each process on
    a machine its own port.

    It keeps the log's followers (the search index, mission memory, the analytics facts) up
    with the log beside the server's (they take turns), so `missionctl followers` stays near
    zero while the server is down. It sends no webhooks: `missionctl serve` fills the outbox
    and sends it (MISSIONCTL_WEBHOOKS_DELIVER).
    """
    import asyncio

    from missionctl.api.metrics import metrics_listener
    from missionctl.engine.heap import freeze_startup_heap
    from missionctl.engine.hooks import write_report_when_run_ends
    from missionctl.engine.worker import Engine, EngineConfig, default_worker_id
    from missionctl.services import open_context
    from missionctl.services.followers import log_followers
    from missionctl.services.runtime.composition import open_runtime
    from missionctl.services.usecases.scheduler import schedule_firing

    settings = load_settings(create_home=True)

    async def main() -> None:
        stop = asyncio.Event()
        signalled = asyncio.Event()  # set: a signal stopped it; unset: the control plane did
        loop = asyncio.get_running_loop()

        def on_signal() -> None:
            signalled.set()
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal)
        async with (
            open_context(settings) as ctx,
            open_runtime(settings) as runtime,
            metrics_listener(ctx, settings.metrics_address, database=False),
            # The search index, memory and analytics facts (ADR 0086); the outbox is serve's.
            log_followers(ctx, sends_webhooks=False),
            # Due schedules fire beside every engine, once per tick (ADR 0059).
            schedule_firing(
                ctx, planner=runtime.planner, every_s=settings.engine.schedules_every_s
            ),
        ):
            worker_id = default_worker_id()
            console.print(f"worker {worker_id} ({runtime.engine_label}); Ctrl-C stops it")
            if warning := (await runtime.agents.sandbox.check()).warning:
                console.print(f"[yellow]warning:[/yellow] {warning}")
            engine = Engine(
                ctx,
                runtime.agents,
                config=EngineConfig.from_settings(settings.engine),
                worker_id=worker_id,
                on_run_finished=lambda run_id: write_report_when_run_ends(ctx, run_id),
            )
            freeze_startup_heap()  # start-up is over: see engine.heap (ADRs 0019, 0022)
            await engine.run(stop)
        if signalled.is_set():
            console.print("worker stopped")
        else:
            console.print("worker drained and stopped, as asked by the control plane")

    asyncio.run(main())
