"""Sending the webhook outbox: claim due deliveries under a lease, POST them, record the answer.

Each round (:func:`dispatch_due`) leases at most ``concurrency`` due deliveries in one short
transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so processes sharing a database take
different rows), sends them side by side with httpx2 (each bounded by ``timeout_s``, body read
included), and writes each outcome fenced by its lease. A 2xx answer delivers; anything else
(another status, a refused connection, a timeout) is retried after ``backoff_s`` until
``max_attempts``, then the delivery is ``failed``. No transaction is open while a request is in
flight, and nothing here runs on the engine's path: a dead receiver slows only its deliveries.

Before each request the address is judged again by the address policy
(``services.usecases.webhooks.vet_target``: public, or inside
``MISSIONCTL_HTTP_AGENT_ALLOWED_NETWORKS``), since a name may resolve elsewhere than when it was
subscribed; the request then goes to the address judged (the name stays in ``Host`` and in TLS),
never where a second lookup or a redirect would lead. A refused address fails the delivery at once,
its error starting with ``refused:``. Of the answer only its status and media type are kept
(:func:`answer_summary`): a receiver's body is never stored or shown, so a webhook cannot read an
internal service back.

The clock is a parameter, so that tests drive retries without waiting (ADR 0060).
"""

import asyncio
import ipaddress
import logging
import re
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any, Protocol

import httpx2

from missionctl import __version__
from missionctl.agents.addresses import Network, Resolver, resolve_host
from missionctl.db.types import utcnow
from missionctl.domain.webhooks import (
    MAX_ERROR_CHARS,
    DeliveryStatus,
    backoff,
    clip,
)
from missionctl.errors import NotFound
from missionctl.repositories import webhooks as repo
from missionctl.schemas.webhooks import DeliveryRead
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.runtime.periodic import repeating
from missionctl.services.usecases.webhooks import (
    TargetRefused,
    TargetUnresolved,
    delivery_read,
    queue_redelivery,
    queue_test,
    vet_target,
)
from missionctl.settings import WebhookSettings

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

_SETTLE_POLL_S = 0.05
"""How often a caller waiting on another sender's attempt looks at the delivery again."""

SIGNATURE_HEADER = "Missionctl-Signature"
"""The header that carries a request's signature (``security.signing``'s scheme)."""


class Signer(Protocol):
    """Signs a body sent at ``at``: ``security.signing.sign``, handed in by the caller.

    The security layer sits above the services, so the composition roots and adapters pass it.
    """

    def __call__(self, secret: str, body: bytes, *, at: float | None = None) -> str:
        """The ``Missionctl-Signature`` header value."""
        ...


LEASE_MARGIN_S = 30.0
"""How much longer than a request may take its lease lasts: a sender that dies mid-request
frees its deliveries for another process once the lease ends."""


MAX_SUMMARY_CHARS = 200
"""The most an answer's summary (status line and media type) keeps."""

_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9.+-]{0,60}/[a-z0-9][a-z0-9.+-]{0,60}")


@dataclass(frozen=True, slots=True)
class Policy:
    """Where deliveries may go: the allowed private networks, and how names are resolved."""

    networks: tuple[Network, ...] = ()
    resolve: Resolver = resolve_host


@dataclass(frozen=True, slots=True)
class Answer:
    """What one attempt got: a status and a summary of the answer, or an error; how long it took.

    ``final``: the attempt was refused by the address policy and is not retried.
    """

    status_code: int | None
    response_body: str | None
    error: str | None
    duration_ms: int
    final: bool = False

    @property
    def ok(self) -> bool:
        """Whether the receiver accepted the delivery (any 2xx)."""
        return self.status_code is not None and 200 <= self.status_code < 300


def answer_summary(response: httpx2.Response) -> str:
    """What is kept of an answer: its status line and media type, never a byte of its body.

    The reason phrase is the standard one for the status and the media type is kept only when
    it looks like one, so nothing the receiver chose is echoed beyond a short, fixed shape.
    """
    code = response.status_code
    try:
        phrase = HTTPStatus(code).phrase
    except ValueError:
        phrase = ""
    essence = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    media = essence if _MEDIA_TYPE.fullmatch(essence) else "no recognised media type"
    return clip(f"HTTP {code} {phrase}".rstrip() + f"; {media}", MAX_SUMMARY_CHARS)


