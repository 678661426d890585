"""Routing queries: the model catalogue, and each model's record per role (ADR 0119).

Blocking, as run creation reads them in its transaction; an async service runs them on its
session's connection through ``AsyncSession.run_sync``.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session

from missionctl.db.models import StepRun
from missionctl.db.routing import CatalogueEntry

LLM_PREFIX = "llm:"


def read_catalogue(session: Session) -> Sequence[CatalogueEntry]:
    """Every model an admin has set, by name."""
    return session.scalars(select(CatalogueEntry).order_by(CatalogueEntry.model)).all()


def read_entry(session: Session, *, model: str) -> CatalogueEntry | None:
    """The admin's settings for ``model``, or ``None``."""
    return session.get(CatalogueEntry, model)


def read_records(
    session: Session, *, since: datetime, default: str, until: datetime | None = None
) -> list[tuple[str, str, int, int]]:
    """``(model, role, steps, succeeded)`` of the ``llm:`` steps that ended in the window.

    The window starts at ``since`` and ends at ``until`` (now when ``None``; a backtest's
    training weeks end earlier).

    A step's model is the one its run gave it (``routed_model``), else (a step of a run made
    before routing existed) the one it was billed at, else ``default``: such a step ran on
    the configured model, and one that failed before its first reply was billed at none. A
    step counts once, by how it finally ended (succeeded or failed); canceled and skipped
    steps do not count.
    """
    model = func.coalesce(StepRun.routed_model, StepRun.model, literal(default))
    query = (
        select(
            model,
            StepRun.agent,
            func.count(),
            func.sum(case((StepRun.status == "succeeded", 1), else_=0)),
        )
        .where(
            StepRun.ended_at >= since,
            StepRun.agent.startswith(LLM_PREFIX, autoescape=True),
            StepRun.status.in_(("succeeded", "failed")),
            # A step that succeeded with no model of its own was reused by a rerun: its
            # model call happened in the earlier run, which counted it.
            ~and_(
                StepRun.status == "succeeded",
                StepRun.routed_model.is_(None),
                StepRun.model.is_(None),
            ),
            *([] if until is None else [StepRun.ended_at < until]),
        )
        .group_by(model, StepRun.agent)
    )
    return [
        (str(name), str(agent).removeprefix(LLM_PREFIX), int(steps), int(succeeded or 0))
        for name, agent, steps, succeeded in session.execute(query)
    ]
