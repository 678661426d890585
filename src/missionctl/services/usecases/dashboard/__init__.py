"""Read models of the dashboard and the live event feed its pages stream.

Each page route makes one call here: the functions gather what a screen shows from the other
services (and a few aggregate reads of ``repositories.dashboard``), so that templates never
query anything. Writes started from the dashboard (launching a mission) live elsewhere
(``services.usecases.launch``).
"""

from missionctl.schemas.events import MAX_SEQ
from missionctl.services.usecases.dashboard.events import (
    count_events,
    follow_events,
    read_head_seq,
    read_to_end,
    resume_cursor,
)
from missionctl.services.usecases.dashboard.missions import (
    AUDIT_PAGE,
    read_mission_audit,
    read_mission_rows,
    read_mission_view,
)
from missionctl.services.usecases.dashboard.runs import (
    read_run_rows,
    read_run_view,
    read_runs,
    read_step_detail,
)
from missionctl.services.usecases.dashboard.tasks import controls_for

__all__ = [
    "AUDIT_PAGE",
    "MAX_SEQ",
    "controls_for",
    "count_events",
    "follow_events",
    "read_head_seq",
    "read_mission_audit",
    "read_mission_rows",
    "read_mission_view",
    "read_run_rows",
    "read_run_view",
    "read_runs",
    "read_step_detail",
    "read_to_end",
    "resume_cursor",
]
