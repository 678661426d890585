"""The approvals page: the queue of gated steps waiting for a person, and the recent decisions.

Each request in the queue shows exactly what will run (the command line, the prompt or the URL,
and every rendered input), its estimated cost and its run. Approve and Reject are one form per
request; a rejection needs a reason (the service refuses one without).

Blocks of ``pages/approvals.html`` rendered alone for htmx: ``decision_update`` (the request's
card in its new state, the queue's count and a toast, as ``<hx-partial>`` elements) and
``approval_card`` (the card again with the reason typed and why the decision was refused: 422,
or 409 when someone decided first). A plain form post is answered with a 303 back to the page,
or the whole page with the card's message.
"""

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from starlette.status import (
    HTTP_303_SEE_OTHER,
    HTTP_403_FORBIDDEN,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_CONTENT,
)

from missionctl.errors import Conflict, PermissionDenied, ValidationFailed
from missionctl.schemas.governance import ApprovalRead
from missionctl.security.guard import GuardedRoute
from missionctl.services import ServiceContext
from missionctl.services.usecases import approvals as approval_service
from missionctl.web.deps import ApprovalId, Context, Fragment, Identity, P, requires
from missionctl.web.templating import render

PAGE = "pages/approvals.html"
APPROVALS_URL = "/approvals"
DECIDED_SHOWN = 50

# The identity of whoever approves or rejects a gated step.
DecideApprovals = Annotated[Identity, requires(P.APPROVALS_DECIDE)]
Tab = Literal["pending", "decided"]

router = APIRouter(route_class=GuardedRoute)


async def pending_count(ctx: ServiceContext) -> int:
    """How many gated steps wait for a decision (the sidebar's badge)."""
    return len(await approval_service.list_approvals(ctx, state="pending"))


@router.get(APPROVALS_URL, dependencies=[requires(P.APPROVALS_READ)])
async def approvals_page(
    request: Request, ctx: Context, tab: Annotated[Tab, Query()] = "pending"
) -> Response:
    """The queue (oldest request first) or the recent decisions (newest first)."""
    pending = await approval_service.list_approvals(ctx, state="pending")
    decided = []
    if tab == "decided":
        decided = await approval_service.list_approvals(ctx, state="decided", limit=DECIDED_SHOWN)
    return render(request, PAGE, _context(tab=tab, pending=pending, decided=decided))


@router.post(APPROVALS_URL + "/{approval_id}/decide")
async def decide(
    request: Request,
    ctx: Context,
    who: DecideApprovals,
    fragment: Fragment,
    approval_id: ApprovalId,
    decision: Annotated[Literal["approve", "reject"], Form()],
    reason: Annotated[str, Form(max_length=2000)] = "",
    confirm_full_access: Annotated[bool, Form()] = False,
    justification: Annotated[str, Form(max_length=2000)] = "",
    override_reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Approve (the step is queued) or reject (it fails, or is skipped) a waiting step.

    A rejection without a reason, a request someone else decided first, or an approval of one's
    own run or workflow version (four eyes; an admin may override it with a reason) is refused:
    the card says why and keeps the reason typed.

    Raises:
        NotFound: no such approval (a 404).
    """
    approve = decision == "approve"
    try:
        approval = await approval_service.decide_approval(
            ctx,
            ref=approval_id,
            approve=approve,
            actor=who.actor,
            reason=reason,
            confirm_full_access=confirm_full_access,
            justification=justification,
            user=who.user_name,
            override_reason=override_reason,
            may_override=who.allows(P.POLICIES_ADMIN),
        )
    except (ValidationFailed, Conflict, PermissionDenied) as exc:
        message, status_code = _refusal(exc)
        approval = await approval_service.read_approval(ctx, ref=approval_id)
    else:
        if not fragment:
            return RedirectResponse(APPROVALS_URL, status_code=HTTP_303_SEE_OTHER)
        verb = "Approved" if approve else "Rejected"
        context = {
            "a": approval,
            "card_error": None,
            "card_reason": "",
            "pending_approvals": await pending_count(ctx),
            "toast_message": f"{verb}: {approval.step_id}",
            "toast_detail": f"{approval.workflow} · run {str(approval.run_id)[:8]}",
        }
        return render(request, PAGE, context, block="decision_update")
    if fragment:
        context = {
            "a": approval,
            "card_error": message,
            "card_reason": reason,
            "full_access_prompt": FULL_ACCESS_PROMPT,
        }
        return render(request, PAGE, context, block="approval_card", status_code=status_code)
    pending = await approval_service.list_approvals(ctx, state="pending")
    # A request decided meanwhile has left the queue: it is shown first, with the reason.
    context = _context(
        tab="pending",
        pending=pending,
        decided=[],
        errors={approval.id: message},
        reasons={approval.id: reason},
        extra=[] if approval.state == "pending" else [approval],
    )
    context["full_access_prompt"] = FULL_ACCESS_PROMPT
    return render(request, PAGE, context, status_code=status_code)


def _refusal(exc: ValidationFailed | Conflict | PermissionDenied) -> tuple[str, int]:
    """What the card says of a refused decision, and the status it is answered with.

    422: a reason or a full-access confirmation missing; 409: decided already or no longer
    waiting; 403: not a named approver (ADR 0065), or the four-eyes rule (ADR 0078).
    """
    if isinstance(exc, ValidationFailed):
        if {p.field for p in exc.problems} & FULL_ACCESS_FIELDS:
            # Said beside the checkbox and the justification, in the page's words.
            return FULL_ACCESS_PROMPT, HTTP_422_UNPROCESSABLE_CONTENT
        problem = exc.problems[0].message
        return problem[:1].upper() + problem[1:] + ".", HTTP_422_UNPROCESSABLE_CONTENT
    message = exc.message[:1].upper() + exc.message[1:] + "."
    return message, HTTP_409_CONFLICT if isinstance(exc, Conflict) else HTTP_403_FORBIDDEN


FULL_ACCESS_FIELDS = {"confirm_full_access", "justification"}
FULL_ACCESS_PROMPT = (
    "To approve full access, tick the confirmation and write why this step needs it."
)


def _context(
    *,
    tab: Tab,
    pending: list[ApprovalRead],
    decided: list[ApprovalRead],
    errors: dict[uuid.UUID, str] | None = None,
    reasons: dict[uuid.UUID, str] | None = None,
    extra: list[ApprovalRead] | None = None,
) -> dict[str, Any]:
    return {
        "tab": tab,
        "pending": [*(extra or []), *pending],
        "decided": decided,
        "errors": errors or {},
        "reasons": reasons or {},
        "pending_approvals": len(pending),
    }
