"""A coding step's network: an egress proxy to its model endpoint and nowhere else (ADR 0079).

A coding step that names its model endpoint (``inputs.model``) needs to reach that one
``host:port``. Sharing the host's network with the step's untrusted program would let it reach
the database, a metadata service or anything else; instead, per attempt, Mission Control starts
:class:`EgressProxy` outside the sandbox, listening on a Unix socket in a private directory
that the sandbox shows read-only. Inside, the sandbox's network stays its own (no interface but
loopback, no route out); ``egress_bridge.py`` starts the program and carries its TCP
connections to the socket (see :meth:`EgressRoute.wrap`).

The proxy speaks the two forms HTTP clients use through a proxy: ``CONNECT host:port`` (a TLS
tunnel) and an absolute-form plain HTTP request (``GET http://host:port/path``). It admits
exactly the endpoint's host and port, and only when every address the host resolves to passes
the address rule of ``agents.addresses`` (public, or inside the admin's
``MISSIONCTL_HTTP_AGENT_ALLOWED_NETWORKS``); it connects to the address it checked, never
resolving again. Anything else is answered ``403`` (a malformed or over-long request head:
``400``/``431``; none within the head time limit: ``408``; too many at once: ``503``) and
*recorded*: a ``warning`` line in the step log, ``egress refused: <host:port> (<why>)``. The
first :data:`MAX_RECORDED` refusals are recorded one by one, the rest counted in one line when
the proxy stops. Only the target's host and port are ever recorded: never a path, a header or a
body (they carry the model key).
"""

import asyncio
import contextlib
import ipaddress
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from missionctl.agents.addresses import checked_addresses
from missionctl.agents.base import AgentError, StepContext
from missionctl.agents.git_remote import AddressPolicy
from missionctl.domain.coding import ModelEndpoint
from missionctl.llm.redaction import Redactor

