"""The spending caps page: what agents' steps may spend per UTC day or month (ADR 0104).

- ``GET /settings/spending-caps`` (whoever reads prices): every cap with its period's spending
  against it, what is left, reserved by running steps and held back, and when it reopens.
- ``POST /settings/spending-caps`` (admins): set a cap, a new one or a new amount for the cap
  on that agent and period. On invalid input nothing is stored: the form comes back (422) with
  a message beside each field at fault.
- ``POST /settings/spending-caps/{cap_id}/remove`` (admins): remove a cap; the steps it held are
  released. An unknown or malformed id is the not-found page (404).

htmx gets block ``cap_update`` of ``pages/spending_caps.html`` (the table, the form and a
toast); a plain form post gets a 303 back to the page.
"""

import uuid
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Depends, Form, Path, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.status import HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_CONTENT

from missionctl.domain.spending_caps import EVERY_AGENT
from missionctl.errors import NotFound, ValidationFailed
from missionctl.schemas.spending_caps import AGENT_MAX_CHARS, SpendingCapRead, SpendingCapSet
from missionctl.security.guard import GuardedRoute
from missionctl.services.runtime.composition import known_agent_names
from missionctl.services.usecases import spending_caps as cap_service
from missionctl.web.deps import Context, Fragment, Identity, P, requires
from missionctl.web.form_errors import errors_of, first_per_field
from missionctl.web.templating import render

CAPS_PAGE = "pages/spending_caps.html"
CAPS_URL = "/settings/spending-caps"

router = APIRouter(route_class=GuardedRoute)

AdminCaps = Annotated[Identity, requires(P.POLICIES_ADMIN)]


def cap_id_param(cap_id: Annotated[str, Path()]) -> uuid.UUID:
    """The cap's id from the path; a malformed one names no cap, so it is a 404 like an unknown."""
    try:
        return uuid.UUID(cap_id)
    except ValueError:
        raise NotFound(f"no spending cap {cap_id[:60]}", field="cap_id") from None


CapId = Annotated[uuid.UUID, Depends(cap_id_param)]


class CapForm(BaseModel):
    """The "Set a cap" form exactly as posted: every field is text (absent: empty, period day)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    agent: str = ""
    period: str = "day"
    cap_usd: str = ""

    FIELDS: ClassVar[tuple[str, ...]] = ("agent", "period", "cap_usd")
    """The fields in the order the form shows them."""

    def to_cap(self) -> SpendingCapSet:
        """The service request (surrounding spaces dropped).

        Raises:
            pydantic.ValidationError: the input breaks a rule of ``SpendingCapSet``.
        """
        data = {
            "agent": self.agent.strip(),
            "period": self.period.strip(),
            "cap_usd": self.cap_usd.strip() or None,
        }
        return SpendingCapSet.model_validate(data)

    def as_kept(self) -> "CapForm":
        """The form to show again: as typed, an agent longer than the field takes cut to fit.

        The field refuses to hold more, so a longer text (not typed in it) is not echoed whole.
        """
        return self.model_copy(update={"agent": self.agent[: AGENT_MAX_CHARS + 1]})


def cap_errors(error: ValidationError) -> dict[str, str]:
    """One readable message per field of the cap form (the first problem of each)."""
    return first_per_field(error, fields=CapForm.FIELDS, default="agent", wording=_cap_message)


def _cap_message(field: str, detail: Mapping[str, Any]) -> str:
    kind = detail.get("type", "")
    if field == "agent":
        if kind == "string_too_long":
            return f"Too long: an agent's name has at most {AGENT_MAX_CHARS} characters."
        return "Name an agent (llm:writer), a kind of agent (llm:*) or * for every agent."
    if field == "period":
        return "Choose day or month: the UTC period the cap counts over."
    if kind in {"missing", "decimal_type", "none_required"}:
        return "Enter what the agent's steps may spend per period, in US dollars, like 25."
    if kind in {"decimal_parsing", "finite_number"}:
        return "Enter a number of US dollars, like 25 or 2.50."
    if kind in {"greater_than", "greater_than_equal"}:
        return "Enter more than $0. To let an agent run nothing, disable it on the Agents page."
    if kind == "less_than_equal":
        return "At most $1,000,000 per period."
    if kind in {"decimal_max_places", "decimal_max_digits"}:
        return "Use at most six decimal places."
    return str(detail.get("msg", "Check this value."))


def _context(
    caps: list[SpendingCapRead],
    *,
    form: CapForm | None = None,
    errors: dict[str, str] | None = None,
    saved: SpendingCapRead | None = None,
    removed: SpendingCapRead | None = None,
) -> dict[str, Any]:
    errors = errors or {}
    return {
        "caps": caps,
        "agents": [EVERY_AGENT, *known_agent_names()],
        "every_agent": EVERY_AGENT,
        "form": form or CapForm(),
        "errors": errors,
        "first_error": next((name for name in CapForm.FIELDS if name in errors), None),
        "saved": saved,
        "removed": removed,
        "max_agent_chars": AGENT_MAX_CHARS,
    }


@router.get(CAPS_URL, dependencies=[requires(P.PRICES_READ)])
async def spending_caps_page(request: Request, ctx: Context) -> Response:
    """Every cap with its current period's spending, what is left, reserved and held back."""
    caps = await cap_service.list_caps(ctx)
    return render(request, CAPS_PAGE, _context(caps))


