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

Two more come from facts a follower of the log derives (ADR 0117):

- **Duplicated edits** are the lines a coding step changed that an earlier coding step of the
  same mission had changed already (``domain.edits``): rework, or two steps on one spot.
- **Groundwork first** is the share of implementation tasks whose work started with their PRD,
  their task list and, when the spec policy asks for one, an approved mini-spec already there.
  A PRD is a ``prd`` document of the mission, or an earlier step of the run in a "PRD" phase
  that succeeded; a task list is the plan's tasks, an ``engineering_plan`` document, or an
  earlier step in a "Task list" phase that succeeded.
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

PRD_DOCUMENTS: Final = ("prd",)
TASK_LIST_DOCUMENTS: Final = ("engineering_plan",)
PRD_PHASES: Final = frozenset({"prd"})
TASK_LIST_PHASES: Final = frozenset({"task list"})
"""Phases whose succeeded steps write the PRD or the task list (compared case-folded)."""

Missing = Literal["prd", "task_list", "spec"]
MISSING: Final[tuple[Missing, ...]] = ("prd", "task_list", "spec")

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
    figures = by_workflow(runs, lambda run: run.workflow, clean_runs)
    return sorted(figures, key=lambda item: -item[1].ended)


@dataclass(frozen=True, slots=True)
class Edits:
    """Coding steps' diffs recorded on one day, of one workflow, counted.

    ``steps`` diffs changed ``lines`` lines, of which ``repeated`` an earlier coding step of
    their mission had changed; ``steps_repeating`` of the diffs repeated at least one.
    """

    edited_on: date
    workflow: str
    steps: int
    lines: int
    repeated: int
    steps_repeating: int


@dataclass(frozen=True, slots=True)
class DuplicatedEdits:
    """Of ``lines`` changed by ``steps`` coding steps, ``duplicated`` had been changed before."""

    steps: int = 0
    lines: int = 0
    duplicated: int = 0
    steps_repeating: int = 0

    @property
    def share(self) -> float | None:
        """``duplicated`` over ``lines``; ``None`` when no line changed."""
        return None if self.lines == 0 else self.duplicated / self.lines


def duplicated_edits(edits: Iterable[Edits]) -> DuplicatedEdits:
    """The duplicated-edit figures of ``edits``."""
    steps = lines = repeated = repeating = 0
    for edit in edits:
        steps += edit.steps
        lines += edit.lines
        repeated += edit.repeated
        repeating += edit.steps_repeating
    return DuplicatedEdits(steps, lines, repeated, repeating)


def duplicated_edits_by_bucket(
    edits: Iterable[Edits], since: date, until: date, grain: Grain
) -> list[tuple[date, DuplicatedEdits]]:
    """Each bucket of ``since``…``until`` with the figures of the diffs recorded in it."""
    return _by_bucket(edits, lambda edit: edit.edited_on, duplicated_edits, since, until, grain)


@dataclass(frozen=True, slots=True)
class Groundwork:
    """What an implementation task had when its work started.

    ``spec_required``: the spec policy marks the task; ``spec``: an approved mini-spec of it
    came first (counted only where one was required).
    """

    prd: bool
    task_list: bool
    spec_required: bool = False
    spec: bool = False

    @property
    def missing(self) -> frozenset[Missing]:
        """What it lacked."""
        lacked = {"prd": not self.prd, "task_list": not self.task_list}
        lacked["spec"] = self.spec_required and not self.spec
        return frozenset(kind for kind in MISSING if lacked[kind])


@dataclass(frozen=True, slots=True)
class WorkStarted:
    """``tasks`` implementation tasks whose work started on one day, in one workflow, alike."""

    started_on: date
    workflow: str
    groundwork: Groundwork
    tasks: int = 1


@dataclass(frozen=True, slots=True)
class GroundworkFirst:
    """Of ``started`` tasks, ``prepared`` had all their groundwork; ``missing`` counts each lack.

    ``specs_required``: the tasks the spec policy asked a mini-spec of.
    """

    started: int = 0
    prepared: int = 0
    specs_required: int = 0
    missing: dict[str, int] = field(default_factory=dict)

    @property
    def share(self) -> float | None:
        """``prepared`` over ``started``; ``None`` when no work started."""
        return None if self.started == 0 else self.prepared / self.started


def groundwork_first(starts: Iterable[WorkStarted]) -> GroundworkFirst:
    """The groundwork figures of ``starts``; ``missing`` names every kind, zeros included."""
    started = prepared = required = 0
    missing: Counter[str] = Counter(dict.fromkeys(MISSING, 0))
    for start in starts:
        lacked = start.groundwork.missing
        started += start.tasks
        prepared += 0 if lacked else start.tasks
        required += start.tasks if start.groundwork.spec_required else 0
        missing.update(dict.fromkeys(lacked, start.tasks))
    return GroundworkFirst(started, prepared, required, dict(missing))


def groundwork_first_by_bucket(
    starts: Iterable[WorkStarted], since: date, until: date, grain: Grain
) -> list[tuple[date, GroundworkFirst]]:
    """Each bucket of ``since``…``until`` with the figures of the work started in it."""
    return _by_bucket(starts, lambda s: s.started_on, groundwork_first, since, until, grain)


def by_workflow(
    items: Iterable[T], workflow_of: Callable[[T], str], figures: Callable[[list[T]], F]
) -> list[tuple[str, F]]:
    """``figures`` of each workflow's ``items``, by workflow name."""
    grouped: dict[str, list[T]] = defaultdict(list)
    for item in items:
        grouped[workflow_of(item)].append(item)
    return sorted(
        ((name, figures(group)) for name, group in grouped.items()), key=lambda item: item[0]
    )


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
