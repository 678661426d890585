"""Error pages: what a person sees when a page request fails (the API answers JSON instead).

A control of a page (an htmx POST such as Run or Cancel) that the server refuses gets a toast
with the reason instead of a page: the page stays as it is and says why nothing happened. A
page asked for without an identity (401) sends the browser to the sign-in form instead.
"""

from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from starlette.status import HTTP_303_SEE_OTHER

from missionctl.web.deps import wants_fragment
from missionctl.web.templating import render

_HEADINGS = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "Conflict",
    422: "Check the address",
    500: "Something went wrong",
}

_TOAST_HEADINGS = {
    403: "Not allowed",
    404: "Not found",
    409: "Not possible now",
    429: "Too many requests",
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


def _to_sign_in(request: Request, message: str) -> Response:
    """No identity: a page goes to the sign-in form and comes back; htmx is told to go there."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = "/sign-in?" + urlencode({"next": here if request.method == "GET" else "/missions"})
    if "hx-request" in request.headers:
        response = render_toast(request, "Signed out", message, kind="error", status_code=401)
        response.headers["HX-Redirect"] = target
        return response
    if request.method == "GET":
        return RedirectResponse(target, status_code=HTTP_303_SEE_OTHER)
    context = {"heading": "Sign in first", "message": message, "status_code": 401}
    return render(request, "pages/error.html", context, status_code=401)


def render_error_page(request: Request, status_code: int, message: str) -> Response:
    """A full error page, or only its panel for an htmx request, with ``status_code``.

    The message is the same text the API would give (it names the parameter at fault); for
    server errors the caller passes a message that reveals nothing. An htmx request that is not
    a GET (a control) gets an error toast instead, with the same status.
    """
    if status_code == 401:
        return _to_sign_in(request, message)
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
