"""The Jinja2 environment of the pages, its filters, and the one function routes render with.

Pages are ``templates/pages/<page>.html`` and extend ``base.html``; the parts of a page that htmx
updates are named blocks, rendered alone with jinja2-fragments. Autoescaping is always on and an
undefined variable is an error, not an empty string.

Every page gets ``current_identity`` and ``csrf_token`` (``security_context``) and the emergency
stop's state as ``emergency`` (``controls_context``), which ``base.html`` shows in its header,
the step sandbox's standing warning as ``sandbox_warning`` (``sandbox_context``), and the
system-health strip's figures as ``health`` (``health_context``).
"""

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

import jinja2
from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from jinja2_fragments import render_block
from jinja2_fragments.fastapi import Jinja2Blocks
from markupsafe import Markup, escape
from starlette.types import Receive, Scope, Send

from missionctl import __version__
from missionctl.domain.access import Identity, Permission
from missionctl.domain.events import BUDGET_WARNING_SHARE
from missionctl.domain.four_eyes import decider_label
from missionctl.domain.money import usd_text
from missionctl.schemas.governance import ControlsRead
from missionctl.schemas.health import HealthSummaryRead
from missionctl.schemas.missions import ANSWER_MAX_CHARS
from missionctl.schemas.plans import REQUIREMENT_HEADINGS
from missionctl.security.guard import authenticate
from missionctl.services import ServiceContext
from missionctl.services.usecases.controls import read_controls
from missionctl.services.usecases.health import HealthSummaryCache
from missionctl.web.audit import audit_lines, source_label
from missionctl.web.graph import layout_graph
from missionctl.web.states import (
    dispatch_halted,
    mission_state,
    outcome_label,
    shown_state,
    state_label,
)
from missionctl.web.viewers import render_diff, render_json

TEMPLATES_DIR = Path(__file__).parent / "templates"

log = logging.getLogger(__name__)

# The same URL answers with a whole page or with a fragment, depending on these headers, so a
# cache must key on them.
_VARY = "HX-Request, HX-Request-Type, HX-History-Restore-Request"


