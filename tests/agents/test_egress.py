"""The egress proxy, attacked: it reaches the model endpoint and records every other attempt.

The proxy is the real one on a real Unix socket; the "model endpoint" is a small HTTP server on
127.0.0.1 that answers each request with what it received, so a test sees what went through.
127.0.0.0/8 is allowed as an admin would allow it (``MISSIONCTL_HTTP_AGENT_ALLOWED_NETWORKS``)
unless a test is about that rule.
"""

import asyncio
import contextlib
import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from missionctl.agents.addresses import Network, Resolver
from missionctl.agents.egress import MAX_RECORDED, EgressLimits, EgressProxy, EgressRoute
from missionctl.agents.git_remote import AddressPolicy
from missionctl.llm.redaction import Redactor

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)
KEY = "sk-model-key-canary-7f3e"
FAST = EgressLimits(head_s=0.5, idle_s=0.5, connect_s=2, connections=4)


@dataclass
class Endpoint:
    """An HTTP server that answers every request with its head (``seen`` keeps them)."""

    port: int = 0
    seen: list[bytes] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                self.seen.append(head)
                body = b"model says: " + head.split(b"\r\n")[0]
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def endpoint() -> AsyncIterator[Endpoint]:
    """The model endpoint, on a free port of 127.0.0.1."""
    model = Endpoint()
    server = await asyncio.start_server(model.handle, "127.0.0.1", 0)
    model.port = server.sockets[0].getsockname()[1]
    async with server:
        yield model


@asynccontextmanager
async def proxy_for(
    host: str,
    port: int,
    records: list[str],
    *,
    allowed: tuple[Network, ...] = LOOPBACK,
    resolve: Resolver | None = None,
    limits: EgressLimits = FAST,
) -> AsyncIterator[EgressRoute]:
    """A proxy to ``host:port`` whose records land in ``records``."""
    policy = AddressPolicy(allowed=allowed)
    if resolve is not None:
        policy = AddressPolicy(allowed=allowed, resolve=resolve)
    proxy = EgressProxy(host, port, policy=policy, record=records.append, limits=limits)
    async with proxy.serving() as route:
        yield route


@dataclass
class Connection:
    """A client connection to the proxy: the answer's head, then the rest of it."""

    head: bytes
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter


OPEN: list[asyncio.StreamWriter] = []


@pytest.fixture(autouse=True)
async def closed() -> AsyncIterator[None]:
    """Every client connection a test opened is closed when it ends."""
    yield
    while OPEN:
        writer = OPEN.pop()
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def ask(route: EgressRoute, request: bytes) -> Connection:
    """Send ``request`` to the proxy and read the answer's head."""
    reader, writer = await asyncio.open_unix_connection(str(route.socket))
    OPEN.append(writer)
    writer.write(request)
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    return Connection(head, reader, writer)


def connect(target: str, *headers: str) -> bytes:
    lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def test_a_tunnel_to_the_endpoint_reaches_it_and_records_nothing(endpoint: Endpoint) -> None:
    records: list[str] = []
    async with proxy_for("127.0.0.1", endpoint.port, records) as route:
        tunnel = await ask(route, connect(f"127.0.0.1:{endpoint.port}"))
        assert tunnel.head.startswith(b"HTTP/1.1 200"), tunnel.head
        tunnel.writer.write(b"POST /v1/messages HTTP/1.1\r\nx-api-key: %s\r\n\r\n" % KEY.encode())
        answer = await asyncio.wait_for(tunnel.reader.readuntil(b"POST /v1/messages HTTP/1.1"), 5)
    assert b"200 OK" in answer
    assert records == []


async def test_a_plain_http_request_reaches_the_endpoint_in_origin_form(endpoint: Endpoint) -> None:
    """The proxy's own headers stay behind; the request goes on as the endpoint expects it."""
    records: list[str] = []
    request = (
        f"GET http://127.0.0.1:{endpoint.port}/v1/models?limit=1 HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{endpoint.port}\r\nProxy-Authorization: Basic {KEY}\r\n"
        f"Proxy-Connection: keep-alive\r\nx-api-key: {KEY}\r\n\r\n"
    ).encode()
    async with proxy_for("127.0.0.1", endpoint.port, records) as route:
        head = (await ask(route, request)).head
    assert head.startswith(b"HTTP/1.1 200"), head
    assert endpoint.seen[0].startswith(b"GET /v1/models?limit=1 HTTP/1.1\r\n")
    assert b"Proxy-" not in endpoint.seen[0]
    assert f"x-api-key: {KEY}".encode() in endpoint.seen[0]
    assert records == []


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        ("127.0.0.1:5432", "127.0.0.1:5432"),  # the database, beside the endpoint
        ("api.example.com:443", "api.example.com:443"),  # another host
        ("169.254.169.254:80", "169.254.169.254:80"),  # a cloud's metadata service
        ("[::1]:5432", "[::1]:5432"),
    ],
)
async def test_every_other_destination_is_refused_and_recorded(
    endpoint: Endpoint, target: str, shown: str
) -> None:
    records: list[str] = []
    async with proxy_for("127.0.0.1", endpoint.port, records) as route:
        head = (await ask(route, connect(target))).head
        plain = (await ask(route, f"GET http://{target}/ HTTP/1.1\r\n\r\n".encode())).head
    assert head.startswith(b"HTTP/1.1 403") and plain.startswith(b"HTTP/1.1 403")
    why = f"not the model endpoint 127.0.0.1:{endpoint.port}"
    assert records == [f"egress refused: {shown} ({why})"] * 2
    assert endpoint.seen == []


