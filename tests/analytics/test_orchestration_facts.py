"""Duplicated edits and groundwork first, on histories whose answers are known (ADR 0117).

The line fingerprints are checked on a diff git itself wrote; the figures on hand-built facts;
the groundwork on a history made through the product: missions with and without a PRD, a
PRD phase that comes first or too late, a PRD written after the work began, a migration task
held for its mini-spec, and a run outside any mission. Every count is by hand.
(The duplicated edits of real coding steps: ``tests/coding/test_duplicated_edits.py``.)
"""

import asyncio
import hashlib
import subprocess
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from missionctl.db.models import Document, Mission, Plan, Workflow
from missionctl.domain.edits import changed_lines, pack, unpack
from missionctl.domain.orchestration import (
    Edits,
    Groundwork,
    WorkStarted,
    duplicated_edits,
    duplicated_edits_by_bucket,
    groundwork_first,
    groundwork_first_by_bucket,
)
from missionctl.eventlog import NewEvent, append
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.usecases.orchestration import ask_orchestration
from missionctl.services.usecases.runs import read_run, start_run
from missionctl.services.usecases.specs import decide_spec, write_spec
from tests.engine.helpers import running_engine, start, step, wait_for_run

MONDAY = date(2026, 11, 2)
IMPLEMENT = {"phase": "Implementation"}
TASKS = [
    {"key": "ui", "title": "Render the dashboard", "description": "Charts.", "role": "frontend"},
    {
        "key": "db",
        "title": "Add the visits migration",
        "description": "A table.",
        "role": "backend",
    },
]


def _git(repo: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args]
    return subprocess.run(command, cwd=repo, capture_output=True, text=True, check=True).stdout


def _line(path: str, text: str) -> bytes:
    return hashlib.blake2b(f"{path}\n{text}".encode(), digest_size=8).digest()


def test_a_git_diff_s_changed_lines_are_its_added_and_removed_lines_by_file(
    tmp_path: Path,
) -> None:
    _git(tmp_path, "init", "--quiet")
    (tmp_path / "schema.sql").write_text(
        "create table visits (\n  id int\n);\n-- keep the old index\n"
    )
    (tmp_path / "old.txt").write_text("a file about to go\n")
    _git(tmp_path, "add", "--all")
    _git(tmp_path, "commit", "--quiet", "-m", "one")
    (tmp_path / "schema.sql").write_text("create table visits (\n  id   bigint\n);\n}\n")
    (tmp_path / "old.txt").unlink()
    patch = _git(tmp_path, "diff")

    lines = changed_lines(patch)
    assert "\n--- keep the old index" in patch  # a removed line that looks like a header
    assert lines == {
        _line("schema.sql", "id int"),
        _line("schema.sql", "id bigint"),  # white space collapsed
        _line("schema.sql", "-- keep the old index"),
        _line("old.txt", "a file about to go"),  # a deleted file keeps its old path
    }  # the added "}" says nothing about overlap: left out
    assert unpack(pack(lines)) == lines and pack(lines) == pack(sorted(lines, reverse=True))
    assert changed_lines("") == frozenset() and changed_lines("not a diff\n@@ nonsense") == set()


def test_duplicated_edits_and_groundwork_are_counted_per_week_from_hand_built_facts() -> None:
    edits = [
        Edits(MONDAY, "deploy", steps=2, lines=10, repeated=0, steps_repeating=0),
        Edits(
            MONDAY + timedelta(days=1), "deploy", steps=1, lines=5, repeated=5, steps_repeating=1
        ),
        Edits(MONDAY + timedelta(days=8), "fix", steps=3, lines=20, repeated=2, steps_repeating=1),
    ]
    total = duplicated_edits(edits)
    assert (total.steps, total.lines, total.duplicated, total.steps_repeating) == (6, 35, 7, 2)
    assert total.share == 7 / 35
    weeks = duplicated_edits_by_bucket(edits, MONDAY, MONDAY + timedelta(days=20), "week")
    assert [(f.lines, f.duplicated) for _, f in weeks] == [(15, 5), (20, 2), (0, 0)]
    assert weeks[-1][1].share is None

    ready = Groundwork(prd=True, task_list=True)
    starts = [
        WorkStarted(MONDAY, "deploy", ready, tasks=3),
        WorkStarted(MONDAY, "deploy", Groundwork(prd=False, task_list=True), tasks=2),
        WorkStarted(MONDAY, "deploy", Groundwork(True, True, spec_required=True, spec=True)),
        WorkStarted(MONDAY + timedelta(days=7), "fix", Groundwork(False, False, True, False)),
    ]
    figures = groundwork_first(starts)
    assert (figures.started, figures.prepared, figures.specs_required) == (7, 4, 2)
    assert figures.missing == {"prd": 3, "task_list": 1, "spec": 1}
    weeks_of_work = groundwork_first_by_bucket(starts, MONDAY, MONDAY + timedelta(days=7), "week")
    assert [(f.started, f.prepared) for _, f in weeks_of_work] == [(6, 4), (1, 0)]


async def _planned_mission(ctx: ServiceContext, title: str) -> tuple[uuid.UUID, uuid.UUID]:
    async with ctx.write() as session:
        mission = Mission(title=title, goal=f"Build {title}", status="planned", created_by="t")
        session.add(mission)
        await session.flush()
        plan = Plan(mission_id=mission.id, version=1, source="local", tasks=TASKS)
        session.add(plan)
        await session.flush()
        return mission.id, plan.id


