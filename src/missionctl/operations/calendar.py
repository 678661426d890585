"""The calendar: each schedule's next firings and past days' runs by result (ADR 0103).

Reading needs ``workflows:read``, as the schedules it shows do. The calendar changes nothing;
the iCalendar feed of a schedule is ``GET /api/v1/schedules/{id}/calendar.ics``
(``api.routes.calendar``), a file rather than JSON, so it is not declared here.
"""

from missionctl.domain.access import Permission as P
from missionctl.operations import Operation
from missionctl.schemas.calendar import CalendarQuery, CalendarRead

READ: Operation[CalendarRead] = Operation(
    name="read_calendar",
    doc="A month (six weeks, Monday first) or a week of the viewer's days in time zone `tz`: "
    "each live schedule's firings after now (its cron read in its own zone), and the runs "
    "created on each day, counted by status, the first 20 listed, with a link to them all.",
    method="GET",
    path="/calendar",
    permission=P.WORKFLOWS_READ,
    service="missionctl.services.usecases.calendar:read_calendar",
    query=CalendarQuery,
    output=CalendarRead,
    cli="calendar",
    mcp=True,
)

OPERATIONS = (READ,)