def _pinned(
    http: httpx2.AsyncClient, url: str, address: str, content: bytes, headers: dict[str, str]
) -> httpx2.Request:
    """A POST of ``content`` to ``url`` whose connection goes to ``address``.

    The name stays where the receiver reads it: the ``Host`` header and, over HTTPS, the TLS
    server name, against which the certificate is checked.
    """
    target = httpx2.URL(url)
    pinned = target.copy_with(host=str(ipaddress.ip_address(address.split("%")[0])))
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    sent = {**headers, "Host": target.netloc.decode("ascii")}
    return http.build_request("POST", pinned, content=content, headers=sent, extensions=extensions)


async def _vetted(url: str, policy: Policy) -> str | Answer:
    """The address to send to, or the answer that ends the attempt without sending."""
    started = time.perf_counter()
    try:
        addresses = await vet_target(url, policy.networks, resolve=policy.resolve)
    except TargetRefused as exc:
        return Answer(None, None, clip(f"refused: {exc}", MAX_ERROR_CHARS), _ms(started), True)
    except TargetUnresolved as exc:  # may resolve later: retried like a refused connection
        return Answer(None, None, clip(str(exc), MAX_ERROR_CHARS), _ms(started))
    return addresses[0]


async def post(
    http: httpx2.AsyncClient,
    claimed: repo.Claimed,
    *,
    sign: Signer,
    timeout_s: float,
    now: datetime,
    policy: Policy = Policy(),
) -> Answer:
    """POST one claimed delivery, signed, within ``timeout_s`` overall; never raises for I/O.

    The address is judged first (``policy``) and the request pinned to the address judged.
    """
    content = claimed.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"missionctl-webhooks/{__version__}",
        "Missionctl-Event": claimed.event_type,
        "Missionctl-Delivery": str(claimed.id),
        SIGNATURE_HEADER: sign(claimed.secret, content, at=now.timestamp()),
    }
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s):
            address = await _vetted(claimed.url, policy)
            if isinstance(address, Answer):
                return address
            request = _pinned(http, claimed.url, address, content, headers)
            response = await http.send(request, stream=True)
            await response.aclose()  # the body is never read
            text, code = answer_summary(response), response.status_code
    except TimeoutError:
        return Answer(None, None, f"no answer within {timeout_s:g} s", _ms(started))
    # Any failure to send is the receiver's outcome, recorded on its delivery: an address
    # httpx2 refuses late (InvalidURL), a socket error, a malformed answer.
    except (httpx2.HTTPError, httpx2.InvalidURL, OSError, ValueError) as exc:
        failure = clip(f"{type(exc).__name__}: {exc}".strip(": "), MAX_ERROR_CHARS)
        return Answer(None, None, failure, _ms(started))
    refused = None if 200 <= code < 300 else f"the receiver answered {code}"
    return Answer(code, text, refused, _ms(started))


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _outcome(
    answer: Answer, attempts: int, now: datetime, config: WebhookSettings
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "status_code": answer.status_code,
        "response_body": answer.response_body,
        "error": answer.error,
        "duration_ms": answer.duration_ms,
    }
    if answer.ok:
        return values | {"status": DeliveryStatus.delivered.value, "delivered_at": now}
    if answer.final or attempts >= config.max_attempts:
        return values | {"status": DeliveryStatus.failed.value}
    wait = timedelta(seconds=backoff(attempts, config.backoff_s))
    return values | {"status": DeliveryStatus.pending.value, "next_attempt_at": now + wait}


async def _claim(
    ctx: ServiceContext, config: WebhookSettings, now: datetime, only: uuid.UUID | None = None
) -> list[repo.Claimed]:
    token = secrets.token_hex(16)
    lease_until = now + timedelta(seconds=config.timeout_s + LEASE_MARGIN_S)
    async with ctx.write() as session:
        return await repo.claim_due(
            session,
            now=now,
            lease_until=lease_until,
            token=token,
            limit=1 if only else config.concurrency,
            only=only,
        )


async def _send_and_record(
    ctx: ServiceContext,
    http: httpx2.AsyncClient,
    claimed: repo.Claimed,
    config: WebhookSettings,
    sign: Signer,
    clock: Clock,
    policy: Policy,
) -> bool:
    answer = await post(
        http, claimed, sign=sign, timeout_s=config.timeout_s, now=clock(), policy=policy
    )
    values = _outcome(answer, claimed.attempts, clock(), config)
    async with ctx.write() as session:
        recorded = await repo.record_attempt(
            session, delivery_id=claimed.id, token=claimed.token, values=values
        )
    if not recorded:
        log.info("delivery %s was taken over while it was being sent", claimed.id)
    return answer.ok


