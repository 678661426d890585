"""A run's data model and API contract give records the fields the goal's own words imply.

Goals of this file's own, planned through the service and written as a run writes them (each
task's builtin specialist with its upstream results, the PRD and the execution pack): a part
points at its whole and is listed under it, a value is a typed field, people are a
reference, and nothing comes from the constraint's words.
"""

import re

from missionctl.planning import LocalPlanner
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.plans import PlanRead
from missionctl.services import ServiceContext
from missionctl.services.usecases.documents import generate_document
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.packs import build_pack
from missionctl.services.usecases.plans import plan_mission, read_plan
from tests.agents.test_specialists import documents, run_plan

ACTOR = "user:test"
LOGBOOK = "Build a mountain hut logbook where wardens record entries with weather notes"
LOGBOOK_BOUND = "entries are kept for 10 years at no extra cost"
VINEYARD = "Build a REST API for a vineyard: parcels with vines, harvests with weights and dates"
VINEYARD_BOUND = "p95 under 200 ms"


async def written(
    ctx: ServiceContext, goal: str, constraint: str
) -> tuple[PlanRead, dict[str, str]]:
    """The stored plan of the mission, and every document its run writes, by name."""
    mission = await create_mission(
        ctx, data=MissionCreate(goal=goal, constraints=[constraint]), actor=ACTOR
    )
    await plan_mission(ctx, mission_id=mission.id, actor=ACTOR, planner=LocalPlanner())
    plan = await read_plan(ctx, mission_id=mission.id)
    prd = await generate_document(ctx, mission_id=mission.id, kind="prd", actor=ACTOR, llm=None)
    pack = await build_pack(ctx, mission_id=mission.id)
    docs = documents(await run_plan(goal, constraints=[constraint]))
    docs["prd"] = prd.body
    docs.update({f"pack/{f.path}": f.content.decode() for f in pack.files})
    return plan, docs


def rows(model: str, entity: str) -> dict[str, tuple[str, str]]:
    """The fields of ``entity`` in a data model: name → (type, notes)."""
    section = model.split(f"### {entity} (`")[1].split("###")[0].split("## ")[0]
    found = re.findall(r"^\| (\w+) \| ([^|]+) \| ([^|]*) \|$", section, re.MULTILINE)
    return {name: (kind.strip(), notes.strip()) for name, kind, notes in found}


async def test_a_logbook_s_entries_are_its_own_and_say_which_warden_wrote_them(
    ctx: ServiceContext,
) -> None:
    plan, docs = await written(ctx, LOGBOOK, LOGBOOK_BOUND)

    # The stored plan keeps the clause as the wardens' task, and covers every clause.
    assert "Let wardens record entries" in {task.title for task in plan.tasks}
    assert plan.clauses and all(clause.covered for clause in plan.clauses)
    model = docs["data-model.md"]
    entry = rows(model, "Entry")
    assert entry["hut_logbook_id"] == ("uuid", "→ Hut logbook that has it")
    assert entry["warden_id"] == ("uuid", "→ Warden who records it")
    assert entry["recorded_at"][0] == "timestamptz" and "recorded_by" not in entry
    assert "notes" in entry and "| Weather note |" not in model
    assert (
        "- Hut logbook → Entry: one-to-many via `entries.hut_logbook_id` (a hut logbook has "
        "many entries)"
    ) in model
    assert rows(model, "Warden")["email"][1].startswith("personal data")
    # The constraint's words make no record and no field anywhere a run writes.
    everything = "\n".join(docs.values())
    assert "cost_cents" not in everything and "### Cost" not in everything
    assert LOGBOOK_BOUND in docs["pack/AGENTS.md"] and LOGBOOK_BOUND in docs["prd"]


async def test_a_contract_nests_parts_under_their_whole_and_types_their_values(
    ctx: ServiceContext,
) -> None:
    _, docs = await written(ctx, VINEYARD, VINEYARD_BOUND)

    model = docs["data-model.md"]
    assert rows(model, "Vine")["parcel_id"] == ("uuid", "→ Parcel that has it")
    harvest = rows(model, "Harvest")
    assert harvest["weight_grams"][0] == "integer" and harvest["date"][0] == "date"
    assert "### Weight (" not in model and "### Date (" not in model
    contract = docs["api-contract.md"]
    assert "| POST | /api/v1/parcels/{parcel_id}/vines | Create a vine |" in contract
    assert "/api/v1/weights" not in contract and "/api/v1/dates" not in contract
