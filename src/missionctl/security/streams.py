"""Long responses that outlive their admission: live streams end when their credential does.

The guard (``security.guard``) admits a request once, when it arrives. A live stream
(Server-Sent Events) can stay open for hours, so that check alone would let a session signed
out, revoked, ended by a new password or role, or a revoked API token, keep receiving every
event for as long as its connection stays open. :func:`while_admitted` asks again, every
``RECHECK_S`` seconds, whether the request's credential still names the identity it was
admitted as (``guard.current_identity``: one indexed read), and ends the stream when it does
not; a browser that reconnects is then refused like any request (401 or 403). No message is
sent after a check that failed: a message that arrives once a check is due waits for it.

:func:`until_due` is the pacing both the streams and this check use.
"""

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from typing import Any, TypeVar

from starlette.requests import Request

from missionctl.domain.access import Identity
from missionctl.security.guard import current_identity

RECHECK_S = 10.0
"""How often, in seconds, an open stream asks whether its credential still lets it in: the
longest a stream outlives its session or token (one indexed read per stream and interval)."""

T = TypeVar("T")


async def _next(source: AsyncIterator[T]) -> T:
    return await anext(source)


async def until_due(
    source: AsyncIterator[T], due: Callable[[], float | None]
) -> AsyncGenerator[T | None, None]:
    """Yield what ``source`` yields, and ``None`` whenever ``due()`` passes before it does.

    ``due()`` is a time of the event loop's clock, or ``None`` to wait for ``source`` alone; it
    is asked again before every wait. ``source`` is read by a task that a passing deadline
    does not cancel (a cancelled async generator is closed for good), and never more than one
    item ahead: a consumer that stops reading stops the source too. Closing this generator
    cancels that task, or closes ``source`` when no read is under way.
    """
    loop = asyncio.get_running_loop()
    pending: asyncio.Task[T] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.create_task(_next(source))
            when = due()
            timeout = None if when is None else max(when - loop.time(), 0.0)
            done, _ = await asyncio.wait({pending}, timeout=timeout)
            if not done:
                yield None
                continue
            finished, pending = pending, None
            try:
                item = finished.result()
            except StopAsyncIteration:
                return
            yield item
    finally:
        reading = pending is not None and not pending.done()
        if pending is not None:
            _drop(pending)  # cancelled mid-read, the source ends with it
        close = getattr(source, "aclose", None)  # an async generator's
        if not reading and close is not None:
            await close()


def _drop(task: "asyncio.Task[Any]") -> None:
    """Cancel ``task``; or, done, read its outcome (asyncio logs an error nobody read)."""
    if not task.done():
        task.cancel()
    elif not task.cancelled():
        task.exception()


async def while_admitted(request: Request, source: AsyncIterator[T]) -> AsyncIterator[T]:
    """Yield what ``source`` yields while ``request``'s credential still admits its identity.

    Every ``RECHECK_S`` seconds (read at each check), and before a message once a check is due,
    the credential is read again; when it names no identity, or another one (a changed role),
    the stream ends and ``source`` is closed. A request admitted without an identity (a public
    route) has nothing to re-check.
    """
    admitted: Identity | None = getattr(request.state, "identity", None)
    loop = asyncio.get_running_loop()
    check_at = loop.time() + RECHECK_S
    async with aclosing(until_due(source, lambda: None if admitted is None else check_at)) as items:
        async for item in items:
            if admitted is not None and loop.time() >= check_at:
                if await current_identity(request) != admitted:
                    return
                check_at = loop.time() + RECHECK_S
            if item is not None:
                yield item
