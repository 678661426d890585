"""Inside a coding step's sandbox: carry the program's connections to the egress proxy (ADR 0079).

Stand-alone (the standard library only): the sandbox runs it as its first program, with the
server's Python in isolated mode::

    python -I egress_bridge.py --socket PROXY_SOCKET [--direct HOST:PORT] -- PROGRAM ARG...

It listens on ``127.0.0.1`` (a free port) in the sandbox's own network namespace and carries
each connection, byte for byte, to the proxy's Unix socket (``agents/egress.py``), which
decides where it may go. It starts ``PROGRAM`` with ``HTTPS_PROXY``, ``HTTP_PROXY`` and
``ALL_PROXY`` (and their lower-case twins) set to that port and ``NO_PROXY`` empty, forwards
the signals that end a program to it, and exits as it exited. With ``--direct HOST:PORT`` (a
loopback model endpoint, which many clients reach without a proxy) it also listens on that
address and asks the proxy to ``CONNECT`` there for each connection. It writes nothing to
standard output, which is the program's; it stops when the program has exited.
"""

import asyncio
import contextlib
import functools
import os
import signal
import sys

PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")
FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)
READ_BYTES = 65536
USAGE = "usage: egress_bridge.py --socket PATH [--direct HOST:PORT] -- PROGRAM [ARG...]"


async def copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy ``reader`` to ``writer`` until it ends, then half-close ``writer``."""
    with contextlib.suppress(OSError):
        while chunk := await reader.read(READ_BYTES):
            writer.write(chunk)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()


async def relay(
    proxy: str,
    connect_to: str | None,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    """Carry one connection to the proxy; with ``connect_to``, through a ``CONNECT`` first."""
    try:
        up_reader, up_writer = await asyncio.open_unix_connection(proxy)
    except OSError:
        writer.close()
        return
    try:
        if connect_to is not None:
            up_writer.write(f"CONNECT {connect_to} HTTP/1.1\r\nHost: {connect_to}\r\n\r\n".encode())
            answer = await up_reader.readuntil(b"\r\n\r\n")
            if not answer.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")):
                return  # refused (the proxy recorded it): the program sees the connection end
        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass
    finally:
        up_writer.close()
        writer.close()


def parse(argv: list[str]) -> tuple[str, str | None, list[str]]:
    """``(socket, direct, program)`` from the command line; exits 2 on a wrong one."""
    socket_path, direct = None, None
    rest = list(argv)
    while rest and rest[0] != "--":
        option = rest.pop(0)
        if option not in ("--socket", "--direct") or not rest:
            sys.exit(USAGE)
        value = rest.pop(0)
        if option == "--socket":
            socket_path = value
        else:
            direct = value
    if socket_path is None or len(rest) < 2:
        sys.exit(USAGE)
    return socket_path, direct, rest[1:]


async def serve(socket_path: str, direct: str | None) -> list[asyncio.Server]:
    """The listeners: ``direct`` first (so the free port never takes it), then the proxy's."""
    servers = []
    if direct is not None:
        host, _, port = direct.rpartition(":")
        handler = functools.partial(relay, socket_path, direct)
        servers.append(await asyncio.start_server(handler, host.strip("[]"), int(port)))
    handler = functools.partial(relay, socket_path, None)
    servers.append(await asyncio.start_server(handler, "127.0.0.1", 0))
    return servers


async def run(argv: list[str]) -> int:
    """Serve, run the program, and return its exit status (negative: the signal that ended it)."""
    socket_path, direct, program = parse(argv)
    servers = await serve(socket_path, direct)
    port = servers[-1].sockets[0].getsockname()[1]
    proxy = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    for name in PROXY_VARIABLES:
        env[name] = env[name.lower()] = proxy
    env["NO_PROXY"] = env["no_proxy"] = ""
    # The handlers come first: a signal that arrives while the program starts is passed on once
    # it runs, instead of ending the bridge and leaving the program behind.
    signals = Forwarder()
    loop = asyncio.get_running_loop()
    for sig in FORWARDED_SIGNALS:
        loop.add_signal_handler(sig, functools.partial(signals.received, sig))
    try:
        child = await asyncio.create_subprocess_exec(
            *program, env=env, stdin=asyncio.subprocess.DEVNULL
        )
    except OSError as exc:
        sys.stderr.write(f"cannot start {program[0]!r}: {exc}\n")
        return 127
    signals.started(child)
    code = await child.wait()
    for server in servers:
        server.close()
    return code


class Forwarder:
    """Passes the signals the bridge receives on to the program, once it has started."""

    def __init__(self) -> None:
        self._child: asyncio.subprocess.Process | None = None
        self._early: list[signal.Signals] = []

    def received(self, sig: signal.Signals) -> None:
        """Pass ``sig`` on now, or keep it until the program starts."""
        if self._child is None:
            self._early.append(sig)
        else:
            forward(self._child, sig)

    def started(self, child: asyncio.subprocess.Process) -> None:
        """The program runs: pass on what came before, then each signal as it comes."""
        self._child = child
        for sig in self._early:
            forward(child, sig)
        self._early.clear()


def forward(child: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    """Pass ``sig`` on to the program."""
    with contextlib.suppress(ProcessLookupError):
        child.send_signal(sig)


def main() -> None:
    """Run, then end as the program ended: its exit code, or the signal that killed it."""
    code = asyncio.run(run(sys.argv[1:]))
    if code < 0:
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
