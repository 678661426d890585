"""A plan keeps the goal's constraints apart from its features: each requirement says which it
is, in the stored plan, on the command line, in the PRD and in the execution pack; plans stored
before requirements had kinds are classified by what their text shows."""

import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from typer.testing import CliRunner

from missionctl.cli import app
from missionctl.db import Database
from missionctl.db.migrate import downgrade_database, upgrade_database
from missionctl.documents.local import write_prd
from missionctl.planning.base import PlanningInput
from missionctl.planning.local import LocalPlanner
from missionctl.schemas.missions import MissionCreate
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases.documents import read_sources
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.packs import build_pack
from missionctl.services.usecases.plans import plan_mission, read_plan
from missionctl.services.usecases.reports import build_run_report, render_report_markdown
from missionctl.settings import DatabaseSettings, Settings
from tests.services.helpers import run_goal

# Not in the shared goal list: a stack, three features and constraints with figures.
GOAL = (
    "A Go service for a bike-sharing operator where riders unlock bikes by QR code, "
    "pay per minute and report damaged bikes"
)
CONSTRAINTS = ("p99 unlock latency under 300 ms", "runs on a single 2 GB VM")


async def _plan(ctx: ServiceContext):  # type: ignore[no-untyped-def]
    mission = await create_mission(
        ctx, data=MissionCreate(goal=GOAL, constraints=list(CONSTRAINTS)), actor="user:test"
    )
    await plan_mission(ctx, mission_id=mission.id, actor="user:test", planner=LocalPlanner())
    return mission, await read_plan(ctx, mission_id=mission.id)


async def test_the_stored_plan_says_which_requirements_are_features_and_constraints(
    ctx: ServiceContext,
) -> None:
    _, plan = await _plan(ctx)
    by_kind = {kind: [r.text for r in plan.requirements if r.kind == kind] for kind in
               ("feature", "constraint", "quality")}  # fmt: skip
    features = " ".join(by_kind["feature"]).lower()
    assert all(word in features for word in ("unlock", "pay per minute", "report damaged"))
    constraints = " ".join(by_kind["constraint"])
    # Each constraint stands among the constraints, figure and all, and nowhere as a feature.
    for constraint in CONSTRAINTS:
        assert constraint in constraints
        assert not any(constraint in text for text in by_kind["feature"])
    assert by_kind["quality"], "the planner's standards for a service are listed apart"


def test_the_cli_prints_features_then_constraints(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MISSIONCTL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MISSIONCTL_DATABASE_URL", database_url)
    runner = CliRunner()
    args = [arg for c in CONSTRAINTS for arg in ("-c", c)]
    created = runner.invoke(app, ["mission", "create", GOAL, *args, "--json"])
    mission_id = json.loads(created.output)["id"]
    planned = runner.invoke(app, ["mission", "plan", mission_id], catch_exceptions=False)
    assert planned.exit_code == 0, planned.output
    out = planned.output
    features, constraints = out.index("\nfeatures:\n"), out.index("\nconstraints:\n")
    assert features < constraints < out.index("\nqualities:\n")
    listed = out[constraints : out.index("\nqualities:\n")]
    assert all(c in " ".join(listed.split()) for c in CONSTRAINTS)
    assert re.search(r"\n  R\d+ \(must\) .*unlock", out[features:constraints], re.IGNORECASE)


async def test_the_prd_and_every_task_file_carry_the_constraints(ctx: ServiceContext) -> None:
    mission, _ = await _plan(ctx)
    prd = write_prd(await read_sources(ctx, mission_id=mission.id))
    sections = re.split(r"\n## ", prd)
    constraints = next(s for s in sections if s.startswith("Constraints"))
    features = next(s for s in sections if s.startswith("Features"))
    for constraint in CONSTRAINTS:
        assert constraint in " ".join(constraints.split())
        assert constraint not in features
    pack = await build_pack(ctx, mission_id=mission.id)
    task_files = {f.path: f.content.decode() for f in pack.files if f.path.startswith("tasks/")}
    assert task_files
    for name, text in task_files.items():
        honoured = text.split("## Constraints every task honours", 1)[1].split("\n## ", 1)[0]
        assert all(c in " ".join(honoured.split()) for c in CONSTRAINTS), name


async def test_plans_stored_before_kinds_are_classified_by_their_text(
    empty_database_url: str, tmp_path: Path
) -> None:
    url = SecretStr(empty_database_url)
    settings = Settings(home=tmp_path / "home", database=DatabaseSettings(url=url))
    async with open_context(settings) as ctx:
        _, plan = await _plan(ctx)
    db = Database(empty_database_url)
    try:
        await downgrade_database(db, "0032")
        await upgrade_database(db)
        async with db.read() as session:
            rows = (await session.execute(sa.text("SELECT text, kind FROM requirements"))).all()
    finally:
        await db.dispose()
    stored = dict(rows)
    assert len(stored) == len(plan.requirements)
    for text, kind in stored.items():
        expected = "constraint" if text.startswith("Constraint: ") else "feature"
        assert kind == expected, text
    assert "constraint" in stored.values()


async def test_the_run_report_lists_constraints_apart_with_the_tasks_that_honour_them(
    ctx: ServiceContext,
) -> None:
    run = await run_goal(ctx, MissionCreate(goal=GOAL, constraints=list(CONSTRAINTS)))
    report = await build_run_report(ctx, run_id=run.id)
    constraints = [r for r in report.requirements if r.kind == "constraint"]
    assert {c for c in CONSTRAINTS if any(c in r.text for r in constraints)} == set(CONSTRAINTS)
    assert all(r.tasks for r in report.requirements), "every requirement is traced by a task"

    markdown = render_report_markdown(report)
    section = markdown.split("## Requirements", 1)[1].split("\n## ", 1)[0]
    features, rest = section.split("### Features", 1)[1].split("### Constraints", 1)
    assert "unlock" in features.lower() and not any(c in features for c in CONSTRAINTS)
    assert all(c in rest.split("### Qualities", 1)[0] for c in CONSTRAINTS)


@pytest.mark.parametrize(
    ("goal", "quoted", "features"),
    [
        (
            "A web portal where a dental practice's patients see their x-rays and book "
            "check-ups; HIPAA applies",
            ["HIPAA applies", "data (HIPAA)"],  # the regulation is quoted, not "patients"
            2,
        ),
        (
            "An Android app in Kotlin for a physiotherapy clinic where patients book sessions, "
            "log exercises and message their therapist; must comply with GDPR and work offline",
            ["comply with GDPR", "work offline"],
            3,
        ),
        ("A Go service that tracks orders, is PCI DSS compliant and syncs stock", ["PCI DSS"], 2),
    ],
)
async def test_a_goals_own_constraint_clauses_are_constraints_not_features(
    goal: str, quoted: list[str], features: int
) -> None:
    draft = (await LocalPlanner().plan(PlanningInput(title=goal[:60], goal=goal))).draft
    feature_texts = [r.text for r in draft.requirements if r.kind == "feature"]
    constraint_texts = " ".join(r.text for r in draft.requirements if r.kind == "constraint")
    assert len(feature_texts) == features, feature_texts
    for words in quoted:
        assert words in constraint_texts
        assert not any(words.lower() in text.lower() for text in feature_texts)
