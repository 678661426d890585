"""The one reachability check for addresses a workflow names: a host that is no host name."""

import pytest

from missionctl.agents.addresses import checked_addresses, resolve_host
from missionctl.agents.base import AgentError


@pytest.mark.parametrize("host", ["\x9chooks.example", "a" * 64 + ".example"])
async def test_a_host_the_resolver_cannot_write_is_refused_for_good_not_raised(host: str) -> None:
    # The resolver encodes a name in IDNA and raised UnicodeError, past every handler: a 500.
    with pytest.raises(AgentError) as refused:
        await checked_addresses(host, 443, allowed=[], resolve=resolve_host, field="url")
    assert not refused.value.retryable
    assert "is not a host name" in str(refused.value) and str(refused.value).startswith("url: ")
