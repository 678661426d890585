"""Error pages: what a person sees when a page request fails (the API answers JSON instead)."""

from fastapi import Request, Response

from missionctl.web.deps import wants_fragment
from missionctl.web.templating import render

_HEADINGS = {
    400: "Bad request",
    404: "Not found",
    405: "Not allowed",
    409: "Conflict",
    422: "Check the address",
    500: "Something went wrong",
}


def render_error_page(request: Request, status_code: int, message: str) -> Response:
    """A full error page, or only its panel for an htmx request, with ``status_code``.

    The message is the same text the API would give (it names the parameter at fault); for
    server errors the caller passes a message that reveals nothing.
    """
    context = {
        "heading": _HEADINGS.get(status_code, "Request failed"),
        "message": message,
        "status_code": status_code,
    }
    return render(
        request,
        "pages/error.html",
        context,
        block="error_panel" if wants_fragment(request) else None,
        status_code=status_code,
    )