async def dispatch_due(
    ctx: ServiceContext,
    config: WebhookSettings,
    *,
    sign: Signer,
    clock: Clock = utcnow,
    http: httpx2.AsyncClient | None = None,
    resolve: Resolver = resolve_host,
) -> int:
    """Send every delivery due at ``clock()``, ``config.concurrency`` at a time; how many were sent.

    Rounds continue while they find due deliveries, so a backlog drains in one call. Raises
    what the database raises; a receiver's failure (or a refused address) is recorded on its
    delivery, never raised. ``resolve`` turns names into addresses (``getaddrinfo``).
    """
    claimed = await _claim(ctx, config, clock())
    if not claimed:
        # Most rounds find nothing due: a client (its TLS context alone costs tens of
        # milliseconds of CPU) is made only for a round that sends.
        return 0
    policy = Policy(ctx.settings.http_agent.networks(), resolve)
    async with _client(http, config) as client:
        sent = 0
        while claimed:
            await asyncio.gather(
                *(_send_and_record(ctx, client, c, config, sign, clock, policy) for c in claimed)
            )
            sent += len(claimed)
            if len(claimed) < config.concurrency:
                break
            claimed = await _claim(ctx, config, clock())
        return sent


@asynccontextmanager
async def _client(
    http: httpx2.AsyncClient | None, config: WebhookSettings
) -> AsyncIterator[httpx2.AsyncClient]:
    """The caller's httpx2 client as it is, or a new one closed at the end."""
    if http is not None:
        yield http
        return
    # No redirects: a 3xx is an answer like any other non-2xx (retried, logged), so an address
    # cannot send the signed body somewhere its subscriber did not name.
    async with httpx2.AsyncClient(
        timeout=config.timeout_s, follow_redirects=False, trust_env=False
    ) as own:
        yield own


async def _send_one_now(
    ctx: ServiceContext, delivery_id: uuid.UUID, sign: Signer, clock: Clock
) -> DeliveryRead:
    """Send a queued delivery at once; the delivery with the answer of that attempt.

    A dispatcher may claim the delivery first: then this waits for that sender's answer, at
    most the request timeout plus a second, and returns the delivery as it then stands.
    """
    config = ctx.settings.webhooks
    claimed = await _claim(ctx, config, clock(), only=delivery_id)
    if claimed:
        policy = Policy(ctx.settings.http_agent.networks())
        async with _client(None, config) as client:
            await _send_and_record(ctx, client, claimed[0], config, sign, clock, policy)
    deadline = time.monotonic() + (0.0 if claimed else config.timeout_s + 1.0)
    while True:
        async with ctx.read() as session:
            row = await repo.read_delivery(session, delivery_id=delivery_id)
            if row is None:  # its subscription was deleted meanwhile
                raise NotFound(f"no delivery has the id {delivery_id}", field="delivery_id")
            now = delivery_read(row)
        if now.status != DeliveryStatus.sending or time.monotonic() >= deadline:
            return now
        await asyncio.sleep(_SETTLE_POLL_S)


async def redeliver(
    ctx: ServiceContext,
    *,
    delivery_id: uuid.UUID,
    actor: str,
    sign: Signer,
    clock: Clock = utcnow,
) -> DeliveryRead:
    """Send a delivery's body again now, as a new delivery; the new delivery with its answer.

    A failure is retried like any delivery. Takes at most the request timeout.

    Raises:
        NotFound: no delivery has that id.
    """
    queued = await queue_redelivery(ctx, delivery_id=delivery_id, actor=actor)
    return await _send_one_now(ctx, queued.id, sign, clock)


async def send_test(
    ctx: ServiceContext,
    *,
    webhook_id: uuid.UUID,
    actor: str,
    sign: Signer,
    clock: Clock = utcnow,
) -> DeliveryRead:
    """Send a ``webhook.test`` delivery now (even to a disabled subscription); its answer.

    Raises:
        NotFound: no subscription has that id.
    """
    queued = await queue_test(ctx, webhook_id=webhook_id, actor=actor)
    return await _send_one_now(ctx, queued.id, sign, clock)


def webhook_dispatcher(
    ctx: ServiceContext, config: WebhookSettings, *, sign: Signer
) -> AbstractAsyncContextManager[None]:
    """Send due deliveries every ``config.poll_s`` while the block runs (the server's lifespan)."""
    return repeating(
        lambda: dispatch_due(ctx, config, sign=sign),
        every_s=config.poll_s,
        what="the webhook dispatcher",
    )
