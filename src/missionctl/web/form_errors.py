"""A refused form's messages, one per field, and the status the page answers with.

A page's form shows each field's first problem beside it, in words a person acts on, and
keeps what was typed. Two kinds of refusal reach a page: Pydantic's, when the form's values do
not make the use case's model (:func:`first_per_field`, with the page's own wording), and the
use case's own (:func:`errors_of`, its messages as sentences). A problem of a field the form
does not show goes to the page's ``default`` field.
"""

from collections.abc import Callable, Collection, Mapping
from typing import Any

from pydantic import ValidationError
from starlette.status import HTTP_404_NOT_FOUND, HTTP_409_CONFLICT, HTTP_422_UNPROCESSABLE_CONTENT

from missionctl.errors import Conflict, MissionControlError, NotFound, ValidationFailed

Wording = Callable[[str, Mapping[str, Any]], str]
"""A page's words for one problem: the field, then Pydantic's detail (its ``type``, ``ctx``)."""


def first_per_field(
    error: ValidationError, *, fields: Collection[str], default: str, wording: Wording
) -> dict[str, str]:
    """One message per form field from what Pydantic reported: the first problem of each.

    A problem located on no field of ``fields`` goes to ``default``; ``wording`` words each.
    """
    errors: dict[str, str] = {}
    for detail in error.errors():
        location = detail.get("loc", ())
        field = str(location[0]) if location else default
        if field not in fields:
            field = default
        errors.setdefault(field, wording(field, detail))
    return errors


def status_of(error: MissionControlError) -> int:
    """The status a refused form answers with: 404 unknown, 409 conflict, else 422."""
    if isinstance(error, NotFound):
        return HTTP_404_NOT_FOUND
    if isinstance(error, Conflict):
        return HTTP_409_CONFLICT
    return HTTP_422_UNPROCESSABLE_CONTENT


def errors_of(
    error: MissionControlError, *, fields: Collection[str], default: str
) -> dict[str, str]:
    """One message per form field from a use case's refusal (others go to ``default``).

    A problem's field is matched by its first part (``inputs.region`` is ``inputs``); each
    message reads as a sentence: a capital first, a full stop last.
    """
    problems = error.problems if isinstance(error, ValidationFailed) else ()
    pairs = [(p.field, p.message) for p in problems] or [(error.field, error.message)]
    errors: dict[str, str] = {}
    for field, message in pairs:
        name = (field or "").split(".")[0]
        errors.setdefault(name if name in fields else default, _sentence(message))
    return errors


def _sentence(message: str) -> str:
    text = message.strip()
    text = text[0].upper() + text[1:] if text else "Check this value"
    return text if text.endswith((".", "?", "!")) else text + "."