async def test_the_endpoints_host_on_another_port_is_refused(endpoint: Endpoint) -> None:
    records: list[str] = []
    async with proxy_for("127.0.0.1", endpoint.port, records) as route:
        head = (await ask(route, connect(f"127.0.0.1:{endpoint.port + 1}"))).head
    assert head.startswith(b"HTTP/1.1 403")
    assert records == [
        f"egress refused: 127.0.0.1:{endpoint.port + 1} "
        f"(not the model endpoint 127.0.0.1:{endpoint.port})"
    ]


async def test_an_endpoint_on_a_private_address_needs_the_admins_network(
    endpoint: Endpoint,
) -> None:
    """127.0.0.1 is the endpoint itself here, but no admin allowed loopback: refused."""
    records: list[str] = []
    async with proxy_for("127.0.0.1", endpoint.port, records, allowed=()) as route:
        head = (await ask(route, connect(f"127.0.0.1:{endpoint.port}"))).head
    assert head.startswith(b"HTTP/1.1 403")
    assert len(records) == 1
    assert records[0].startswith(f"egress refused: 127.0.0.1:{endpoint.port} (the model endpoint:")
    assert "MISSIONCTL_HTTP_AGENT_ALLOWED_NETWORKS" in records[0]
    assert endpoint.seen == []


async def test_a_name_is_resolved_once_and_the_checked_address_is_the_one_connected(
    endpoint: Endpoint,
) -> None:
    """``model.test`` resolves (once per connection) to 127.0.0.1 first, then elsewhere.

    The system's resolver knows no ``model.test``: the tunnel works only because the proxy
    connects to the address it checked. A name that resolves to a private address the admin did
    not allow is refused, naming the address.
    """
    answers = [["127.0.0.1"], ["10.0.0.5"]]

    async def resolve(host: str, port: int) -> list[str]:
        assert host == "model.test"
        return answers.pop(0)

    records: list[str] = []
    async with proxy_for("model.test", endpoint.port, records, resolve=resolve) as route:
        first = (await ask(route, connect(f"MODEL.test:{endpoint.port}"))).head
        second = (await ask(route, connect(f"model.test:{endpoint.port}"))).head
    assert first.startswith(b"HTTP/1.1 200"), first
    assert second.startswith(b"HTTP/1.1 403"), second
    assert len(records) == 1 and "resolves to 10.0.0.5" in records[0], records
    assert answers == []


@pytest.mark.parametrize(
    ("request_head", "status"),
    [
        (b"hello\r\n\r\n", 400),
        (b"CONNECT 127.0.0.1 HTTP/1.1\r\n\r\n", 400),
        (b"CONNECT 127.0.0.1:99999 HTTP/1.1\r\n\r\n", 400),
        (b"GET /relative HTTP/1.1\r\n\r\n", 400),
        (b"GET https://127.0.0.1/ HTTP/1.1\r\n\r\n", 400),
        (b"GET http://:80/ HTTP/1.1\r\n\r\n", 400),
        ("CONNECT h\u00e9te:443 HTTP/1.1\r\n\r\n".encode(), 400),
        (b"CONNECT a\x00b:443 HTTP/1.1\r\n\r\n", 400),
        (b"CONNECT 127.0.0.1:443 HTTP/2\r\n\r\n", 400),
        (b"GET http://x/ HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n", 431),
    ],
)
async def test_malformed_or_huge_requests_are_refused_and_recorded(
    endpoint: Endpoint, request_head: bytes, status: int
) -> None:
    records: list[str] = []
    async with proxy_for("127.0.0.1", endpoint.port, records) as route:
        head = (await ask(route, request_head)).head
    assert head.startswith(f"HTTP/1.1 {status}".encode()), head
    assert len(records) == 1 and records[0].startswith("egress refused: a request ("), records
    assert endpoint.seen == []


