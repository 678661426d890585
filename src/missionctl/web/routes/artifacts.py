"""Artifact viewers: Markdown rendered and sanitised, JSON as a tree, diffs coloured.

``/artifacts/{id}`` is a page of its own for a plain browser and, for htmx, the ``viewer`` block
that the mission page loads into its artifact pane. Downloads go through the JSON API
(``/api/v1/artifacts/{id}/content``), which sends the bytes with their media type.
"""

from fastapi import APIRouter, Request, Response

from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import artifacts as artifact_service
from missionctl.web.deps import ArtifactId, Context, Fragment, P, requires
from missionctl.web.templating import render
from missionctl.web.viewers import view_artifact

PAGE = "pages/artifact.html"

router = APIRouter(route_class=GuardedRoute)


@router.get("/artifacts/{artifact_id}", dependencies=[requires(P.ARTIFACTS_READ)])
async def artifact_page(
    request: Request, ctx: Context, fragment: Fragment, artifact_id: ArtifactId
) -> Response:
    """An artifact shown by its viewer, with its download link.

    Raises:
        NotFound: no such artifact (a 404 page).
        IntegrityError: its content is missing or damaged (a 500 page that says nothing more).
    """
    artifact, content = await artifact_service.read_artifact_content(ctx, artifact_id=artifact_id)
    context = {"artifact": artifact, "viewer": view_artifact(artifact, content)}
    return render(request, PAGE, context, block="viewer" if fragment else None)
