"""Document studio: how long the local writer takes to write every kind of a 20-task mission.

Run: `.venv/bin/python bench/documents.py [--rounds 7]` (SQLite in a temporary directory, and
PostgreSQL too when MISSIONCTL_BENCH_POSTGRES_URL names a server). It plans one mission with the
local planner, widened to 20 tasks (the local plan's tasks, then copies that depend on the one
before, in the last phase), adds a risk and a decision to its register, then, each round,
generates all seven kinds through ``services.usecases.documents.generate_document`` with no model:
the sources read, the Markdown written, the version stored with its event. Two ways: all seven
in one call of ``generate_documents`` (what `missionctl docs generate MISSION` does: one reading
of the sources, one transaction), and one ``generate_document`` call per kind (what seven
clicks or API requests do). Prints one JSON line per database: the median, fastest and slowest
round of each way in milliseconds, and each kind's median. Target: all seven under 1 s.
"""

import argparse
import asyncio
import dataclasses
import json
import statistics
import time
import uuid

from _databases import backends
from missionctl.planning import LocalPlanner
from missionctl.planning.base import PlannerResult, PlanningInput
from missionctl.schemas.documents import DOCUMENT_KINDS
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.register import DecisionCreate, RiskCreate
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases.decision_log import add_decision
from missionctl.services.usecases.documents import generate_document, generate_documents
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.plans import plan_mission
from missionctl.services.usecases.risk_register import add_risk
from missionctl.settings import Settings

TASKS = 20
ACTOR = "user:bench"
GOAL = (
    "Build a URL shortener with click analytics, custom aliases, QR codes, team workspaces "
    "and an admin console, using FastAPI and PostgreSQL"
)


class WidePlanner:
    """The local planner's plan, widened to ``TASKS`` tasks."""

    async def plan(self, mission: PlanningInput) -> PlannerResult:
        result = await LocalPlanner().plan(mission)
        draft = result.draft
        tasks = list(draft.tasks)
        while len(tasks) < TASKS:
            last = tasks[-1]
            n = len(tasks) + 1
            tasks.append(
                last.model_copy(
                    update={"key": f"extra-{n:02d}", "title": f"{last.title} (part {n})",
                            "depends_on": [last.key]}
                )
            )  # fmt: skip
        phases = list(draft.phases)
        extra = [t.key for t in tasks[len(draft.tasks) :]]
        phases[-1] = phases[-1].model_copy(update={"task_keys": phases[-1].task_keys + extra})
        widened = draft.model_copy(update={"tasks": tasks, "phases": phases})
        return dataclasses.replace(result, draft=widened)


async def _mission(ctx: ServiceContext) -> uuid.UUID:
    mission = await create_mission(ctx, data=MissionCreate(goal=GOAL), actor=ACTOR)
    await plan_mission(ctx, mission_id=mission.id, actor=ACTOR, planner=WidePlanner())  # type: ignore[arg-type]
    await add_risk(
        ctx,
        mission_id=mission.id,
        actor=ACTOR,
        data=RiskCreate(
            title="Alias squatting", description="People reserve famous aliases.",
            severity="high", likelihood="medium", mitigation="Keep a deny list.",
        ),
    )  # fmt: skip
    await add_decision(
        ctx,
        mission_id=mission.id,
        actor=ACTOR,
        data=DecisionCreate(
            title="Aliases are case-insensitive", choice="Store them lower-cased.",
            reasons=["People type them by hand"],
        ),
    )  # fmt: skip
    return mission.id


def _summary(rounds: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(rounds), 1),
        "min_ms": round(min(rounds), 1),
        "max_ms": round(max(rounds), 1),
    }


async def measure(name: str, settings: Settings, rounds: int) -> dict[str, object]:
    async with open_context(settings) as ctx:
        mission_id = await _mission(ctx)
        per_kind: dict[str, list[float]] = {kind: [] for kind in DOCUMENT_KINDS}
        together: list[float] = []
        one_by_one: list[float] = []
        for _ in range(rounds + 1):  # the first round warms up and is not counted
            started = time.perf_counter()
            await generate_documents(
                ctx, mission_id=mission_id, kinds=DOCUMENT_KINDS, actor=ACTOR, llm=None
            )
            together.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            for kind in DOCUMENT_KINDS:
                begun = time.perf_counter()
                await generate_document(
                    ctx, mission_id=mission_id, kind=kind, actor=ACTOR, llm=None
                )
                per_kind[kind].append((time.perf_counter() - begun) * 1000)
            one_by_one.append((time.perf_counter() - started) * 1000)
    return {
        "bench": "documents",
        "database": name,
        "tasks": TASKS,
        "kinds": len(DOCUMENT_KINDS),
        "rounds": rounds,
        "all_kinds_in_one_call": _summary(together[1:]),
        "all_kinds_one_call_each": _summary(one_by_one[1:]),
        "per_kind_median_ms": {k: round(statistics.median(v[1:]), 1) for k, v in per_kind.items()},
        "target_ms": 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="Rounds counted (default 7).")
    args = parser.parse_args()
    for name, settings in backends():
        print(json.dumps(asyncio.run(measure(name, settings, args.rounds))))


if __name__ == "__main__":
    main()
