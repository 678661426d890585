"""The calendar: each schedule's next firings and past days' runs by result (ADR 0103).

Reading needs ``workflows:read``, as the schedules it shows do. The calendar changes nothing.
A schedule's iCalendar feed is a file a team's calendar application reads with an API token.
"""

from missionctl.domain.access import Permission as P
from missionctl.domain.files import FileAnswer
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

FEED: Operation[FileAnswer] = Operation(
    name="schedule_feed",
    doc="A schedule's next firings as an iCalendar file, for a team's calendar.\n\nThe "
    "firings of the next 60 days as events (RFC 5545), in the schedule's time zone; none "
    "while it is paused. Each firing keeps its UID, so a calendar that polls updates in place.",
    method="GET",
    path="/schedules/{schedule_id}/calendar.ics",
    permission=P.WORKFLOWS_READ,
    service="missionctl.services.usecases.calendar:schedule_feed",
    output=FileAnswer,
    file_types=("text/calendar",),
    cli="schedule feed",
)

OPERATIONS = (READ, FEED)
