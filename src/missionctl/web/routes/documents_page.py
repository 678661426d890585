"""The document studio page of a mission: each kind's versions, one shown, compared, exported.

Generating posts a form (htmx or plain) to the same service as the API; the answer sends the
browser to the new version (htmx: ``HX-Redirect``; without JavaScript: a 303).
"""

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from markupsafe import Markup
from starlette.status import HTTP_303_SEE_OTHER

from missionctl.schemas.documents import MAX_DOCUMENT_VERSION, DocumentDiffLine, DocumentKind
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import documents as document_service
from missionctl.web.deps import Context, Fragment, MissionId, P, RuntimeDep, WriteMissions, requires
from missionctl.web.templating import render

PAGE = "pages/documents.html"
DIFF_CONTEXT = 2
"""Unchanged lines shown around each change in the page's comparison."""
Version = Annotated[int | None, Query(ge=1, le=MAX_DOCUMENT_VERSION)]

router = APIRouter(route_class=GuardedRoute)


@router.get("/missions/{mission_id}/documents", dependencies=[requires(P.MISSIONS_READ)])
async def documents_page(
    request: Request,
    ctx: Context,
    mission_id: MissionId,
    kind: Annotated[DocumentKind, Query()] = "prd",
    version: Version = None,
    compare: Version = None,
) -> Response:
    """The studio, showing ``kind`` at ``version`` (default: its latest), maybe compared.

    Raises:
        NotFound: no such mission or version (a 404 page naming it).
    """
    studio = await document_service.read_studio(
        ctx, mission_id=mission_id, kind=kind, version=version, compare_with=compare
    )
    # The body is sanitised and the diagrams' SVG escapes every text it draws.
    document = studio.document
    body = Markup(document_service.document_html(document)) if document else None
    hunks = changed_lines(studio.diff.lines) if studio.diff else []
    return render(request, PAGE, {"studio": studio, "body": body, "hunks": hunks})


def changed_lines(lines: Sequence[DocumentDiffLine]) -> list[DocumentDiffLine | None]:
    """The changed lines with ``DIFF_CONTEXT`` unchanged ones around each; ``None`` marks a gap."""
    changed = [n for n, line in enumerate(lines) if line.op != "same"]
    keep = {k for n in changed for k in range(n - DIFF_CONTEXT, n + DIFF_CONTEXT + 1)}
    shown: list[DocumentDiffLine | None] = []
    for n, line in enumerate(lines):
        if n in keep:
            shown.append(line)
        elif shown and shown[-1] is not None:
            shown.append(None)
    if shown and changed and changed[0] > DIFF_CONTEXT:
        shown.insert(0, None)
    return shown


@router.post("/missions/{mission_id}/documents")
async def generate(
    request: Request,
    ctx: Context,
    who: WriteMissions,
    runtime: RuntimeDep,
    fragment: Fragment,
    mission_id: MissionId,
    kind: Annotated[DocumentKind, Form()],
) -> Response:
    """Write the ``kind`` document as its next version, then show it.

    Raises:
        Conflict: the mission has no plan yet (a toast or page saying to plan it first).
    """
    written = await document_service.generate_document(
        ctx, mission_id=mission_id, kind=kind, actor=who.actor, llm=runtime.llm
    )
    target = f"/missions/{mission_id}/documents?kind={kind}&version={written.version}"
    if fragment:
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=HTTP_303_SEE_OTHER)
