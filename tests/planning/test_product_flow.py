"""The product flow: a user's journey drawn from the mission's own words, in their order."""

import re
import string
from itertools import pairwise

import pytest
from pydantic import TypeAdapter

from missionctl.domain.diagram_svg import render_svg
from missionctl.domain.diagrams import MAX_GROUPS, Component, diagram_problems
from missionctl.planning.base import PlanningInput
from missionctl.planning.local import build_local_plan
from missionctl.planning.product_flow import (
    RULES,
    FlowRules,
    _arrows,
    _rule_problems,
    draw_product_flow,
    flow_steps,
)
from missionctl.reading import normalise
from missionctl.schemas.plans import PlanDraft
from tests.planning.helpers import GOALS, mission

# Goals of five kinds, most of them not among the fixture goals.
SHORTENER = "Build a URL shortener with click analytics and custom aliases"
REPAIRS = (
    "A web app where tenants report repairs, landlords assign contractors and tenants rate the work"
)
LIBRARY_API = "An HTTP API for a public library: members, books and loans, with API keys"
PHOTO_CLI = "A command-line tool that converts HEIC photos to JPEG with progress bars"
WEATHER = (
    "An hourly data pipeline that ingests weather readings into ClickHouse and builds daily "
    "rainfall tables"
)
IRRIGATION = (
    "Firmware for a smart irrigation controller that reads soil moisture sensors, opens valves "
    "on a schedule and reports over LoRa"
)

EXPECTED = {
    SHORTENER: [
        ("Start", "Open the URL shortener"),
        ("Sign in", "Sign in"),
        ("Do", "Shorten a URL"),
        ("Share", "Share the short link"),
        ("Others", "Visitor follows the link"),
        ("Review", "See click analytics"),
    ],
    REPAIRS: [
        ("Start", "Open the web app"),
        ("Sign in", "Sign in"),
        ("Do", "Tenants report repairs"),
        ("Do", "Landlords assign contractors"),
        ("Others", "Tenants rate the work"),
    ],
    LIBRARY_API: [
        ("Sign in", "Sign in"),
        ("Do", "Manage members"),
        ("Do", "Manage books"),
        ("Do", "Manage loans"),
    ],
    PHOTO_CLI: [
        ("Start", "Install the command-line tool"),
        ("Do", "Convert HEIC photos to JPEG"),
        ("Do", "Progress bars"),
    ],
    WEATHER: [
        ("Start", "Hourly run starts"),
        ("Do", "Ingest weather readings into ClickHouse"),
        ("Do", "Build daily rainfall tables"),
    ],
    IRRIGATION: [
        ("Do", "Read soil moisture sensors"),
        ("Do", "Opens valves on a schedule"),
        ("Do", "Report over LoRa"),
    ],
}


def drawn(goal: str) -> tuple[PlanningInput, PlanDraft]:
    planning = PlanningInput(title=goal[:60], goal=goal)
    return planning, build_local_plan(planning)


def steps_of(goal: str) -> list[tuple[str, str]]:
    planning, plan = drawn(goal)
    diagram = draw_product_flow(planning, plan)
    return [(c.group, c.label) for c in diagram.components]


@pytest.mark.parametrize("goal", list(EXPECTED))
def test_each_kind_of_goal_gets_the_steps_its_words_name_in_their_order(goal: str) -> None:
    assert steps_of(goal) == EXPECTED[goal]


def test_the_shorteners_own_step_carries_what_qualifies_it_and_the_tasks_building_it() -> None:
    planning, plan = drawn(SHORTENER)
    diagram = draw_product_flow(planning, plan)
    boxes = {c.label: c for c in diagram.components}
    assert boxes["Shorten a URL"].technology == "with custom aliases"
    assert boxes["Shorten a URL"].tasks == ("custom-aliases",)
    assert boxes["See click analytics"].tasks == ("click-analytics",)
    assert "ui" in boxes["Open the URL shortener"].tasks
    # One step a stage: the steps are joined in order, left to right, one arrow each.
    keys = [c.key for c in diagram.components]
    assert [(a.source, a.target) for a in diagram.connections] == list(pairwise(keys))
    assert diagram.groups == ("Start", "Sign in", "Do", "Share", "Others", "Review")
    assert diagram.notes == ()


def test_arrows_fan_out_to_the_ways_through_a_stage_and_back_in() -> None:
    planning, plan = drawn(REPAIRS)
    diagram = draw_product_flow(planning, plan)
    label = {c.key: c.label for c in diagram.components}
    arrows = [(label[a.source], label[a.target]) for a in diagram.connections]
    assert arrows == [
        ("Open the web app", "Sign in"),
        ("Sign in", "Tenants report repairs"),
        ("Sign in", "Landlords assign contractors"),
        ("Tenants report repairs", "Tenants rate the work"),
        ("Landlords assign contractors", "Tenants rate the work"),
    ]
    # Between two stages of several steps each, row joins row.
    boxes = [
        Component(f"{g}{i}", f"{g}{i}", "", g) for g, n in (("a", 2), ("b", 3)) for i in range(n)
    ]
    pairs = [(c.source, c.target) for c in _arrows(boxes)]
    assert pairs == [("a0", "b0"), ("a1", "b1"), ("a1", "b2")]


