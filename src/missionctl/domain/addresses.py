"""The one rule for where the server may connect on a workflow's behalf.

An address is reachable when it is public or inside a network an admin allows
(``MISSIONCTL_HTTP_AGENT_ALLOWED_NETWORKS``). An IPv6 address that carries an IPv4 address is
judged as that IPv4 address, since a host or network translator delivers it there:
IPv4-mapped (``::ffff:a.b.c.d``), IPv4-translated (``::ffff:0:a.b.c.d``), IPv4-compatible
(``::a.b.c.d``), 6to4 (``2002:AABB:CCDD::``) and the NAT64 well-known prefix
(``64:ff9b::a.b.c.d``), so ``64:ff9b::a9fe:a9fe`` is 169.254.169.254, a private address. The
NAT64 local-use prefix (``64:ff9b:1::/48``) reaches only what a local translator serves, and is
never public.

Pure: no resolution here (the callers resolve names, and judge each address found).
"""

import ipaddress
from collections.abc import Sequence

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_CARRY_LOW_32_BITS = (
    ipaddress.IPv6Network("::ffff:0:0:0/96"),  # IPv4-translated (SIIT)
    ipaddress.IPv6Network("::/96"),  # IPv4-compatible (deprecated, still routed by some)
    ipaddress.IPv6Network("64:ff9b::/96"),  # NAT64, well-known prefix
)
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address ``address`` carries (see the module docstring), or ``None``."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in network for network in _CARRY_LOW_32_BITS):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def reachable(address: Address, allowed: Sequence[Network]) -> bool:
    """Whether the server may connect to ``address``: public, or inside one of ``allowed``."""
    if any(address in network for network in allowed):
        return True
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_LOCAL:
            return False
        carried = embedded_ipv4(address)
        if carried is not None:
            address = carried
    return address.is_global or any(address in network for network in allowed)


__all__ = ["Address", "Network", "embedded_ipv4", "reachable"]
