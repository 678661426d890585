"""The Jinja2 environment of the pages, its filters, and the one function routes render with.

Pages are ``templates/pages/<page>.html`` and extend ``base.html``; the parts of a page that htmx
updates are named blocks, rendered alone with jinja2-fragments (STYLE.md rule 10). Autoescaping is
always on and an undefined variable is an error, not an empty string.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import Request, Response
from jinja2_fragments.fastapi import Jinja2Blocks

from missionctl import __version__

TEMPLATES_DIR = Path(__file__).parent / "templates"

# The same URL answers with a whole page or with a fragment, depending on these headers, so a
# cache must key on them.
_VARY = "HX-Request, HX-Request-Type, HX-History-Restore-Request"


def relative_time(moment: datetime, now: datetime | None = None) -> str:
    """Say how long ago ``moment`` was, as people say it ("5 min ago", "yesterday", "3 Jun 2026").

    Args:
        moment: an aware datetime (naive ones are taken as UTC).
        now: the reference time; the current time when omitted (tests pass one).

    Returns:
        A short phrase; moments more than a week old (or in the future) get their date.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    seconds = (now - moment).total_seconds()
    if seconds < -60 or seconds >= 7 * 86_400:
        return f"{moment.day} {moment:%b %Y}"
    if seconds < 45:
        return "just now"
    if seconds < 3_600:
        return f"{max(1, round(seconds / 60))} min ago"
    if seconds < 86_400:
        hours = int(seconds // 3_600)
        return f"{hours} h ago"
    days = int(seconds // 86_400)
    return "yesterday" if days == 1 else f"{days} days ago"


def full_datetime(moment: datetime) -> str:
    """The exact UTC time of ``moment``, for tooltips: ``14 Jun 2026, 07:20 UTC``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def usd(amount: float | Decimal | None, empty: str = "—") -> str:
    """Dollars with thousands separators and cents: ``$1,250.00``; ``empty`` for ``None``."""
    if amount is None:
        return empty
    return f"${amount:,.2f}"


def actor_name(actor: str) -> str:
    """The readable part of an actor id: ``user:alice`` → ``alice``."""
    return actor.partition(":")[2] or actor


def list_url(path: str = "/missions", **params: str | None) -> str:
    """``path`` with ``params`` as its query string, leaving out empty ones (shareable URLs)."""
    kept = {key: value for key, value in params.items() if value}
    return f"{path}?{urlencode(kept)}" if kept else path


def _build_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        relative_time=relative_time,
        full_datetime=full_datetime,
        usd=usd,
        actor_name=actor_name,
    )
    env.globals.update(version=__version__, product_name="Mission Control", list_url=list_url)
    return env


templates = Jinja2Blocks(env=_build_environment())


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any],
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Render the page template ``name``, or only its block ``block`` for an htmx request.

    Args:
        request: the request being answered (templates read the URL from it).
        name: template path under ``templates/``, e.g. ``"pages/missions.html"``.
        context: the variables the template needs.
        block: the named block to render alone; ``None`` renders the whole page.
        status_code: the HTTP status of the response.
        headers: extra response headers (``HX-*`` instructions for htmx, for example).

    Returns:
        An HTML response that tells caches it varies with the htmx request headers.
    """
    all_headers = {"Vary": _VARY, **(headers or {})}
    if block is None:
        return templates.TemplateResponse(
            request, name, dict(context), status_code=status_code, headers=all_headers
        )
    return templates.TemplateResponse(
        request, name, dict(context), status_code=status_code, headers=all_headers, block_name=block
    )
