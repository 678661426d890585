"""What the search pages (Search, Memory) share: a query's page of results, or why it has none.

A query that cannot be searched is shown beside the box, which keeps what was typed. A whole
page comes back as a 422; htmx swaps only a 2xx answer, so its results block answers 200 and
says what is wrong instead.
"""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from missionctl.errors import ValidationFailed

Results = TypeVar("Results")


async def search_or_problems(
    search: Callable[[], Awaitable[Results]], context: dict[str, Any], *, fragment: bool
) -> tuple[Results | None, int]:
    """``search()``'s results and the status 200, or ``None`` and the status of its refusal.

    Either is also put in ``context["page"]``, the results block's. A ``ValidationFailed`` of
    ``search`` (raised when it is called or awaited) puts its problems in ``context["problems"]``;
    the status is then 200 for htmx (``fragment``), else 422.
    """
    try:
        page: Results | None = await search()
        status_code = 200
    except ValidationFailed as exc:
        context["problems"] = exc.problems
        page, status_code = None, 200 if fragment else 422
    context["page"] = page
    return page, status_code
