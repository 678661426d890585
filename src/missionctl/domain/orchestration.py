"""How well orchestration goes by itself: runs that needed no hand, missions' time to start.

Pure figures over facts the repository reads (ADR 0116):

- **A run needed a manual fix-up** when, after it started, a person retried one of its steps
  (``step.retried``: the engine's own retries are ``step.retry_scheduled``), someone reran it
  or it is itself a rerun (``rerun_of``: a rerun is someone's hand on a run that went wrong,
  and also how a run's inputs are changed, since they are never edited in place), or a merge
  in it was rejected (``approval.rejected`` of a ``git:merge`` step). **Clean runs** are those
  that completed and needed none; their share is over the runs that ended (completed, failed,
  canceled or aborted).
- **Time to bootstrap** is a mission's time from being created to its first run starting:
  Mission Control records no separate approval of a plan, so putting the plan to work is when
  it was accepted. A mission whose plan never ran is counted as not bootstrapped.
"""

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Final, Literal, TypeVar

from missionctl.domain.analytics import Grain, bucket_of, bucket_starts

T = TypeVar("T")
F = TypeVar("F")

FixUp = Literal["retried", "rerun", "merge_rejected"]
FIX_UPS: Final[tuple[FixUp, ...]] = ("retried", "rerun", "merge_rejected")


@dataclass(frozen=True, slots=True)
class EndedRun:
    """Runs that ended: the day, their workflow, whether they completed, their fix-ups.

    ``runs``: how many runs share all of these (one, or a count the database made).
    """

    ended_on: date
    workflow: str
    completed: bool
    fix_ups: frozenset[FixUp] = frozenset()
    runs: int = 1

    @property
    def clean(self) -> bool:
        """Completed, and no one had to lend a hand."""
        return self.completed and not self.fix_ups


@dataclass(frozen=True, slots=True)
class CleanRuns:
    """Of ``ended`` runs, ``clean`` completed with no fix-up; ``fixes`` counts each kind."""

    ended: int = 0
    clean: int = 0
    fixes: dict[str, int] = field(default_factory=dict)

    @property
    def share(self) -> float | None:
        """``clean`` over ``ended``, as a fraction; ``None`` when none ended."""
        return None if self.ended == 0 else self.clean / self.ended


def clean_runs(runs: Iterable[EndedRun]) -> CleanRuns:
    """The clean-run figures of ``runs``; ``fixes`` names every kind, zeros included."""
    ended = clean = 0
    fixes: Counter[str] = Counter(dict.fromkeys(FIX_UPS, 0))
    for run in runs:
        ended += run.runs
        clean += run.runs if run.clean else 0
        fixes.update(dict.fromkeys(run.fix_ups, run.runs))
    return CleanRuns(ended=ended, clean=clean, fixes=dict(fixes))


@dataclass(frozen=True, slots=True)
class MissionStart:
    """A mission: the day it was created, and the hours to its first run's start (or none)."""

    created_on: date
    hours_to_first_run: float | None


@dataclass(frozen=True, slots=True)
class Bootstrap:
    """Of ``missions`` created, ``bootstrapped`` started a run; hours to it, median and p90."""

    missions: int = 0
    bootstrapped: int = 0
    median_hours: float | None = None
    p90_hours: float | None = None


def bootstrap(starts: Sequence[MissionStart]) -> Bootstrap:
    """The time-to-bootstrap figures of the missions in ``starts``."""
    hours = sorted(s.hours_to_first_run for s in starts if s.hours_to_first_run is not None)
    if not hours:
        return Bootstrap(missions=len(starts))
    return Bootstrap(
        missions=len(starts),
        bootstrapped=len(hours),
        median_hours=round(statistics.median(hours), 2),
        p90_hours=round(_nearest_rank(hours, 0.9), 2),
    )


def clean_runs_by_bucket(
    runs: Iterable[EndedRun], since: date, until: date, grain: Grain
) -> list[tuple[date, CleanRuns]]:
    """Each bucket of ``since``…``until`` with the figures of the runs that ended in it."""
    return _by_bucket(runs, lambda run: run.ended_on, clean_runs, since, until, grain)


def bootstrap_by_bucket(
    starts: Iterable[MissionStart], since: date, until: date, grain: Grain
) -> list[tuple[date, Bootstrap]]:
    """Each bucket of ``since``…``until`` with the figures of the missions created in it."""
    return _by_bucket(starts, lambda start: start.created_on, bootstrap, since, until, grain)


def clean_runs_by_workflow(runs: Iterable[EndedRun]) -> list[tuple[str, CleanRuns]]:
    """Each workflow with a run that ended, and its figures; most runs first, then by name."""
    by_workflow: dict[str, list[EndedRun]] = defaultdict(list)
    for run in runs:
        by_workflow[run.workflow].append(run)
    figures = [(name, clean_runs(group)) for name, group in by_workflow.items()]
    return sorted(figures, key=lambda item: (-item[1].ended, item[0]))


def _by_bucket(
    items: Iterable[T],
    day_of: Callable[[T], date],
    figures: Callable[[list[T]], F],
    since: date,
    until: date,
    grain: Grain,
) -> list[tuple[date, F]]:
    """Every bucket of the range, an empty one included, with ``figures`` of its items."""
    grouped: dict[date, list[T]] = defaultdict(list)
    for item in items:
        grouped[bucket_of(day_of(item), grain)].append(item)
    return [
        (start, figures(grouped.get(start, []))) for start in bucket_starts(since, until, grain)
    ]


def _nearest_rank(ordered: Sequence[float], share: float) -> float:
    """The value at ``share`` of ``ordered`` by the nearest-rank method (one of its values)."""
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]
