"""The answer to a button that changed what a page shows: reload it, or go back to it.

Under htmx the page is told to reload itself (``HX-Refresh``): a change such as pausing a
schedule or draining a worker alters rows, counts and controls all over it. A plain form post
(no scripts) is sent back to the page with a 303, so reloading it does not post again.
"""

from fastapi import Response
from fastapi.responses import RedirectResponse
from starlette.status import HTTP_303_SEE_OTHER


def reload_page() -> Response:
    """A 200 that tells htmx to reload the whole page."""
    return Response(status_code=200, headers={"HX-Refresh": "true"})


def reload_or_redirect(url: str, *, fragment: bool) -> Response:
    """``reload_page()`` for htmx (``fragment``), else a 303 to ``url``."""
    if fragment:
        return reload_page()
    return RedirectResponse(url, status_code=HTTP_303_SEE_OTHER)
