"""Where to see on the web what a command did: the configured server, or the local one.

``make run`` serves on 127.0.0.1:8000 while a second terminal runs ``missionctl run``: the
run is on that server's pages, and the command says so. A server found there is named only
when its ``/healthz`` reports the same log origin (the hash of the first event) as the
command's database: one on another database would answer 404 to the link.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from missionctl.settings import Settings

__all__ = ["local_web_address"]

_PROBE_TIMEOUT_S = 0.5


def local_web_address(settings: Settings, origin: str | None) -> str | None:
    """The base URL of the pages that show this database's record, or ``None``.

    ``MISSIONCTL_SERVER_PUBLIC_URL`` when set; else the server that serves this data directory
    (``cli._serving``), or else the one on ``server.host:port``, when it answers ``/healthz``
    within half a second with ``origin`` as its log origin.
    """
    if settings.server.public_url:
        return settings.server.public_url.rstrip("/")
    if origin is None:
        return None
    from missionctl.cli._serving import listening_url, served_url

    base = served_url(settings.home) or listening_url(settings.server.host, settings.server.port)
    return base if _serves(base, origin) else None


def _serves(base: str, origin: str) -> bool:
    """Whether the server at ``base`` answers healthy with ``origin`` (never raises)."""
    import httpx2

    try:
        answer = httpx2.get(f"{base}/healthz", timeout=_PROBE_TIMEOUT_S, follow_redirects=False)
        return answer.status_code == 200 and answer.json().get("log_origin") == origin
    except (httpx2.HTTPError, ValueError, AttributeError):
        return False
