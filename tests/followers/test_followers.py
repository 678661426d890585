"""One follower abstraction (ADR 0086): windows folded once, in order, with the cursor; lag
read in events and seconds; a failing follower backs off and loses nothing."""

import asyncio
import dataclasses
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from missionctl.api.metrics import render_metrics
from missionctl.eventlog import NewEvent, append
from missionctl.repositories.followers import Window
from missionctl.services import ServiceContext
from missionctl.services.followers import (
    FOLLOWERS,
    SEARCH_INDEX,
    WEBHOOK_OUTBOX,
    Follower,
    catch_up,
    follower_lags,
    following,
    running_followers,
)
from missionctl.services.runtime.periodic import MAX_BACKOFF_S, backoff_s
from missionctl.settings import Settings, WebhookSettings
from tests.api.test_metrics_and_health import samples, value


async def _append(ctx: ServiceContext, count: int) -> None:
    async with ctx.write() as session:
        await append(
            session,
            [
                NewEvent("step.log", "system", {"line": f"n{i}"}, run_id=uuid.uuid4())
                for i in range(count)
            ],
        )


class Recorder:
    """A follower's fold that remembers each window it was given (and can be made to fail)."""

    def __init__(self) -> None:
        self.windows: list[tuple[int, int]] = []
        self.failing = False

    def fold(self, session: Session, window: Window, _ctx: ServiceContext) -> None:
        if self.failing:
            raise RuntimeError("the fold failed")
        session.execute(text("SELECT 1"))  # it runs in the write transaction it was given
        self.windows.append((window.after, window.upto))


def _recording(name: str, recorder: Recorder, **kw: float) -> Follower:
    return Follower(name=name, description=f"the {name} test follower", fold=recorder.fold, **kw)


async def test_a_new_follower_reads_the_whole_log_in_windows_each_once(ctx: ServiceContext) -> None:
    await _append(ctx, 23)
    recorder = Recorder()
    follower = _recording(f"t{uuid.uuid4().hex[:8]}", recorder, batch_events=5)
    head = await catch_up(ctx, follower)
    assert head == recorder.windows[-1][1] >= 23
    # Contiguous, in order, none empty, none larger than a batch: every event exactly once.
    starts = [after for after, _ in recorder.windows]
    ends = [upto for _, upto in recorder.windows]
    assert starts[0] == 0 and starts[1:] == ends[:-1]
    assert all(0 < upto - after <= 5 for after, upto in recorder.windows)
    assert await catch_up(ctx, follower) == head and len(recorder.windows) == len(ends)


async def test_twin_followers_at_once_fold_each_window_once(ctx: ServiceContext) -> None:
    await _append(ctx, 40)
    recorder = Recorder()
    follower = _recording(f"t{uuid.uuid4().hex[:8]}", recorder, batch_events=3)
    await asyncio.gather(*(catch_up(ctx, follower) for _ in range(4)))
    covered = sorted(recorder.windows)
    assert [after for after, _ in covered[1:]] == [upto for _, upto in covered[:-1]]
    assert covered[0][0] == 0


async def test_a_failing_fold_moves_nothing_and_the_next_try_reads_the_same_window(
    ctx: ServiceContext,
) -> None:
    await _append(ctx, 4)
    recorder = Recorder()
    recorder.failing = True
    follower = _recording(f"t{uuid.uuid4().hex[:8]}", recorder)
    with pytest.raises(RuntimeError, match="the fold failed"):
        await catch_up(ctx, follower)
    assert recorder.windows == []
    recorder.failing = False
    head = await catch_up(ctx, follower)
    assert recorder.windows == [(0, head)]


async def test_lag_is_told_in_events_and_seconds_and_is_zero_once_caught_up(
    ctx: ServiceContext,
) -> None:
    for follower in FOLLOWERS:
        await catch_up(ctx, follower)
    await _append(ctx, 7)
    await asyncio.sleep(0.2)
    lags = {lag.name: lag for lag in await follower_lags(ctx)}
    assert list(lags) == ["search", "memory", "analytics", "orchestration", "risks", "webhooks"]
    for lag in lags.values():
        assert lag.lag_events == 7 and lag.head == lag.read_to + 7, lag
        assert 0.2 <= lag.lag_s < 60, lag
    await catch_up(ctx, SEARCH_INDEX)
    after = {lag.name: lag for lag in await follower_lags(ctx)}
    assert (after["search"].lag_events, after["search"].lag_s) == (0, 0.0)
    assert after["memory"].lag_events == 7


async def test_the_lag_gauges_say_what_the_followers_command_says(ctx: ServiceContext) -> None:
    await catch_up(ctx, SEARCH_INDEX)
    await _append(ctx, 3)
    scraped = samples((await render_metrics(ctx, database=True)).decode())
    lags = {lag.name: lag for lag in await follower_lags(ctx)}
    assert value(scraped, "missionctl_follower_lag_events", follower="search") == 3
    for name, lag in lags.items():
        assert value(scraped, "missionctl_follower_lag_events", follower=name) == lag.lag_events
        assert value(scraped, "missionctl_follower_lag_seconds", follower=name) > 0


async def test_the_loop_backs_off_while_a_follower_fails_and_catches_up_when_it_works(
    ctx: ServiceContext,
) -> None:
    await _append(ctx, 5)
    broken, fine = Recorder(), Recorder()
    broken.failing = True
    followers = [
        _recording(f"b{uuid.uuid4().hex[:8]}", broken, every_s=0.02),
        _recording(f"f{uuid.uuid4().hex[:8]}", fine, every_s=0.02),
    ]
    async with following(ctx, followers):
        for _ in range(200):
            if fine.windows:
                break
            await asyncio.sleep(0.02)
        assert fine.windows, "a failing follower stopped another one"
        broken.failing = False
        for _ in range(400):
            if broken.windows:
                break
            await asyncio.sleep(0.02)
    assert broken.windows and broken.windows[0][0] == 0  # nothing was lost while it failed


def test_the_wait_doubles_per_failure_up_to_a_cap() -> None:
    assert [backoff_s(1.0, n) for n in range(4)] == [1.0, 2.0, 4.0, 8.0]
    assert backoff_s(1.0, 50) == MAX_BACKOFF_S
    assert backoff_s(120.0, 3) == 120.0  # never more often than the follower's own pace


def test_the_outbox_runs_only_where_webhooks_are_sent(settings: Settings) -> None:
    names = [f.name for f in running_followers(settings, sends_webhooks=True)]
    assert names == ["search", "memory", "analytics", "orchestration", "risks", "webhooks"]
    assert "webhooks" not in [f.name for f in running_followers(settings, sends_webhooks=False)]
    off = settings.model_copy(update={"webhooks": WebhookSettings(deliver=False)})
    assert "webhooks" not in [f.name for f in running_followers(off, sends_webhooks=True)]
    paced = settings.model_copy(update={"webhooks": WebhookSettings(poll_s=0.25)})
    (outbox,) = [f for f in running_followers(paced, sends_webhooks=True) if f.name == "webhooks"]
    assert outbox.every_s == 0.25 and outbox.fold is WEBHOOK_OUTBOX.fold
    assert dataclasses.replace(outbox, every_s=1.0) == WEBHOOK_OUTBOX


def test_the_names_a_read_may_catch_up_are_the_followers_names() -> None:
    from typing import get_args

    from missionctl.services.runtime.context import FollowerName

    assert set(get_args(FollowerName)) == {follower.name for follower in FOLLOWERS}
