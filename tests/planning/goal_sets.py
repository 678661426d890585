"""The two halves of the planner's goals, and the goal-line format they share.

- **Tuning** (what the local planner may be tuned against): ``tests/planning/goals.txt`` (with
  the two product briefs' constraints and context from :mod:`tests.planning.helpers`) and
  ``bench/plan_quality_goals.txt``.
- **Held-out** (never tuned against; only measured): ``bench/plan_fidelity_goals.txt``.

A goal line is ``goal | constraint: … | repo_context: … | kind: …``: ``constraint`` may repeat,
``kind`` tags a held-out goal with its kind of software and is not part of the mission.
Lines that are empty or start with ``#`` are comments.
"""

from dataclasses import dataclass
from pathlib import Path

from missionctl.planning.base import PlanningInput
from tests.planning.helpers import GOALS, GOALS_FILE, SEED_000, SEED_001, mission

ROOT = Path(__file__).resolve().parents[2]
BENCH_GOALS_FILE = ROOT / "bench" / "plan_quality_goals.txt"
HELD_OUT_FILE = ROOT / "bench" / "plan_fidelity_goals.txt"
TUNING_FILES = (GOALS_FILE, BENCH_GOALS_FILE)
FIELDS = ("constraint", "repo_context", "kind")
HELD_OUT_KINDS = (
    "firmware",
    "jvm",
    "mobile",
    "go",
    "rust",
    "data",
    "migration",
    "regulated",
    "game",
    "ml",
    "infrastructure",
)
"""The kinds of software the held-out half must hold, as its ``kind:`` fields name them."""


@dataclass(frozen=True, slots=True)
class GoalLine:
    """One parsed goal line: the mission, and its ``kind`` tag ("" when untagged)."""

    mission: PlanningInput
    kind: str = ""


def parse_goal_line(line: str) -> GoalLine:
    """The mission and kind of ``goal | constraint: … | repo_context: … | kind: …``.

    Raises:
        ValueError: a field is not one of :data:`FIELDS`, or ``kind`` is not one of
            :data:`HELD_OUT_KINDS`.
    """
    goal, *fields = (part.strip() for part in line.split(" | "))
    constraints: list[str] = []
    values = {"repo_context": "", "kind": ""}
    for field in fields:
        name, colon, value = field.partition(":")
        if not colon or name.strip() not in FIELDS:
            raise ValueError(f"unknown field {field!r} in {line!r}: use one of {FIELDS}")
        if name.strip() == "constraint":
            constraints.append(value.strip())
        else:
            values[name.strip()] = value.strip()
    if values["kind"] and values["kind"] not in HELD_OUT_KINDS:
        raise ValueError(f"kind {values['kind']!r} in {line!r}: use one of {HELD_OUT_KINDS}")
    return GoalLine(
        mission(goal, *constraints, repo_context=values["repo_context"]), values["kind"]
    )


def read_goal_file(path: Path) -> list[GoalLine]:
    """The goal lines of ``path``, comments and blank lines skipped, in file order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [parse_goal_line(line) for line in lines if line.strip() and not line.startswith("#")]


def tuning_missions() -> list[PlanningInput]:
    """The tuning half: the fixture goals (the seeds with their context), then the bench's."""
    seeds = {SEED_000.goal: SEED_000, SEED_001.goal: SEED_001}
    fixtures = [seeds.get(goal) or mission(goal) for goal in GOALS]
    return fixtures + [line.mission for line in read_goal_file(BENCH_GOALS_FILE)]


def held_out_lines() -> list[GoalLine]:
    """The held-out half, with each goal's kind."""
    return read_goal_file(HELD_OUT_FILE)


def goal_key(goal: str) -> str:
    """How two goals are compared: case, spacing and final punctuation ignored."""
    return " ".join(goal.lower().split()).rstrip(".!")