def test_clauses_of_one_stage_keep_the_goals_order() -> None:
    forward = "A web app where tenants report repairs and landlords assign contractors"
    backward = "A web app where landlords assign contractors and tenants report repairs"
    do = [label for group, label in steps_of(forward) if group == "Do"]
    assert do == ["Tenants report repairs", "Landlords assign contractors"]
    do = [label for group, label in steps_of(backward) if group == "Do"]
    assert do == ["Landlords assign contractors", "Tenants report repairs"]


# Words the rules themselves may add: their labels, details and stage titles.
RULE_WORDS = {
    word.lower()
    for _, rule in RULES.all_step_rules()
    for template in (rule.label, rule.detail)
    for text, _, _, _ in string.Formatter().parse(template)
    for word in re.findall(r"[\w'-]+", text)
} | {
    word.lower()
    for text in (RULES.records.label, RULES.otherwise.detail)
    for word in re.findall(r"[\w'-]+", re.sub(r"\{\w+\}", " ", text))
}


def words(text: str) -> set[str]:
    return {word.lower() for word in re.findall(r"[\w'-]+", text)}


@pytest.mark.parametrize("goal", [*EXPECTED, *GOALS])
def test_no_step_says_anything_the_mission_and_its_plan_do_not(goal: str) -> None:
    planning, plan = drawn(goal)
    said = normalise(
        "\n".join(
            [
                planning.title,
                planning.goal,
                *(r.text for r in plan.requirements),
                *(t.title for t in plan.tasks),
            ]
        )
    ).lower()
    flow = flow_steps(planning, plan)
    for step in flow.steps:
        assert normalise(step.said).lower() in said, (step, goal[:60])
    diagram = draw_product_flow(planning, plan)
    known = words(said) | RULE_WORDS
    for box in diagram.components:
        # Plural forms and "an" are the only words a step may make of the mission's words.
        new = {w for w in words(box.label + " " + box.technology) - known if w != "an"}
        assert all(w.rstrip("s") in known or w + "s" in known for w in new), (box, goal[:60])


@pytest.mark.parametrize("goal", [*EXPECTED, *GOALS])
def test_every_flow_is_a_sound_bounded_diagram_of_its_own_plan(goal: str) -> None:
    planning, plan = drawn(goal)
    diagram = draw_product_flow(planning, plan)
    assert diagram_problems(diagram) == []
    assert 1 <= len(diagram.components) <= RULES.max_steps
    assert len(diagram.groups) <= MAX_GROUPS
    built = [key for c in diagram.components for key in c.tasks]
    assert len(built) == len(set(built)) and set(built) <= {t.key for t in plan.tasks}
    assert all(c.label and "{" not in c.label + c.technology for c in diagram.components)
    # Deterministic: the same mission and plan, read again, give the same drawing.
    again = draw_product_flow(PlanningInput(title=planning.title, goal=planning.goal), plan)
    assert again == diagram
    assert render_svg(again) == render_svg(diagram)


def test_a_mission_that_names_few_steps_gets_those_and_a_note_never_filler() -> None:
    planning, plan = drawn("Add single sign-on with OIDC to an existing Django monolith")
    diagram = draw_product_flow(planning, plan)
    assert [c.label for c in diagram.components] == ["Sign in"]
    assert "names only 1 step" in diagram.notes[0]

    for vague in ("Build an app", "Une application pour réserver des cours de yoga"):
        planning, plan = drawn(vague)
        diagram = draw_product_flow(planning, plan)
        assert len(diagram.components) == 1  # what it builds, and nothing invented
        assert "names no step of its users' journey" in diagram.notes[0]


def test_a_huge_goal_is_drawn_bounded() -> None:
    clauses = ", ".join(f"feature number {i} with a rather long name" for i in range(400))
    goal = f"Build a web app with {clauses}"[:10_000]
    planning, plan = drawn(goal)
    diagram = draw_product_flow(planning, plan)
    assert len(diagram.components) <= RULES.max_steps
    assert all(len(c.label) <= 60 and len(c.technology) <= 60 for c in diagram.components)
    assert any("more step(s) the mission names are not drawn" in n for n in diagram.notes)


def test_the_rules_file_is_checked_beyond_its_types() -> None:
    rule = {"stage": "nowhere", "words": "(", "label": "See {nothing}", "kinds": ["toaster"]}
    data = {
        "stages": [{"key": "a", "title": "A"}, {"key": "a", "title": "A again"}],
        "max_steps": 99,
        "steps_per_stage": 4,
        "few_steps": 3,
        "entries": [rule],
        "clauses": [],
        "actions": [],
        "verbs": ["Pay"],
        "people": [],
        "records": {"stage": "a", "label": "Manage {text}"},
        "otherwise": {"stage": "a", "detail": "with {details}"},
        "moments": [],
    }
    text = "\n".join(_rule_problems(TypeAdapter(FlowRules).validate_python(data)))
    assert "stages: 'a' is written twice" in text
    assert "max_steps: at most 24" in text
    assert "entries.0.stage: no stage 'nowhere'" in text
    assert "entries.0.words: not a regular expression" in text
    assert "entries.0.kinds: no kind 'toaster'" in text
    assert "entries.0.label: no placeholder {nothing}" in text
    assert "verbs: 'Pay' is not lower case" in text
    assert _rule_problems(RULES) == []


def test_the_fixture_goals_url_shortener_matches_the_planning_helper() -> None:
    # The planning helpers' missions carry a title of their own; the flow does not depend on it.
    planning = mission(GOALS[0])
    plan = build_local_plan(planning)
    labels = [c.label for c in draw_product_flow(planning, plan).components]
    assert labels == [label for _, label in EXPECTED[SHORTENER]]
