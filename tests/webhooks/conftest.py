"""Webhook tests send to real receivers on 127.0.0.1, a network an admin must allow.

Webhook addresses obey the ``http`` agent's address policy (ADR 0078): loopback is reached only
inside ``MISSIONCTL_HTTP_AGENT_ALLOWED_NETWORKS``. The refusals themselves are tested where
nothing is allowed, in ``tests/security/test_webhook_targets.py``.
"""

import pytest

from missionctl.settings import HttpAgentSettings, Settings

LOOPBACK = ["127.0.0.1/32"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared test settings, with the receivers' address allowed."""
    return settings.model_copy(update={"http_agent": HttpAgentSettings(allowed_networks=LOOPBACK)})
