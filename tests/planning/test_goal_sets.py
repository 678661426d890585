"""The two halves of the planner's goals: which file is which, and that they stay apart.

Tuning half (the local planner may be tuned against it): ``tests/planning/goals.txt`` and
``bench/plan_quality_goals.txt``. Held-out half (measured, never tuned against):
``bench/plan_fidelity_goals.txt``. ``bench/plan_fidelity.py`` prints the fidelity figures of
each half and the gap between them.
"""

import pytest

from missionctl.reading import find_technologies
from tests.planning.fidelity import figures
from tests.planning.goal_sets import (
    BENCH_GOALS_FILE,
    HELD_OUT_FILE,
    HELD_OUT_KINDS,
    ROOT,
    TUNING_FILES,
    goal_key,
    held_out_lines,
    parse_goal_line,
    tuning_missions,
)

MIN_HELD_OUT = 40


def test_the_files_of_each_half() -> None:
    assert [f.relative_to(ROOT).as_posix() for f in TUNING_FILES] == [
        "tests/planning/goals.txt",
        "bench/plan_quality_goals.txt",
    ]
    assert BENCH_GOALS_FILE in TUNING_FILES
    assert HELD_OUT_FILE.relative_to(ROOT).as_posix() == "bench/plan_fidelity_goals.txt"
    assert all(f.is_file() for f in (*TUNING_FILES, HELD_OUT_FILE))


def test_the_held_out_half_is_large_enough_and_its_own() -> None:
    held_out = [goal_key(line.mission.goal) for line in held_out_lines()]
    tuning = {goal_key(m.goal) for m in tuning_missions()}

    assert len(held_out) >= MIN_HELD_OUT
    assert len(set(held_out)) == len(held_out), "a held-out goal is listed twice"
    assert not tuning & set(held_out), "a goal is in both halves"


def test_every_kind_is_held_out() -> None:
    kinds = {line.kind for line in held_out_lines()}

    assert kinds == set(HELD_OUT_KINDS)


def test_every_held_out_goal_says_a_figure_or_a_standard_and_most_name_a_stack() -> None:
    lines = held_out_lines()

    assert [line.mission.goal for line in lines if not figures(line.mission.goal)] == []
    naming = [line for line in lines if find_technologies(line.mission.goal)]
    assert len(naming) > len(lines) // 2


def test_kind_is_a_tag_not_part_of_the_mission() -> None:
    line = parse_goal_line("Build a Go API | constraint: p99 under 50 ms | kind: go")

    assert line.kind == "go"
    assert line.mission.goal == "Build a Go API"
    assert line.mission.constraints == ("p99 under 50 ms",)


@pytest.mark.parametrize("line", ["Build it | size: big", "Build it | kind: opera"])
def test_an_unknown_field_or_kind_is_refused(line: str) -> None:
    with pytest.raises(ValueError, match="use one of"):
        parse_goal_line(line)
