"""Error pages: what a person sees when a page request fails (the API answers JSON instead).

A control of a page (an htmx POST such as Run or Cancel) that the server refuses gets a toast
with the reason instead of a page: the page stays as it is and says why nothing happened.
"""

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

_TOAST_HEADINGS = {
    404: "Not found",
    409: "Not possible now",
    422: "Not accepted",
}


def render_toast(
    request: Request,
    message: str,
    detail: str | None = None,
    *,
    kind: str = "success",
    status_code: int = 200,
) -> Response:
    """An htmx answer that only shows a toast (``kind`` ``success`` or ``error``)."""
    context = {"message": message, "detail": detail, "kind": kind}
    return render(request, "components/toast_update.html", context, status_code=status_code)


def render_error_page(request: Request, status_code: int, message: str) -> Response:
    """A full error page, or only its panel for an htmx request, with ``status_code``.

    The message is the same text the API would give (it names the parameter at fault); for
    server errors the caller passes a message that reveals nothing. An htmx request that is not
    a GET (a control) gets an error toast instead, with the same status.
    """
    if wants_fragment(request) and request.method != "GET":
        heading = _TOAST_HEADINGS.get(status_code, "Something went wrong")
        return render_toast(request, heading, message, kind="error", status_code=status_code)
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
