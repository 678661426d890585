"""The Sessions page: where one is signed in, and the buttons that end it (ADR 0077).

- ``GET /sessions``: the signed-in user's own browser sessions (when and where each began, when
  it was last seen, which browser, whether it still lets anyone in), each live one with a
  Revoke button, and "Sign out everywhere". ``?user=NAME`` shows another user's, for admins
  only (403 otherwise); admins also get a user picker and the recent failed sign-ins, per
  account and one by one, with address and time.
- ``POST /sessions/{session_id}/revoke`` and ``POST /sessions/revoke-all`` (field ``user``):
  the buttons. Each answers with a 303: back to the list, or to the sign-in page when the
  browser's own session ended.

Every role may open the page (``missions:read``, which every role holds); whose sessions one
may see or end is the service's rule (``services.usecases.sessions``): one's own, or anyone's for an
admin.
"""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request, Response
from fastapi.responses import RedirectResponse
from starlette.status import HTTP_303_SEE_OTHER

from missionctl.domain.access import NAME_PATTERN
from missionctl.errors import NotFound
from missionctl.security.guard import GuardedRoute
from missionctl.security.sessions import session_of
from missionctl.services.usecases import identity, sessions
from missionctl.web.deps import Context, Identity, P, requires
from missionctl.web.templating import list_url, render

PAGE = "pages/sessions.html"
URL = "/sessions"

router = APIRouter(route_class=GuardedRoute)
# Every role holds missions:read: the page is for anyone signed in; the service decides whose.
SignedIn = Annotated[Identity, requires(P.MISSIONS_READ)]
UserName = Annotated[str, Query(max_length=63, pattern=f"^{NAME_PATTERN.pattern}$")]


def _session_id(session_id: Annotated[str, Path()]) -> uuid.UUID:
    # A malformed id names nothing, like an unknown one: the same not-found page.
    try:
        return uuid.UUID(session_id)
    except ValueError:
        raise NotFound(f"no session has the id {session_id}", field="session_id") from None


SessionId = Annotated[uuid.UUID, Depends(_session_id)]


@router.get(URL)
async def sessions_page(
    request: Request, ctx: Context, who: SignedIn, user: UserName | None = None
) -> Response:
    """The sessions of ``user`` (default: the viewer's own); failed sign-ins for admins."""
    owner = user or who.user_name
    listed = await sessions.list_sessions(
        ctx, user_name=owner, viewer=who, current_secret=session_of(request).secret
    )
    context: dict[str, Any] = {"owner": owner, "sessions": listed, "users": [], "attempts": None}
    if who.allows(P.USERS_ADMIN):
        context["users"] = [u.name for u in await identity.list_users(ctx)]
        context["attempts"] = await sessions.recent_sign_in_failures(ctx)
    return render(request, PAGE, context)


@router.post(URL + "/{session_id}/revoke")
async def revoke_session(ctx: Context, who: SignedIn, session_id: SessionId) -> Response:
    """End one session; the browser that held it is refused from its next request on."""
    ended = await sessions.revoke_session(ctx, session_id=session_id, viewer=who, actor=who.actor)
    return _back(owner=ended.user_name, who=who)


@router.post(URL + "/revoke-all")
async def revoke_all(
    ctx: Context,
    who: SignedIn,
    user: Annotated[str, Form(max_length=63)] = "",
) -> Response:
    """Sign ``user`` (default: oneself) out of every browser, this one included if theirs."""
    owner = user.strip() or who.user_name
    await sessions.revoke_user_sessions(ctx, user_name=owner, viewer=who, actor=who.actor)
    return _back(owner=owner, who=who)


def _back(*, owner: str, who: Identity) -> RedirectResponse:
    """Back to the list (when this browser's own session ended, it leads to the sign-in page)."""
    target = URL if owner == who.user_name else list_url(URL, user=owner)
    return RedirectResponse(target, status_code=HTTP_303_SEE_OTHER)
