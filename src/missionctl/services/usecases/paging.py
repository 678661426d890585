"""Lists: the checks of ``limit`` and ``cursor`` (keyset paging)."""

import uuid

from missionctl.errors import Problem, ValidationFailed
from missionctl.schemas.paging import MAX_PAGE_SIZE as MAX_PAGE_SIZE  # the API's, checked here


def keyset_cursor(
    *, limit: int, cursor: str | None, max_page_size: int = MAX_PAGE_SIZE
) -> uuid.UUID | None:
    """The id to page before (``None`` for the first page).

    Lists are ordered by UUIDv7 id, newest first; a cursor is the last id of the previous page.

    Raises:
        ValidationFailed: ``limit`` is out of range, or ``cursor`` is not an id this API issued
            (both reported together).
    """
    problems: list[Problem] = []
    if not 1 <= limit <= max_page_size:
        problems.append(Problem("limit", f"must be between 1 and {max_page_size}"))
    before: uuid.UUID | None = None
    if cursor:
        try:
            before = uuid.UUID(cursor)
        except ValueError:
            problems.append(Problem("cursor", "is not a cursor from a previous page; omit it"))
    if problems:
        raise ValidationFailed(problems)
    return before