async def _run(
    ctx: ServiceContext,
    mission: tuple[uuid.UUID, uuid.UUID],
    steps: list[dict[str, Any]],
    name: str,
) -> uuid.UUID:
    spec = WorkflowSpec.model_validate({"name": name, "steps": steps})
    async with ctx.write() as session:
        workflow = Workflow(
            name=name,
            version=1,
            mission_id=mission[0],
            plan_id=mission[1],
            definition=spec.model_dump(mode="json"),
            created_by="user:test",
        )
        session.add(workflow)
        await session.flush()
        workflow_id = workflow.id
    run = await start_run(ctx, workflow_id=workflow_id, actor="user:test", mission_id=mission[0])
    return run.id


async def _approved_spec(ctx: ServiceContext, mission_id: uuid.UUID, task: str) -> uuid.UUID:
    draft = await write_spec(
        ctx, mission_id=mission_id, task_key=task, body="## Plan", actor="user:a", user="user:a"
    )
    await decide_spec(ctx, spec_id=draft.id, approve=True, actor="user:b", user="user:b")
    return draft.id


async def _prd_written(ctx: ServiceContext, mission_id: uuid.UUID) -> None:
    """A PRD stored as the document studio stores one: its row and its event."""
    async with ctx.write() as session:
        session.add(
            Document(
                mission_id=mission_id,
                kind="prd",
                version=1,
                title="PRD",
                body="# PRD",
                plan_version=1,
                writer="local",
                author="user:pm",
            )
        )
        payload = {"kind": "prd", "version": 1}
        await append(
            session, [NewEvent("document.generated", "user:pm", payload, mission_id=mission_id)]
        )


async def _wait_held(ctx: ServiceContext, run_id: uuid.UUID, step_id: str) -> None:
    for _ in range(300):
        run = await read_run(ctx, run_id=run_id)
        if next(s for s in run.steps if s.step_id == step_id).hold_reason:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{step_id} was never held")


async def test_groundwork_is_read_from_a_history_made_through_the_product(
    ctx: ServiceContext,
) -> None:
    documented = await _planned_mission(ctx, "documented")
    await _prd_written(ctx, documented[0])
    await _approved_spec(ctx, documented[0], "db")
    phased = await _planned_mission(ctx, "phased")
    await _approved_spec(ctx, phased[0], "db")
    held = await _planned_mission(ctx, "held")
    runs = [
        # PRD document, plan, approved spec: both tasks prepared. The second run's start of
        # `ui` is not counted again.
        await _run(
            ctx,
            documented,
            [step("ui", **IMPLEMENT), step("db", **IMPLEMENT), step("notes")],
            "documented",
        ),
        await _run(ctx, documented, [step("ui", **IMPLEMENT)], "documented-again"),
        # A PRD phase before `ui`, but after `db` (which it waits for): db lacks its PRD.
        await _run(
            ctx,
            phased,
            [
                step("db", **IMPLEMENT),
                step("prd", "builtin:noop", "db", phase="PRD"),
                step("ui", "builtin:noop", "prd", **IMPLEMENT),
            ],
            "phased",
        ),
        # The migration waits for its spec (the guard), which comes: it had it first.
        await _run(ctx, held, [step("db", **IMPLEMENT)], "held"),
        # Outside any mission: no PRD, no task list.
        (await start(ctx, [step("hotfix", **IMPLEMENT)], name="loose")).id,
    ]
    async with running_engine(ctx):
        await _wait_held(ctx, runs[3], "db")
        await _approved_spec(ctx, held[0], "db")
        for run_id in runs:
            assert (await wait_for_run(ctx, run_id)).status == "completed"
    await _prd_written(ctx, held[0])  # after its work began: it does not count

    answer = await ask_orchestration(ctx, grain="day")
    work = answer.groundwork
    # documented: ui, db (prepared); phased: db (no PRD), ui (prepared); held: db (no PRD);
    # loose: hotfix (no PRD, no task list). A spec missing is counted in the test above: the
    # guard lets no marked task start without one.
    assert (work.started, work.prepared, work.specs_required) == (6, 3, 3)
    assert work.missing == {"prd": 3, "task_list": 1, "spec": 0}
    by_workflow = {w.workflow: (w.started, w.prepared) for w in answer.groundwork_by_workflow}
    assert by_workflow == {"documented": (2, 2), "phased": (2, 1), "held": (1, 0), "loose": (1, 0)}
    assert answer.groundwork_by_bucket[-1].started == 6

    only = await ask_orchestration(ctx, segment="workflow:phased")
    assert (only.groundwork.started, only.groundwork.missing["prd"]) == (2, 1)


def test_a_hostile_diff_is_read_within_what_it_holds() -> None:
    # A program's changes are untrusted: lying hunk counts, a megabyte line, NULs, a header
    # inside a hunk. Nothing is read past the text, and each changed line counts once.
    lying = "--- a/x.py\n+++ b/x.py\n@@ -1,999999999 +1,999999999 @@\n-old line\n+new line\n"
    assert changed_lines(lying) == {_line("x.py", "old line"), _line("x.py", "new line")}
    huge = "--- a/big\n+++ b/big\n@@ -0,0 +1,2 @@\n+" + "a" * 1_000_000 + "\n+\x00\x00 nul line\n"
    assert len(changed_lines(huge)) == 2
    inside = "--- a/y\n+++ b/y\n@@ -1,2 +1,2 @@\n---- not a header\n++++ b/z either\n"
    assert changed_lines(inside) == {_line("y", "--- not a header"), _line("y", "+++ b/z either")}
