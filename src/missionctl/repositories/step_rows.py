"""The step runs a new run inserts: one prepared statement, executed once per run.

Prepared rather than ORM objects: a run of a large workflow creates thousands at once, and the
unit of work's (or even Core's) per-row work would cost far more than the insert itself.
"""

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert
from sqlalchemy.orm import Session

from missionctl.db.models import StepRun
from missionctl.db.prepared import Prepared

_steps = cast(Table, StepRun.__table__)

# What ``insert_step_runs`` is given for each row; the other columns take their defaults.
STEP_RUN_INSERT_COLUMNS = (
    "id",
    "run_id",
    "step_id",
    "attempt",
    "status",
    "agent",
    "risk_tier",
    "inputs",
    "outputs",
    "estimate_micros",
    "reserve_micros",
    "routed_model",
    "routed_from",
    "error",
    "outcome",
    "queued_at",
    "started_at",
    "ended_at",
)
_INSERT_STEP_RUNS = Prepared(
    insert(_steps).values({column: bindparam(column) for column in STEP_RUN_INSERT_COLUMNS})
)


def insert_step_runs(session: Session, *, rows: Sequence[dict[str, Any]]) -> None:
    """Insert step runs, each row holding exactly ``STEP_RUN_INSERT_COLUMNS`` — one executemany."""
    _INSERT_STEP_RUNS.run_many(session, rows)
