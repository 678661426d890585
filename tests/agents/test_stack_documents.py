"""The documents a run writes speak the stack the user named and keep the constraint.

For the six stacks of ``tests/planning/test_fidelity_stacks.py`` (goals of that file's own:
embedded C over LoRaWAN, Kotlin, Flutter, Go, Rust, dbt on BigQuery), the mission is planned
through the service and its documents are written as a run writes them: each task's builtin
specialist with its upstream results, the document studio's PRD (no model), and the execution
pack. Checked on every one of them: no file name or tool of another stack, the constraint
quoted with its figure where every task sees it, and no record or endpoint made from the
constraint's words.
"""

import re
from collections.abc import Iterator

import pytest

from missionctl.planning import LocalPlanner
from missionctl.planning.base import PlanningInput
from missionctl.schemas.missions import MissionCreate
from missionctl.services import ServiceContext
from missionctl.services.usecases.documents import generate_document
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.packs import build_pack
from missionctl.services.usecases.plans import plan_mission
from tests.agents.test_specialists import documents, run_plan
from tests.planning.fidelity import content_words, text_contradictions
from tests.planning.test_fidelity_stacks import STACK_GOALS

ACTOR = "user:test"
IDS = ["c", "kotlin", "flutter", "go", "rust", "sql"]
# What each stack's documents must say, in the stack's own words.
STACK_WORDS = {
    "c": ["typedef struct", "uint32_t", "LoRaWAN"],
    "kotlin": [".kt", "Kotlin"],
    "flutter": [".dart", "Flutter"],
    "go": [".go", "go test"],
    "rust": [".rs", "cargo"],
    "sql": ["dbt", ".sql", "BigQuery", "INT64"],
}
_RECORD = re.compile(r"^#{2,3} (?P<name>.+?) (?:record|\(`)", re.MULTILINE)
_ENDPOINT = re.compile(r"/api/v\d/[\w{}/-]+")


async def written(ctx: ServiceContext, goal: str) -> tuple[PlanningInput, dict[str, str]]:
    """The mission as the user said it, and every document its run writes, by name."""
    constraint, _ = STACK_GOALS[goal]
    mission = await create_mission(
        ctx, data=MissionCreate(goal=goal, constraints=[constraint]), actor=ACTOR
    )
    await plan_mission(ctx, mission_id=mission.id, actor=ACTOR, planner=LocalPlanner())
    prd = await generate_document(ctx, mission_id=mission.id, kind="prd", actor=ACTOR, llm=None)
    pack = await build_pack(ctx, mission_id=mission.id)
    docs = documents(await run_plan(goal, constraints=[constraint]))
    docs["prd"] = prd.body
    docs.update({f"pack/{f.path}": f.content.decode() for f in pack.files})
    said = PlanningInput(title=mission.title, goal=goal, constraints=(constraint,))
    return said, docs


def records_and_endpoints(docs: dict[str, str]) -> Iterator[str]:
    """The records of data models and the paths of API contracts, as written."""
    for name, text in docs.items():
        if name.endswith("data-model.md"):
            yield from (m.group("name") for m in _RECORD.finditer(text))
        if name.endswith("api-contract.md"):
            yield from _ENDPOINT.findall(text)


@pytest.mark.parametrize("goal", list(STACK_GOALS), ids=IDS)
async def test_a_runs_documents_speak_the_stack_and_keep_the_constraint(
    ctx: ServiceContext, goal: str
) -> None:
    said, docs = await written(ctx, goal)
    constraint, figure = STACK_GOALS[goal]
    stack = IDS[list(STACK_GOALS).index(goal)]

    everything = "\n".join(docs.values())
    for word in STACK_WORDS[stack]:
        assert word in everything, f"no {word!r} in the {stack} documents"
    wrong = {name: text_contradictions(text, said) for name, text in docs.items()}
    assert {name: found for name, found in wrong.items() if found} == {}

    # The constraint, figure and all, where the product owner and every task read it.
    assert constraint in docs["prd"] and figure in docs["prd"]
    assert constraint in docs["pack/AGENTS.md"]
    # The stack the goal fixed is a given for the coding agent, not a question for the owner.
    assert "The mission names its stack" in docs["pack/AGENTS.md"]
    assert "confirm the stack" not in docs["pack/AGENTS.md"]
    task_files = [text for name, text in docs.items() if name.startswith("pack/tasks/")]
    assert task_files and all(constraint in text for text in task_files)

    # No record or endpoint named after the constraint ("Year", "/api/v1/cells").
    bound = content_words(constraint) - content_words(goal)
    made = [name for name in records_and_endpoints(docs) if content_words(name) & bound]
    assert made == []


async def test_firmware_keeps_records_on_the_device_and_talks_over_the_radio_it_names(
    ctx: ServiceContext,
) -> None:
    goal = next(iter(STACK_GOALS))
    _, docs = await written(ctx, goal)
    model = docs["data-model.md"]
    assert "Records on the device" in model and "moisture_pct" in model
    assert "uuid" not in model and "timestamptz" not in model and "| Table |" not in model
    assert "51 bytes per uplink" in model  # the record is sized against a LoRaWAN message
    everything = "\n".join(docs.values())
    assert not re.search(r"\bBLE\b|GATT", everything)  # the link it names, not the default
    assert "/api/v1" not in everything  # a device has no HTTP API
    assert "Minute" not in model  # "every 15 minutes" is a cadence, not a record


async def test_a_watch_app_whose_battery_must_last_keeps_app_records_not_device_ones() -> None:
    # "battery" and "log" are firmware words; the reading's kind, a mobile app, decides.
    docs = documents(
        await run_plan(
            "Build a Kotlin Wear OS app for lifeguards to log rescues and alert the beach "
            "office, working offline for 12 hours",
            constraints=["The battery must last a 10-hour shift"],
        )
    )
    model = docs["data-model.md"]
    assert "Records on the device" not in model and "uint32_t" not in model
    assert "Rescue" in model
    # A habit tracker is no browser extension either.
    habits = documents(await run_plan("Build a web app that is a habit tracker with streaks"))
    everything = "\n".join(habits.values())
    assert "Content script" not in everything and "extension installed" not in everything
