"""Clone URLs made safe for git: no option in disguise, no private address, pinned (ADR 0073).

A coding step's repository may be a clone URL a workflow wrote. Before git connects anywhere:

- a user or host that starts with ``-`` is refused: ssh would read ``-oProxyCommand=…`` as an
  option and run its command as the server's user;
- the host must be a plain name or address, and every address it resolves to must be one the
  server may reach (``agents.addresses``: public, or inside
  ``MISSIONCTL_HTTP_AGENT_ALLOWED_NETWORKS``);
- the connection is pinned to the address that was checked, so a name that resolves elsewhere a
  moment later (DNS rebinding) cannot lead git to the database or a metadata service:
  ``http(s)://`` keeps its URL and gets ``http.curloptResolve=<host>:<port>:<address>`` with
  redirects off; ``ssh://``, ``user@host:path`` and ``git://`` get the address in place of the
  host (ssh still checks the host key under the name, ``HostKeyAlias``);
- only the URL's own protocol is allowed for the transfer.

``file://`` URLs and absolute paths do not connect anywhere; they pass unchanged (the
repository allow-list judges them).
"""

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from missionctl.agents.addresses import Network, Resolver, checked_addresses, resolve_host
from missionctl.agents.base import AgentError

DEFAULT_PORTS = {"http": 80, "https": 443, "ssh": 22, "git": 9418}
# A host name as DNS writes it: labels of letters, digits and inner hyphens (``_`` too, which
# some internal names use); never a leading ``-``.
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?"
_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
_SCP = re.compile(r"(?P<user>[^@/]+)@(?P<host>\[[^\]/]+\]|[^:/\[\]]+):(?P<path>.*)", re.DOTALL)
_PORT = re.compile(r"[0-9]{1,5}")


@dataclass(frozen=True, slots=True)
class Remote:
    """A network clone URL's parts: ``form`` is its scheme, or ``scp`` for ``user@host:path``."""

    form: str
    user: str
    host: str
    port: int
    path: str


@dataclass(frozen=True, slots=True)
class PinnedUrl:
    """What git is given: the URL to use and the ``-c`` settings that pin its connection."""

    url: str
    config: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Where clones may connect: public addresses, or inside ``allowed`` (the admin's networks)."""

    allowed: tuple[Network, ...] = ()
    resolve: Resolver = resolve_host


def parse_remote(url: str) -> Remote | None:
    """The parts of a network clone URL; ``None`` for a path or a ``file://`` URL.

    Raises:
        AgentError: (not retryable) a user or host starts with ``-``, the host is not a plain
            name or address, or the port is not a number.
    """
    if url.startswith("/") or url.lower().startswith("file://"):
        return None
    scheme, sep, _ = url.partition("://")
    if sep:
        remote = _parse_scheme_url(url, scheme.lower())
    else:
        found = _SCP.fullmatch(url)
        if found is None:
            raise AgentError(f"repository: {url!r} is not a clone URL git accepts", retryable=False)
        host = found["host"]
        remote = Remote("scp", found["user"], host, DEFAULT_PORTS["ssh"], found["path"])
    _check_names(remote)
    return remote


def _parse_scheme_url(url: str, scheme: str) -> Remote:
    if scheme not in DEFAULT_PORTS:
        raise AgentError(
            f"repository: the scheme {scheme!r} is not one a coding step clones from "
            "(https://, http://, ssh://, git://, file://)",
            retryable=False,
        )
    parts = urlsplit(url)
    userinfo, _, hostport = parts.netloc.rpartition("@")
    if hostport.startswith("["):
        host, _, rest = hostport.partition("]")
        host, port_text = host + "]", rest.removeprefix(":")
    else:
        host, _, port_text = hostport.partition(":")
    if port_text and not _PORT.fullmatch(port_text):
        raise AgentError(f"repository: the port {port_text!r} is not a number", retryable=False)
    port = int(port_text) if port_text else DEFAULT_PORTS[scheme]
    path = url[url.index(parts.netloc) + len(parts.netloc) :]
    return Remote(scheme, userinfo.partition(":")[0], host, port, path)


def _check_names(remote: Remote) -> None:
    for what, value in (("user", remote.user), ("host", remote.host)):
        if value.startswith("-") or unquote(value).startswith("-"):
            raise AgentError(
                f"repository: the {what} name {value[:40]!r} starts with '-', which ssh would "
                "read as one of its options (and run a command it names); a clone URL names a "
                "plain user and host",
                retryable=False,
            )
    if _literal(remote.host) is None and not _NAME.fullmatch(remote.host):
        raise AgentError(
            f"repository: {remote.host[:80]!r} is not a host name or address; write the clone "
            "URL with a plain host (git.example.com) or an address",
            retryable=False,
        )


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a bracketed IPv6 or dotted IPv4 host is, else ``None``."""
    try:
        return ipaddress.ip_address(host[1:-1] if host.startswith("[") else host)
    except ValueError:
        return None


async def pin_clone_url(url: str, policy: AddressPolicy) -> PinnedUrl:
    """``url`` checked and pinned to an address the server may reach (see the module docstring).

    Raises:
        AgentError: (not retryable) see :func:`parse_remote`, or the host resolves to an address
            the server may not reach; (retryable) the host does not resolve.
    """
    remote = parse_remote(url)
    if remote is None:
        return PinnedUrl(url)
    bare = remote.host[1:-1] if remote.host.startswith("[") else remote.host
    addresses = await checked_addresses(
        bare, remote.port, allowed=policy.allowed, resolve=policy.resolve, field="repository"
    )
    address = ipaddress.ip_address(addresses[0].split("%")[0])
    shown = f"[{address}]" if address.version == 6 else str(address)
    protocol = "ssh" if remote.form == "scp" else remote.form
    config: tuple[str, ...] = ("protocol.allow=never", f"protocol.{protocol}.allow=always")
    if remote.form in ("http", "https"):
        config += ("http.followRedirects=false",)
        if _literal(remote.host) is None:
            config += (f"http.curloptResolve={bare}:{remote.port}:{shown}",)
        return PinnedUrl(url, _options(config))
    if protocol == "ssh" and _literal(remote.host) is None:
        # The host name is a checked pattern (letters, digits, '.', '-', '_'): safe in the
        # command line git hands to a shell.
        config += (f"core.sshCommand=ssh -o HostKeyAlias={bare}",)
    user = f"{remote.user}@" if remote.user else ""
    if remote.form == "scp":
        return PinnedUrl(f"{user}{shown}:{remote.path}", _options(config))
    return PinnedUrl(f"{remote.form}://{user}{shown}:{remote.port}{remote.path}", _options(config))


def _options(config: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(part for entry in config for part in ("-c", entry))