def _utc(moment: datetime) -> datetime:
    """``moment`` in UTC (a naive datetime is taken as UTC already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def relative_time(moment: datetime, now: datetime | None = None) -> str:
    """Say how long ago ``moment`` was, as people say it ("5 min ago", "yesterday", "3 Jun 2026").

    Args:
        moment: an aware datetime (naive ones are taken as UTC).
        now: the reference time; the current time when omitted (tests pass one).

    Returns:
        A short phrase; moments more than a week old (or in the future) get their date.
        ``static/js/app.js`` says the same in the viewer's browser (keep the two in step).
    """
    moment = _utc(moment)
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
    """The UTC date and time of ``moment``: ``14 Jun 2026, 07:20 UTC``."""
    moment = _utc(moment)
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def exact_datetime(moment: datetime) -> str:
    """The exact UTC time of ``moment``, for tooltips: ``14 Jun 2026, 07:20:31 UTC``."""
    moment = _utc(moment)
    return f"{moment.day} {moment:%b %Y, %H:%M:%S} UTC"


def clock(moment: datetime) -> str:
    """The UTC time of day of ``moment``: ``07:29:13 UTC``."""
    return f"{_utc(moment):%H:%M:%S} UTC"


TimeStyle = Literal["clock", "datetime", "relative"]

_TIME_TEXT = {"clock": clock, "datetime": full_datetime, "relative": relative_time}


def time_tag(moment: datetime, style: TimeStyle) -> Markup:
    """``moment`` as ``<time>``: the UTC text as a fallback, the exact UTC time as its tooltip.

    ``datetime`` holds the ISO 8601 UTC instant and ``data-time`` the style; ``static/js/app.js``
    rewrites the text into the viewer's local time with its zone (``clock``: ``2:47:31 AM
    EST``; ``datetime``: ``14 Jun 2026, 2:47 AM EST``), or keeps a ``relative`` one fresh.
    """
    moment = _utc(moment)
    iso = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    # Each part escaped, then joined: a page draws hundreds of these, and ``Markup.format``
    # took several times as long.
    title, text = escape(exact_datetime(moment)), escape(_TIME_TEXT[style](moment))
    return Markup(
        f'<time datetime="{escape(iso)}" title="{title}" data-time="{escape(style)}">{text}</time>'
    )


def usd(amount: float | Decimal | None, empty: str = "—") -> str:
    """Dollars as ``domain.money`` writes them (``$1,250.00``, ``$0.0029``); ``empty``: none."""
    if amount is None:
        return empty
    return usd_text(amount)


def mtok_usd(amount: float | Decimal) -> str:
    """A price per million tokens: cents at least, up to six decimals: ``$2.50``, ``$0.075``."""
    whole, _, cents = f"{amount:,.6f}".rstrip("0").partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


def duration(seconds: float | None, empty: str = "—") -> str:
    """A duration as people read it: ``0.4 s``, ``12 s``, ``3 min 5 s``, ``2 h 10 min``."""
    if seconds is None:
        return empty
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def elapsed(start: datetime | None, end: datetime | None = None, empty: str = "—") -> str:
    """How long from ``start`` to ``end`` (or to now, while it runs)."""
    if start is None:
        return empty
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    stop = end or datetime.now(UTC)
    if stop.tzinfo is None:
        stop = stop.replace(tzinfo=UTC)
    return duration(max(0.0, (stop - start).total_seconds()))


def compact(number: int | float | None) -> str:
    """A count in a few characters: ``950``, ``12.4k``, ``3.1M``."""
    value = float(number or 0)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:.0f}"


def file_size(size: int) -> str:
    """Bytes as ``512 B``, ``4.2 KB``, ``1.3 MB``."""
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{size / 1000:.1f} KB"
    return f"{size / 1_000_000:.1f} MB"


def actor_name(actor: str) -> str:
    """The readable part of an actor id: ``user:alice`` → ``alice``."""
    return actor.partition(":")[2] or actor


def list_url(path: str = "/missions", **params: str | None) -> str:
    """``path`` with ``params`` as its query string, leaving out empty ones (shareable URLs)."""
    kept = {key: value for key, value in params.items() if value}
    return f"{path}?{urlencode(kept)}" if kept else path


@dataclass(frozen=True, slots=True)
class BudgetGauge:
    """Spending against a cap, as the budget bar shows it.

    ``level`` is ``ok``, ``warning`` (from ``BUDGET_WARNING_SHARE`` of the cap, where the engine
    records ``budget.warning``) or ``exceeded`` (the cap is used up).
    """

    spent_usd: float
    cap_usd: float
    share: float
    level: str

    @property
    def percent(self) -> str:
        """The share of the cap spent, as people read it: ``0 %``, ``<1 %``, ``84 %``, ``130 %``."""
        if 0 < self.share < 0.01:
            return "<1 %"
        return f"{self.share * 100:.0f} %"

    @property
    def meter_value(self) -> float:
        """The ``<progress>`` value: the spending, at most the cap (a zero cap shows full)."""
        return min(self.spent_usd, self.cap_usd) if self.cap_usd > 0 else 1.0

    @property
    def meter_max(self) -> float:
        """The ``<progress>`` maximum: the cap (1 for a zero cap)."""
        return self.cap_usd if self.cap_usd > 0 else 1.0

    @property
    def over_usd(self) -> float:
        """How far the spending went past the cap (0 when within it)."""
        return max(0.0, self.spent_usd - self.cap_usd)


def budget_gauge(spent: float | Decimal | None, cap: float | Decimal | None) -> BudgetGauge | None:
    """The budget bar of ``spent`` against ``cap`` USD; ``None`` when there is no cap.

    A zero cap allows no spending at all, so it counts as used up.
    """
    if cap is None:
        return None
    spent_usd, cap_usd = float(spent or 0), float(cap)
    share = spent_usd / cap_usd if cap_usd > 0 else 1.0
    if share >= 1:
        level = "exceeded"
    elif share >= BUDGET_WARNING_SHARE:
        level = "warning"
    else:
        level = "ok"
    return BudgetGauge(spent_usd=spent_usd, cap_usd=cap_usd, share=share, level=level)


def _build_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        relative_time=lambda moment: time_tag(moment, "relative"),
        full_datetime=lambda moment: time_tag(moment, "datetime"),
        clock=lambda moment: time_tag(moment, "clock"),
        usd=usd,
        mtok_usd=mtok_usd,
        actor_name=actor_name,
        decider=decider_label,
        duration=duration,
        compact=compact,
        file_size=file_size,
        label=state_label,
        outcome_label=outcome_label,
        source_label=source_label,
        json_tree=render_json,
        unified_diff=render_diff,
    )
    env.globals.update(
        version=__version__,
        product_name="Mission Control",
        list_url=list_url,
        elapsed=elapsed,
        audit_lines=audit_lines,
        layout_graph=layout_graph,
        budget_gauge=budget_gauge,
        can=can,
        mission_state=mission_state,
        shown_state=shown_state,
        dispatch_halted=dispatch_halted,
        answer_max_chars=ANSWER_MAX_CHARS,
        requirement_headings=REQUIREMENT_HEADINGS,
    )
    return env


def security_context(request: Request) -> dict[str, Any]:
    """Who is looking (``current_identity``) and the session's ``csrf_token``, for every page."""
    session = getattr(request.state, "session", None)
    return {
        "current_identity": getattr(request.state, "identity", None),
        "csrf_token": session.csrf_token() if session is not None else "",
    }


