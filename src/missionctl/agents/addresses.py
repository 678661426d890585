"""Where the server may connect on a step's behalf: public addresses, or networks an admin allows.

One rule for every agent that connects somewhere a workflow names (``http`` steps, ``mcp``
servers over HTTP, coding steps' clone URLs): each address a host resolves to must be public,
or inside one of the networks ``MISSIONCTL_HTTP_AGENT_ALLOWED_NETWORKS`` lists. A loopback,
private, link-local or reserved address (the database, a cloud metadata service at
169.254.169.254, the private network) is refused otherwise, in whatever form the host spells it:
the resolver reads ``2852039166`` and ``0xa9fea9fe`` as 169.254.169.254, and so is asked.
"""

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence

from missionctl.agents.base import AgentError
from missionctl.domain.addresses import Network as Network  # re-exported for the callers
from missionctl.domain.addresses import reachable

Resolver = Callable[[str, int], Awaitable[list[str]]]
ALLOW_HINT = "an admin may allow its network in MISSIONCTL_HTTP_AGENT_ALLOWED_NETWORKS"


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an address resolves to itself)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def may_reach(text: str, allowed: Sequence[Network]) -> bool:
    """Whether the address ``text`` is public or inside one of ``allowed``.

    By the domain's one rule (``domain.addresses.reachable``): an IPv6 address that carries an
    IPv4 address (``::ffff:127.0.0.1``, ``64:ff9b::a9fe:a9fe``) is judged as the IPv4 address.
    """
    return reachable(ipaddress.ip_address(text.split("%")[0]), allowed)


async def checked_addresses(
    host: str, port: int, *, allowed: Sequence[Network], resolve: Resolver, field: str
) -> list[str]:
    """The addresses ``host`` resolves to, once each was found reachable (:func:`may_reach`).

    ``field`` names the input in the messages.

    Raises:
        AgentError: the host does not resolve, or resolves to nothing (retryable), or to an
            address that may not be reached, or is no host name at all (not retryable; the
            message names the fix).
    """
    try:
        addresses = await resolve(host, port)
    except UnicodeError:
        # The resolver encodes a name with IDNA first: a name it cannot encode never resolves.
        raise AgentError(
            f"{field}: {host!r} is not a host name (it holds characters a host name cannot)",
            retryable=False,
        ) from None
    except OSError as exc:
        raise AgentError(f"{field}: cannot resolve {host!r}: {exc}") from exc
    if not addresses:
        raise AgentError(f"{field}: {host!r} resolves to no address")
    for text in addresses:
        if not may_reach(text, allowed):
            raise AgentError(
                f"{field}: {host!r} resolves to {text}, a private or reserved address "
                f"(loopback, private, link-local or reserved); {ALLOW_HINT}",
                retryable=False,
            )
    return addresses