async def test_a_slow_client_is_cut_off_and_recorded(endpoint: Endpoint) -> None:
    """Half a request head, then nothing: a ``408`` after the head time limit."""
    records: list[str] = []
    async with proxy_for("127.0.0.1", endpoint.port, records) as route:
        reader, writer = await asyncio.open_unix_connection(str(route.socket))
        writer.write(b"CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: ")
        answer = await asyncio.wait_for(reader.read(), 5)  # until the proxy closes
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert records == ["egress refused: a request (no complete request within 0.5 s)"]


async def test_an_idle_tunnel_is_closed(endpoint: Endpoint) -> None:
    records: list[str] = []
    async with proxy_for("127.0.0.1", endpoint.port, records) as route:
        tunnel = await ask(route, connect(f"127.0.0.1:{endpoint.port}"))
        assert tunnel.head.startswith(b"HTTP/1.1 200")
        assert await asyncio.wait_for(tunnel.reader.read(), 5) == b"", "closed after 0.5 s idle"
    assert records == []


async def test_concurrent_twins_share_the_connection_cap(endpoint: Endpoint) -> None:
    """Four tunnels at once work side by side; a fifth while they are open gets a 503."""
    records: list[str] = []
    limits = EgressLimits(head_s=2, idle_s=10, connect_s=2, connections=4)
    async with proxy_for("127.0.0.1", endpoint.port, records, limits=limits) as route:
        opened = await asyncio.gather(
            *(ask(route, connect(f"127.0.0.1:{endpoint.port}")) for _ in range(4))
        )
        assert all(twin.head.startswith(b"HTTP/1.1 200") for twin in opened)
        fifth = (await ask(route, connect(f"127.0.0.1:{endpoint.port}"))).head
        for number, twin in enumerate(opened):
            twin.writer.write(f"GET /twin/{number} HTTP/1.1\r\n\r\n".encode())
        answers = await asyncio.gather(
            *(
                asyncio.wait_for(twin.reader.readuntil(f"/twin/{n} HTTP/1.1".encode()), 5)
                for n, twin in enumerate(opened)
            )
        )
    assert fifth.startswith(b"HTTP/1.1 503"), fifth
    assert all(b"200 OK" in answer for answer in answers)
    assert records == ["egress refused: a request (more than 4 connections at once)"]


async def test_a_flood_of_refusals_is_counted_past_the_recorded_ones(endpoint: Endpoint) -> None:
    records: list[str] = []
    async with proxy_for("127.0.0.1", endpoint.port, records) as route:
        for _ in range(MAX_RECORDED + 7):
            await ask(route, connect("127.0.0.1:5432"))
    assert len(records) == MAX_RECORDED + 1
    assert records[-1] == "egress refused 7 more connections (not each recorded)"


async def test_no_header_path_or_body_is_ever_recorded(endpoint: Endpoint) -> None:
    """What a refused or admitted request carries (the key among it) never reaches a record.

    Only a target's host and port are recorded; the step's sink redacts its secrets there too
    (a program may put the key in a host name), as ``egress_for`` does.
    """
    records: list[str] = []
    redactor = Redactor([KEY])
    policy = AddressPolicy(allowed=LOOPBACK)
    proxy = EgressProxy(
        "127.0.0.1",
        endpoint.port,
        policy=policy,
        record=lambda line: records.append(redactor.redact(line)),
    )
    async with proxy.serving() as route:
        await ask(route, connect("127.0.0.1:5432", f"Proxy-Authorization: Bearer {KEY}"))
        await ask(
            route, f"GET http://127.0.0.1:5432/?key={KEY} HTTP/1.1\r\nX: {KEY}\r\n\r\n".encode()
        )
        await ask(route, f"GET http://127.0.0.1:{endpoint.port}/{KEY} HTTP/1.1\r\n\r\n".encode())
        await ask(route, f"{KEY} {KEY} HTTP/1.1\r\n\r\n".encode())
        await ask(route, f"CONNECT {KEY}:1 HTTP/1.1\r\n\r\n".encode())
    assert len(records) == 4, records
    assert not [line for line in records if KEY in line], records
    assert records[-1].startswith("egress refused: [REDACTED]:1 (not the model endpoint"), records


async def test_the_socket_is_private_and_gone_after_the_attempt(endpoint: Endpoint) -> None:
    records: list[str] = []
    async with proxy_for("127.0.0.1", endpoint.port, records) as route:
        assert route.socket.exists()
        assert route.directory.stat().st_mode & 0o777 == 0o700
        directory = route.directory
    assert not await asyncio.to_thread(Path(directory).exists)