@router.post(CAPS_URL)
async def set_spending_cap(
    request: Request,
    ctx: Context,
    who: AdminCaps,
    fragment: Fragment,
    form: Annotated[CapForm, Form()],
) -> Response:
    """Set the cap on an agent per UTC day or month (a new cap, or a new amount).

    Steps the new amount lets fit are released at once. On invalid input (an agent no step may
    name, a period other than day or month, an amount not above $0, past $1,000,000 or with more
    than six decimals) nothing is stored: the form comes back with a message beside each field
    at fault (422), the whole page for a plain browser, the form and the table for htmx.
    """
    try:
        saved = await cap_service.set_cap(ctx, data=form.to_cap(), actor=who.actor)
    except ValidationError as exc:
        return await _refused(request, ctx, fragment, form, cap_errors(exc))
    except ValidationFailed as exc:
        return await _refused(
            request, ctx, fragment, form, errors_of(exc, fields=CapForm.FIELDS, default="agent")
        )
    if not fragment:
        return RedirectResponse(CAPS_URL, status_code=HTTP_303_SEE_OTHER)
    context = _context(await cap_service.list_caps(ctx), saved=saved)
    return render(request, CAPS_PAGE, context, block="cap_update")


async def _refused(
    request: Request, ctx: Context, fragment: bool, form: CapForm, errors: dict[str, str]
) -> Response:
    """The form again, as typed, with ``errors`` beside their fields (422; nothing stored)."""
    context = _context(await cap_service.list_caps(ctx), form=form.as_kept(), errors=errors)
    block = "cap_update" if fragment else None
    return render(
        request, CAPS_PAGE, context, block=block, status_code=HTTP_422_UNPROCESSABLE_CONTENT
    )


@router.post(CAPS_URL + "/{cap_id}/remove")
async def remove_spending_cap(
    request: Request, ctx: Context, who: AdminCaps, fragment: Fragment, cap_id: CapId
) -> Response:
    """Remove a cap: its agents' steps are no longer held by it (those it held are released).

    Raises:
        NotFound: no cap has that id (the not-found page, or a toast for htmx).
    """
    removed = await cap_service.remove_cap(ctx, cap_id=cap_id, actor=who.actor)
    if not fragment:
        return RedirectResponse(CAPS_URL, status_code=HTTP_303_SEE_OTHER)
    context = _context(await cap_service.list_caps(ctx), removed=removed)
    return render(request, CAPS_PAGE, context, block="cap_update")
