"""Write a simulated history (``tests/analytics/history.py``) into the analytics facts.

A history of months needs chosen days, which appends cannot give (the log dates events at the
database's clock), so the fact rows are written with the follower's own upsert and day sums,
as ``test_repository.py`` does; the detector then reads them as it reads any facts.
"""

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from missionctl.domain.analytics import RunFact
from missionctl.domain.anomalies import Cohorts, DayFigures
from missionctl.repositories import analytics as repo
from missionctl.services import ServiceContext


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def _runs(day: date, figures: DayFigures) -> list[RunFact]:
    """The day's runs: completed first, then failed; the first carries the day's spend."""
    noon = _noon(day)
    runs = []
    for n in range(figures.runs_started):
        ended = n < figures.runs_ended
        runs.append(
            RunFact(
                run_id=f"{day.isoformat()}-{n:04d}",
                mission_id=None,
                owner=None,
                workflow="ship",
                created_at=noon,
                started_at=noon,
                ended_at=noon + timedelta(seconds=60 + n) if ended else None,
                status=("completed" if n < figures.runs_completed else "failed")
                if ended
                else "running",
                cost_micros=round(figures.cost_usd * 1_000_000) if n == 0 else 0,
                tokens=figures.tokens if n == 0 else 0,
            )
        )
    return runs


def _people(cohorts: Cohorts) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """People rows of each cohort, and the active days of those who came back."""
    people, active = [], []
    for start, size in cohorts.sizes.items():
        first = datetime(start.year, start.month, start.day, 9, tzinfo=UTC)
        names = [f"c{start:%Y%m%d}-{n}" for n in range(size)]
        people += [
            {"name": name, "missions": 1, "mission_at": first, "mission_week": start}
            for name in names
        ]
        for (cohort, week), returned in cohorts.returned.items():
            if cohort == start:
                active += [
                    {"day": week + timedelta(days=2), "user_name": name, "week": week}
                    for name in names[:returned]
                ]
    return people, active


NO_COHORTS = Cohorts()


async def write_history(
    ctx: ServiceContext, days: dict[date, DayFigures], cohorts: Cohorts = NO_COHORTS
) -> None:
    """Write ``days`` and ``cohorts`` as facts: runs (with their day sums), people, activity."""

    def write(session: Session) -> None:
        runs = [run for day, figures in days.items() for run in _runs(day, figures)]
        repo._upsert(session, repo.runs, [repo._run_row(run) for run in runs])
        repo._refresh_run_days(session, set(days))
        active = [
            {"day": day, "user_name": f"u{n}", "week": day - timedelta(days=day.weekday())}
            for day, figures in days.items()
            for n in range(figures.active_users)
        ]
        people, returns = _people(cohorts)
        repo._upsert(session, repo.people, people)
        repo._upsert(session, repo.active_days, active + returns, update=False)
        missions = [
            {"mission_id": f"{day}-{n}", "owner": None, "created_at": _noon(day), "day": day}
            for day, figures in days.items()
            for n in range(figures.missions_created)
        ]
        repo._upsert(session, repo.missions, missions)

    await ctx.write_blocking(write)
