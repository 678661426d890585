"""``/docs``: the interactive API documentation (Swagger UI), served from this server alone.

Open to anyone, as the OpenAPI document it reads (``/openapi.json``) is: it shows what the API
offers, not data. Trying a request from it needs an identity like any other API call (the
session of a signed-in person, or a token given under "Authorize").
"""

from fastapi import APIRouter, Request, Response

from missionctl.security.guard import GuardedRoute
from missionctl.web.deps import public
from missionctl.web.templating import render

OPENAPI_URL = "/openapi.json"

router = APIRouter(route_class=GuardedRoute)


@router.get("/docs", dependencies=[public()])
async def api_docs(request: Request) -> Response:
    """The Swagger UI page over ``/openapi.json`` (vendored files, no inline script)."""
    return render(request, "pages/api_docs.html", {"openapi_url": OPENAPI_URL})