BRIDGE = Path(__file__).with_name("egress_bridge.py")
SOCKET_NAME = "proxy.sock"
MAX_RECORDED = 50
_READ_BYTES = 65536
_SHOWN_HOST_CHARS = 100
_PROXY_HEADERS = (b"proxy-connection:", b"proxy-authorization:", b"proxy-authenticate:")
_PHRASES = {
    400: "Bad Request",
    403: "Forbidden",
    408: "Request Timeout",
    431: "Request Header Fields Too Large",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(frozen=True, slots=True)
class EgressLimits:
    """How long and how much a connection through the proxy may take.

    ``head_s``: to send a whole request head (a slow client is cut off with a ``408``);
    ``idle_s``: a tunnel with no byte either way for this long is closed; ``connect_s``: to
    connect to the endpoint; ``connections``: open at once (more get a ``503``);
    ``head_bytes``: the longest request head.
    """

    head_s: float = 10.0
    idle_s: float = 600.0
    connect_s: float = 15.0
    connections: int = 32
    head_bytes: int = 8192


@dataclass(frozen=True, slots=True)
class EgressRoute:
    """What a sandboxed program needs to reach the proxy: its directory and the endpoint."""

    directory: Path
    host: str
    port: int

    @property
    def socket(self) -> Path:
        """The proxy's Unix socket."""
        return self.directory / SOCKET_NAME

    @property
    def paths(self) -> tuple[Path, ...]:
        """What the sandbox shows read-only: the proxy's directory and the bridge script."""
        return (self.directory, BRIDGE)

    def wrap(self, argv: Sequence[str], *, confined: bool) -> list[str]:
        """``argv`` started by the bridge, which points its proxy variables at the proxy.

        The bridge runs with the server's Python in isolated mode (``-I``: no ``PYTHON*``
        variable or workspace file changes what it loads). ``confined``: in the sandbox's own
        network namespace, where a loopback endpoint is also served on its own ``host:port``
        (clients often skip proxies for loopback); unconfined, that address is the endpoint's
        own, and the program may connect to it, or anywhere, directly.
        """
        bridge = [sys.executable, "-I", str(BRIDGE), "--socket", str(self.socket)]
        if confined and _is_loopback(self.host):
            bridge += ["--direct", _authority(self.host, self.port)]
        return [*bridge, "--", *argv]


@dataclass(frozen=True, slots=True)
class _Target:
    """Where a request asks to go, and what to send there first (plain HTTP's rewritten head)."""

    host: str
    port: int
    head: bytes | None  # None: a CONNECT tunnel

    @property
    def shown(self) -> str:
        return _authority(self.host[:_SHOWN_HOST_CHARS], self.port)


class _Refused(Exception):
    """A request the proxy answers with ``status`` and records (``target``: what it asked)."""

    def __init__(self, status: int, why: str, target: str | None = None) -> None:
        super().__init__(why)
        self.status, self.why, self.target = status, why, target


class EgressProxy:
    """One attempt's proxy: admits ``endpoint`` and records every refusal through ``record``."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        policy: AddressPolicy,
        record: Callable[[str], None],
        limits: EgressLimits | None = None,
    ) -> None:
        """``host``/``port``: the model endpoint; ``policy``: the addresses it may resolve to.

        ``record`` receives each refusal's line (it must not raise).
        """
        self.host, self.port = host.lower().rstrip("."), port
        self.policy = policy
        self.record = record
        self.limits = limits or EgressLimits()
        self.refused = 0  # every refusal, recorded or only counted
        self._open = 0
        self._handlers: set[asyncio.Task[None]] = set()

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[EgressRoute]:
        """Serve on a socket in a new private directory until the block ends.

        On the way out every connection is closed, the directory removed, and refusals past
        :data:`MAX_RECORDED` are recorded as one count.
        """
        directory = Path(tempfile.mkdtemp(prefix="missionctl-egress-"))  # mode 0700
        route = EgressRoute(directory, self.host, self.port)
        try:
            server = await asyncio.start_unix_server(
                self._serve, path=str(route.socket), limit=self.limits.head_bytes
            )
        except OSError as exc:
            shutil.rmtree(directory, ignore_errors=True)
            raise AgentError(f"cannot start the model endpoint's proxy: {exc}") from exc
        try:
            yield route
        finally:
            server.close()
            for handler in list(self._handlers):
                handler.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            await server.wait_closed()
            shutil.rmtree(directory, ignore_errors=True)
            if self.refused > MAX_RECORDED:
                unrecorded = self.refused - MAX_RECORDED
                self.record(f"egress refused {unrecorded} more connections (not each recorded)")

    @property
    def endpoint(self) -> str:
        """The endpoint as ``host:port``."""
        return _authority(self.host, self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        self._open += 1
        try:
            if self._open > self.limits.connections:
                limit = self.limits.connections
                raise _Refused(503, f"more than {limit} connections at once")
            await self._handle(reader, writer)
        except _Refused as refusal:
            self._refuse(writer, refusal)
        except (OSError, asyncio.IncompleteReadError):
            pass  # the program hung up: nothing to answer
        finally:
            self._open -= 1
            writer.close()
            if task is not None:
                self._handlers.discard(task)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        target = _parse(await self._read_head(reader))
        address = await self._admit(target)
        try:
            upstream = await asyncio.wait_for(
                asyncio.open_connection(address, target.port), self.limits.connect_s
            )
        except (OSError, TimeoutError) as exc:
            self.record(f"egress: cannot reach the model endpoint {self.endpoint}: {exc}")
            raise _Refused(502, "the model endpoint does not answer") from None
        up_reader, up_writer = upstream
        try:
            if target.head is None:
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                up_writer.write(target.head)
            await _pipe(reader, writer, up_reader, up_writer, self.limits.idle_s)
        finally:
            up_writer.close()

    async def _read_head(self, reader: asyncio.StreamReader) -> bytes:
        try:
            return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.limits.head_s)
        except TimeoutError:
            why = f"no complete request within {self.limits.head_s:g} s"
            raise _Refused(408, why) from None
        except asyncio.LimitOverrunError:
            why = f"a request head over {self.limits.head_bytes} bytes"
            raise _Refused(431, why) from None

    async def _admit(self, target: _Target) -> str:
        """The checked address to connect to for ``target``, or :class:`_Refused`."""
        if (target.host, target.port) != (self.host, self.port):
            raise _Refused(403, f"not the model endpoint {self.endpoint}", target.shown)
        try:
            addresses = await checked_addresses(
                target.host,
                target.port,
                allowed=self.policy.allowed,
                resolve=self.policy.resolve,
                field="the model endpoint",
            )
        except AgentError as exc:
            raise _Refused(403, str(exc), target.shown) from None
        return addresses[0]

    def _refuse(self, writer: asyncio.StreamWriter, refusal: _Refused) -> None:
        self.refused += 1
        if self.refused <= MAX_RECORDED:
            what = refusal.target or "a request"
            self.record(f"egress refused: {what} ({refusal.why})")
        body = f"Mission Control's egress proxy refused this: {refusal.why}\n".encode()
        head = (
            f"HTTP/1.1 {refusal.status} {_PHRASES[refusal.status]}\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        )
        with contextlib.suppress(OSError, RuntimeError):
            writer.write(head.encode() + body)


def egress_for(
    step: StepContext,
    endpoint: ModelEndpoint | None,
    policy: AddressPolicy,
    redactor: Redactor,
) -> contextlib.AbstractAsyncContextManager[EgressRoute | None]:
    """The proxy a step's program reaches ``endpoint`` through, or nothing without one.

    Refusals become ``warning`` lines of the step's log (redacted like its output).
    """
    if endpoint is None:
        return contextlib.nullcontext(None)

    def record(line: str) -> None:
        step.log(redactor.redact(line), level="warning")

    proxy = EgressProxy(endpoint.host, endpoint.port, policy=policy, record=record)
    return proxy.serving()


def _parse(head: bytes) -> _Target:
    """Where ``head`` asks to go: ``CONNECT host:port`` or an absolute ``http://`` request."""
    line, _, headers = head.partition(b"\r\n")
    try:
        text = line.decode("ascii")
    except UnicodeDecodeError:
        text = ""
    parts = text.split(" ")
    if not text.isprintable() or len(parts) != 3 or parts[2] not in ("HTTP/1.0", "HTTP/1.1"):
        raise _Refused(400, "not an HTTP/1 request line")
    method, target, version = parts
    if method == "CONNECT":
        host, port = _split_authority(target)
        return _Target(host, port, None)
    if not target.lower().startswith("http://"):
        raise _Refused(400, "not CONNECT host:port nor an absolute http:// URL")
    try:
        url = urlsplit(target)
        host, port = url.hostname or "", url.port or 80
    except ValueError:
        raise _Refused(400, "not a URL with a host and a port") from None
    if not host:
        raise _Refused(400, "not a URL with a host and a port")
    origin = (url.path or "/") + (f"?{url.query}" if url.query else "")
    kept = [h for h in headers.split(b"\r\n") if not h.lower().startswith(_PROXY_HEADERS)]
    rewritten = f"{method} {origin} {version}\r\n".encode() + b"\r\n".join(kept)
    return _Target(host.lower().rstrip("."), port, rewritten)


def _split_authority(target: str) -> tuple[str, int]:
    host, sep, port = target.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise _Refused(400, "CONNECT names no host:port")
    return host.lower().rstrip("."), int(port)


def _authority(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def _pipe(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
    idle_s: float,
) -> None:
    """Copy both ways until both ends are done, or nothing moved either way for ``idle_s``."""
    loop = asyncio.get_running_loop()
    moved = [loop.time()]
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(_copy(reader, up_writer, moved, idle_s))
            group.create_task(_copy(up_reader, writer, moved, idle_s))
    except* (OSError, TimeoutError):
        pass  # either end hung up, or the tunnel sat idle: both are closed by the caller


async def _copy(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, moved: list[float], idle_s: float
) -> None:
    loop = asyncio.get_running_loop()
    while True:
        left = moved[0] + idle_s - loop.time()
        if left <= 0:
            raise TimeoutError("idle")
        try:
            chunk = await asyncio.wait_for(reader.read(_READ_BYTES), left)
        except TimeoutError:
            continue  # the other direction may have moved meanwhile
        if not chunk:
            if writer.can_write_eof():
                with contextlib.suppress(OSError):
                    writer.write_eof()  # a half-close: the other direction goes on
            return
        moved[0] = loop.time()
        writer.write(chunk)
        await writer.drain()
