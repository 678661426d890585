"""A run report opens with what the tasks produced: an offline mission's builtin specialists
documented every task and built nothing, and the Markdown, the JSON and a PDF of it say so."""

import io
import json

import httpx2
import pypdf

from missionctl.documents.export import to_pdf
from missionctl.domain.access import Role
from missionctl.domain.outcomes import BUILD_HINT
from missionctl.schemas.missions import MissionCreate
from missionctl.services import ServiceContext
from missionctl.services.usecases.artifacts import read_artifact_content
from missionctl.services.usecases.reports import (
    SPECIFICATIONS_NOT_CODE,
    build_run_report,
    render_report_markdown,
    write_run_report,
)
from tests.services.helpers import run_goal
from tests.support.auth import bearer_headers

GOAL = MissionCreate(goal="Build a URL shortener with click analytics and custom aliases")


async def test_the_report_opens_with_the_headline_and_shows_each_tasks_outcome(
    ctx: ServiceContext,
) -> None:
    done = await run_goal(ctx, GOAL)
    tasks = len(done.steps)
    headline = f"{tasks} tasks documented, 0 built: {BUILD_HINT}"

    written = await write_run_report(ctx, run_id=done.id)
    markdown = (await read_artifact_content(ctx, artifact_id=written[0].id))[1].decode()
    lines = markdown.splitlines()
    assert lines[0].startswith("# Run report — ")
    assert lines[2] == f"**{headline}.**"  # the first thing after the title
    assert f"- **Status:** completed ({tasks} documented)" in markdown
    assert "tasks succeeded" not in markdown
    table = markdown.split("## Tasks")[1].split("## Artifacts")[0]
    assert "| Outcome |" in table
    rows = [line for line in table.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) == tasks and all("| documented |" in row for row in rows)
    assert "| succeeded |" not in table
    next_steps = markdown.split("## Next steps")[1].split("## Usage")[0].strip().splitlines()
    assert next_steps[0] == f"- [high] {SPECIFICATIONS_NOT_CODE} _(outcomes)_"

    report = json.loads((await read_artifact_content(ctx, artifact_id=written[1].id))[1])
    assert report["headline"] == headline
    assert {t["outcome"] for t in report["tasks"]} == {"documented"}
    assert report["outcome"]["tasks_by_outcome"] == {"documented": tasks}
    assert report["next_steps"][0]["text"] == SPECIFICATIONS_NOT_CODE

    pdf = to_pdf("Run report", render_report_markdown(await build_run_report(ctx, run_id=done.id)))
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    flat = " ".join(text.split())
    assert f"{tasks} tasks documented, 0 built" in flat
    assert "documented" in flat.split("Tasks", 1)[1]


async def test_a_viewer_reads_the_same_headline_and_outcomes_from_the_api(
    client: httpx2.AsyncClient, ctx: ServiceContext
) -> None:
    done = await run_goal(ctx, GOAL)
    headers = await bearer_headers(ctx, user="vera", role=Role.VIEWER)
    answer = await client.get(f"/api/v1/runs/{done.id}/report", headers=headers)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["headline"].startswith(f"{len(done.steps)} tasks documented, 0 built")
    assert [t["outcome"] for t in report["tasks"]] == ["documented"] * len(done.steps)
    markdown = await client.get(
        f"/api/v1/runs/{done.id}/report", params={"format": "markdown"}, headers=headers
    )
    assert markdown.status_code == 200
    assert markdown.text.splitlines()[2] == f"**{report['headline']}.**"