@jinja2.pass_context
def can(context: jinja2.runtime.Context, permission: str) -> bool:
    """Whether the page's ``current_identity`` holds ``permission`` (none: nothing).

    Pages hide the controls a viewer may not use; the routes refuse them anyway.
    """
    viewer = context.get("current_identity")
    return isinstance(viewer, Identity) and viewer.allows(Permission(permission))


def controls_context(request: Request) -> dict[str, Any]:
    """The emergency-stop state for the header of every page (``emergency``).

    ``None`` when this request has not read it (``load_controls``): fragments, and pages shown
    to someone not signed in (an error page), who are not told who stopped what, or why.
    """
    return {"emergency": getattr(request.state, "controls", None)}


async def load_controls(request: Request) -> ControlsRead:
    """The emergency-stop state, read at most once per request (kept on ``request.state``)."""
    cached = getattr(request.state, "controls", None)
    if isinstance(cached, ControlsRead):
        return cached
    ctx: ServiceContext = request.app.state.ctx
    controls = await read_controls(ctx)
    request.state.controls = controls
    return controls


def health_context(request: Request) -> dict[str, Any]:
    """The system-health strip's figures for every page (``health``; base.html shows them).

    ``None`` when this request has not read them (``load_health``): fragments, and pages shown
    to someone not signed in (the sign-in page, an error page), who see no strip.
    """
    return {"health": getattr(request.state, "health", None)}


async def load_health(request: Request) -> HealthSummaryRead:
    """The health figures through the app's one-second cache (kept on ``request.state``)."""
    cached = getattr(request.state, "health", None)
    if isinstance(cached, HealthSummaryRead):
        return cached
    cache: HealthSummaryCache = request.app.state.health_summary
    health = await cache.get(request.app.state.ctx)
    request.state.health = health
    return health


def sandbox_context(request: Request) -> dict[str, Any]:
    """The step sandbox's standing warning for every page (``sandbox_warning``), if any.

    Shown to whoever is signed in while programs run unconfined (the admin turned the sandbox
    off) or are refused (it cannot start); ``None`` otherwise.
    """
    if getattr(request.state, "identity", None) is None:
        return {"sandbox_warning": None}
    status = getattr(request.app.state, "sandbox_status", None)
    return {"sandbox_warning": status.warning if status is not None else None}


templates = Jinja2Blocks(
    env=_build_environment(),
    context_processors=[security_context, controls_context, health_context, sandbox_context],
)


class _PageResponse(HTMLResponse):
    """A whole page, rendered as it is sent, once the emergency-stop state has been read.

    Context processors are synchronous and every page's header shows the stop and the health
    strip, so the small queries they need run here, asynchronously, for whole pages only
    (fragments skip them), and only when someone is signed in (the strip's figures come from
    the app's one-second cache). The context is the snapshot ``render`` was given; headers set on
    the response still apply, and errors still reach the app's exception handlers (nothing has
    been sent yet when rendering fails).
    """

    def __init__(
        self,
        request: Request,
        name: str,
        context: dict[str, Any],
        *,
        status_code: int,
        headers: Mapping[str, str],
    ) -> None:
        super().__init__(b"", status_code=status_code, headers=headers)
        self._request = request
        self._name = name
        self._context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the controls (for a signed-in viewer), render the page into the body, send it."""
        try:
            # Cached for routes, which authenticated already; an unknown path's 404 did not.
            if (await authenticate(self._request)).identity is not None:
                await load_controls(self._request)
                await load_health(self._request)
        except Exception:
            if self.status_code < 500:
                raise
            # An error page must still render when the database is what failed.
            log.warning("the emergency-stop state could not be read for an error page")
        page = templates.TemplateResponse(self._request, self._name, self._context)
        self.body = bytes(page.body)
        self.headers["content-length"] = str(len(self.body))
        await super().__call__(scope, receive, send)


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
        An HTML response that tells caches it varies with the htmx request headers. A whole
        page is rendered as it is sent, after the emergency-stop state its header shows is read.
    """
    all_headers = {"Vary": _VARY, **(headers or {})}
    if block is None:
        return _PageResponse(
            request, name, dict(context), status_code=status_code, headers=all_headers
        )
    return templates.TemplateResponse(
        request, name, dict(context), status_code=status_code, headers=all_headers, block_name=block
    )


def render_fragment(name: str, block: str, context: Mapping[str, Any]) -> str:
    """The HTML of one named block of a page template, outside any request (SSE messages)."""
    return render_block(templates.env, name, block, dict(context))


def open_page(path: str) -> str:
    """An ``HX-Location`` value: fetch ``path``, swap it in as the page, show its top, push it."""
    return json.dumps({"path": path, "swap": "innerHTML show:top"})
