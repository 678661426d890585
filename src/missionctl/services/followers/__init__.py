"""The followers of the log: derived data kept up with the events, off the appending path.

Every follower is declared once (``follower.Follower``) and listed in :data:`FOLLOWERS`, which
``missionctl serve`` and ``missionctl worker`` start with :func:`log_followers`;
``missionctl followers``, the Workers page and the ``missionctl_follower_lag_*`` gauges show
how far behind each one is (:func:`follower_lags`). A read that wants current data catches its
follower up first, by name (``ServiceContext.catch_up``): use cases never import this package.
ADR 0086.
"""

import dataclasses
from contextlib import AbstractAsyncContextManager

from missionctl.schemas.health import FollowerRead
from missionctl.services.followers.analytics_facts import ANALYTICS_FACTS
from missionctl.services.followers.follower import (
    Follower,
    catch_up,
    catch_up_quietly,
    following,
    read_lags,
)
from missionctl.services.followers.memory_index import MEMORY_INDEX
from missionctl.services.followers.orchestration_facts import ORCHESTRATION_FACTS
from missionctl.services.followers.search_index import SEARCH_INDEX
from missionctl.services.followers.step_risks import RISKS_FOLLOWER
from missionctl.services.followers.webhook_outbox import WEBHOOK_OUTBOX
from missionctl.services.runtime.context import FollowerName, ServiceContext
from missionctl.settings import Settings

FOLLOWERS: tuple[Follower, ...] = (
    SEARCH_INDEX,
    MEMORY_INDEX,
    ANALYTICS_FACTS,
    ORCHESTRATION_FACTS,
    RISKS_FOLLOWER,
    WEBHOOK_OUTBOX,
)
"""Every follower of the log, in the order they are shown."""


def running_followers(settings: Settings, *, sends_webhooks: bool) -> list[Follower]:
    """The followers a process runs: the outbox's only where webhooks are sent from.

    That is ``missionctl serve`` with ``MISSIONCTL_WEBHOOKS_DELIVER`` on (a worker sends none,
    so it fills no outbox either); the outbox is read every ``MISSIONCTL_WEBHOOKS_POLL_S``.
    """
    outbox = dataclasses.replace(WEBHOOK_OUTBOX, every_s=settings.webhooks.poll_s)
    others = [follower for follower in FOLLOWERS if follower is not WEBHOOK_OUTBOX]
    return [*others, outbox] if sends_webhooks and settings.webhooks.deliver else others


def log_followers(
    ctx: ServiceContext, *, sends_webhooks: bool
) -> AbstractAsyncContextManager[None]:
    """Keep every follower this process runs up with the log while the block runs."""
    return following(ctx, running_followers(ctx.settings, sends_webhooks=sends_webhooks))


async def catch_up_named(ctx: ServiceContext, name: FollowerName, *, quietly: bool) -> bool:
    """:func:`catch_up` the follower called ``name`` (``ServiceContext.catch_up``)."""
    follower = next(follower for follower in FOLLOWERS if follower.name == name)
    if quietly:
        return await catch_up_quietly(ctx, follower)
    await catch_up(ctx, follower)
    return True


async def follower_lags(ctx: ServiceContext) -> list[FollowerRead]:
    """How far behind the log every follower is now, in events and in seconds."""
    return await read_lags(ctx, FOLLOWERS)


__all__ = [
    "ANALYTICS_FACTS",
    "FOLLOWERS",
    "MEMORY_INDEX",
    "ORCHESTRATION_FACTS",
    "RISKS_FOLLOWER",
    "SEARCH_INDEX",
    "WEBHOOK_OUTBOX",
    "Follower",
    "catch_up",
    "catch_up_named",
    "catch_up_quietly",
    "follower_lags",
    "log_followers",
    "running_followers",
]
