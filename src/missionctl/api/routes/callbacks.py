"""``POST /callbacks/{token}``: an external HTTP agent posts its answer (ADR 0061).

Public: the single-use token in the path is the credential (256 random bits, stored only as its
SHA-256, redeemable once, expiring with its step), so the route reads no user credentials. It is
rate-limited per client address and its body is bounded like every body (the app's body
limit, then ``AgentAnswer``'s sizes, counts and nesting).
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from missionctl.api.deps import Context, public
from missionctl.api.errors import BODY_RESPONSES, CONFLICT_RESPONSES, ERROR_RESPONSES
from missionctl.errors import RateLimited
from missionctl.schemas.http_agent import AgentAnswer
from missionctl.security.guard import GuardedRoute, client_address, edge_limits
from missionctl.security.limits import client_key
from missionctl.services.usecases.callbacks import MAX_TOKEN_CHARS, receive_callback

router = APIRouter(route_class=GuardedRoute, tags=["callbacks"])


async def _limit(request: Request) -> None:
    """Refuse a client that posts more callbacks a minute than ``CALLBACKS_PER_MINUTE``."""
    decision = await edge_limits(request).callbacks.hit(client_key(client_address(request)))
    if not decision.allowed:
        raise RateLimited(
            "too many callbacks from this address; slow down",
            retry_after_s=decision.retry_after_s,
        )


@router.post(
    "/callbacks/{token}",
    status_code=204,
    dependencies=[public(), Depends(_limit)],
    responses={**ERROR_RESPONSES, **CONFLICT_RESPONSES, **BODY_RESPONSES},
)
async def post_callback(
    token: Annotated[
        str, Path(min_length=1, max_length=MAX_TOKEN_CHARS, pattern=r"^[A-Za-z0-9_-]+$")
    ],
    answer: AgentAnswer,
    ctx: Context,
) -> Response:
    """Store the answer for the step waiting on ``token``; 204 when it was taken.

    404: no callback has this token. 409: the token was used already (a step takes one answer)
    or expired. 422: the answer breaks the contract (docs/http-agent.md), naming the field.
    """
    await receive_callback(ctx, token=token, answer=answer)
    return Response(status_code=204)
