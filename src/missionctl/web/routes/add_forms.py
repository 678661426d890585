"""What the pages with an "Add" form share: the form read into its request, or the page again.

A form that does not make its use case's request stores nothing: the page comes back (422)
with a message beside each field at fault and what was typed kept.
"""

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from fastapi import Request, Response
from pydantic import ValidationError
from starlette.status import HTTP_422_UNPROCESSABLE_CONTENT

from missionctl.web.templating import render

Data = TypeVar("Data")


class PageContext(Protocol):
    """Reads the page's context around the form's messages."""

    def __call__(self, *, errors: dict[str, str]) -> Awaitable[dict[str, Any]]:
        """The page's context with ``errors`` beside their fields (the form as it was typed)."""
        ...


async def request_or_page(
    request: Request,
    page: str,
    build: Callable[[], Data],
    messages: Callable[[ValidationError], dict[str, str]],
    page_context: PageContext,
    *,
    value_error_field: str | None = None,
) -> Data | Response:
    """``build()``'s request, or ``page`` again (422) with the messages of its refusal.

    ``messages`` words Pydantic's refusal, one message per field. A plain ``ValueError`` of
    ``build`` is the message of ``value_error_field``; without one it is no refusal and goes
    on up.
    """
    try:
        return build()
    except ValidationError as exc:
        errors = messages(exc)
    except ValueError as exc:
        if value_error_field is None:
            raise
        errors = {value_error_field: str(exc)}
    context = await page_context(errors=errors)
    return render(request, page, context, status_code=HTTP_422_UNPROCESSABLE_CONTENT)
