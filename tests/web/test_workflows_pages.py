"""The workflows pages through the app: the list, the editor and its check, versions, Run."""

import html as html_lib
import json
import re
import uuid

import httpx2
from sqlalchemy import select

from missionctl.db.models import Run
from missionctl.domain.access import Role
from missionctl.services import ServiceContext
from missionctl.services.usecases import plans as plan_service
from missionctl.services.usecases.runs import read_run
from missionctl.services.usecases.workflows import list_workflows, read_workflow_versions
from missionctl.web.routes.workflows import EXAMPLE
from tests.support.auth import bearer_headers
from tests.web.support import ACTOR, HTMX, planned_mission

CYCLE_AND_UNKNOWN_AGENT = """\
name: tangled
steps:
  - id: a
    agent: builtin:noop
    depends_on: [c]
  - id: b
    agent: builtin:nope
    depends_on: [a]
  - id: c
    agent: builtin:noop
    depends_on: [b]
"""

GATED = """\
name: ship-it
description: Build, then ship once approved.
inputs:
  count:
    type: integer
    required: true
  dry_run:
    type: boolean
    default: true
steps:
  - id: build
    agent: builtin:noop
  - id: test
    agent: builtin:noop
    depends_on: [build]
  - id: ship
    agent: builtin:noop
    risk_tier: write
    depends_on: [test]
"""


def text_of(html: str) -> str:
    """The page's words, tags removed, entities decoded and spaces collapsed."""
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))).strip()


async def as_role(ctx: ServiceContext, role: Role) -> dict[str, str]:
    return await bearer_headers(ctx, f"{role.value}-{uuid.uuid4().hex[:6]}", role)


async def save(client: httpx2.AsyncClient, definition: str) -> httpx2.Response:
    return await client.post("/workflows", data={"definition": definition})


async def test_the_list_starts_empty_and_offers_the_editor(client: httpx2.AsyncClient) -> None:
    response = await client.get("/workflows")

    assert response.status_code == 200
    page = text_of(response.text)
    assert "No workflows yet" in page
    assert "docs/workflows.md" in page
    assert 'href="/workflows/new"' in response.text
    assert 'class="nav__link" href="/workflows" aria-current="page"' in response.text


async def test_the_list_shows_each_workflow_with_its_newest_version(
    client: httpx2.AsyncClient,
) -> None:
    assert (await save(client, GATED)).status_code == 303
    assert (
        await save(client, GATED.replace("Build, then", "Build and test, then"))
    ).status_code == 303
    assert (await save(client, EXAMPLE)).status_code == 303

    response = await client.get("/workflows")

    html = response.text
    assert re.search(r'data-workflow="release-notes".*?v1.*?1 version\b', html, re.S)
    row = re.search(r'<tr data-workflow="ship-it">.*?</tr>', html, re.S)
    assert row is not None
    assert "v2" in row.group(0) and "2 versions" in row.group(0)
    assert "Build and test, then ship once approved." in row.group(0)
    assert '<td class="num">3</td>' in row.group(0)  # steps
    assert html.index('data-workflow="release-notes"') < html.index('data-workflow="ship-it"')


async def test_the_editor_starts_with_a_valid_example_and_no_inline_code(
    client: httpx2.AsyncClient,
) -> None:
    response = await client.get("/workflows/new")

    assert response.status_code == 200
    html = response.text
    assert 'name="definition"' in html and 'hx-post="/workflows/validate"' in html
    assert 'hx-trigger="input changed delay:400ms"' in html
    assert html_lib.escape(EXAMPLE.splitlines()[-1], quote=False) in html
    assert "Valid: 4 steps in 3 layers" in text_of(html)
    assert "Saving creates a new workflow, release-notes v1" in text_of(html)
    assert 'data-step="publish" data-gated="true"' in html  # the preview marks the gate
    assert '<script src="/static/js/workflow-editor.js' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script> found"
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler found"
    assert not re.search(r"\sstyle\s*=", html), "inline style attribute found"
    assert (await client.get("/static/js/workflow-editor.js")).status_code == 200


async def test_the_check_names_the_cycle_and_the_unknown_agent_together(
    client: httpx2.AsyncClient,
) -> None:
    response = await client.post(
        "/workflows/validate", data={"definition": CYCLE_AND_UNKNOWN_AGENT}, headers=HTMX
    )

    assert response.status_code == 200
    html = response.text
    assert "<!doctype" not in html.lower()  # the fragment only
    page = text_of(html)
    assert "2 problems to fix" in page
    assert "steps.0.depends_on: dependency cycle: a → b → c → a" in page
    assert "steps.1.agent: unknown agent 'builtin:nope'; did you mean 'builtin:noop'?" in page
    assert "Show step b" in page  # the index is named by the step's id
    assert 'data-goto-step="1"' in html  # the field's own 0-based index
    assert "Show step 2" not in page
    assert '<hx-partial hx-target="#workflow-preview" hx-swap="outerHTML">' in html
    assert "drawn once its dependencies form no cycle" in page
    assert "<svg" not in html.split("<hx-partial")[1]


async def test_the_check_lists_schema_and_graph_problems_together(
    client: httpx2.AsyncClient,
) -> None:
    definition = CYCLE_AND_UNKNOWN_AGENT.replace(
        "agent: builtin:noop\n    depends_on: [b]",
        "agent: builtin:noop\n    timeout_s: -3\n    depends_on: [b]",
    ).replace("[b]", "[b, ghost]")
    response = await client.post(
        "/workflows/validate", data={"definition": definition}, headers=HTMX
    )

    page = text_of(response.text)
    assert "4 problems to fix" in page
    assert "steps.1.agent: unknown agent 'builtin:nope'" in page
    assert "steps.2.depends_on: step 'c' depends on 'ghost', which does not exist" in page
    assert "steps.2.timeout_s: Input should be greater than 0" in page
    assert "Show step c" in page and "Show step 3" not in page


async def test_the_check_of_a_valid_definition_draws_the_graph_and_its_gate(
    client: httpx2.AsyncClient,
) -> None:
    response = await client.post("/workflows/validate", data={"definition": GATED}, headers=HTMX)

    html = response.text
    assert "Valid: 3 steps in 3 layers" in text_of(html)
    assert "1 step waits for approval before it runs: ship." in text_of(html)
    assert 'data-step="ship" data-gated="true"' in html
    assert 'data-step="build" transform' in html  # not gated
    assert "write · builtin:noop" in html


async def test_a_syntax_error_names_its_line_and_offers_to_go_there(
    client: httpx2.AsyncClient,
) -> None:
    response = await client.post(
        "/workflows/validate", data={"definition": "name: x\nsteps: [\n"}, headers=HTMX
    )

    assert "1 problem to fix" in text_of(response.text)
    assert re.search(r"definition: line 3, column 1: ", text_of(response.text))
    assert 'data-goto-line="3"' in response.text


async def test_saving_an_invalid_definition_stores_nothing_and_keeps_the_text(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    plain = await save(client, CYCLE_AND_UNKNOWN_AGENT)
    htmx = await client.post(
        "/workflows", data={"definition": CYCLE_AND_UNKNOWN_AGENT}, headers=HTMX
    )

    assert plain.status_code == htmx.status_code == 422
    assert plain.text.lstrip().lower().startswith("<!doctype html>")
    assert 'id="workflow-workspace"' in htmx.text and "<!doctype" not in htmx.text.lower()
    for response in (plain, htmx):
        page = text_of(response.text)
        assert "The workflow was not saved." in page
        assert "dependency cycle: a → b → c → a" in page
        assert "unknown agent 'builtin:nope'" in page
        textarea = re.search(
            r"<textarea[^>]*name=\"definition\"[^>]*>\n(.*?)</textarea>", response.text, re.S
        )
        assert textarea is not None
        assert html_lib.unescape(textarea.group(1)) == CYCLE_AND_UNKNOWN_AGENT
    assert await list_workflows(ctx) == []


async def test_saving_twice_creates_version_1_then_2(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    first = await save(client, GATED)
    assert first.status_code == 303
    assert first.headers["location"] == "/workflows/ship-it"

    editor = await client.get("/workflows/ship-it/edit")
    assert editor.status_code == 200
    assert "Saving creates version 2 of ship-it" in text_of(editor.text)
    assert 'name="editing" value="ship-it"' in editor.text
    changed = GATED.replace("Build, then ship once approved.", "Second thoughts.")
    second = await client.post(
        "/workflows", data={"definition": changed, "editing": "ship-it"}, headers=HTMX
    )
    assert second.status_code == 200
    assert json.loads(second.headers["hx-location"])["path"] == "/workflows/ship-it"

    versions = await read_workflow_versions(ctx, name="ship-it")
    assert [v.version for v in versions] == [2, 1]
    newest = (await client.get("/workflows/ship-it")).text
    assert 'data-testid="workflow-version">v2<' in newest
    assert "Second thoughts." in newest
    assert 'href="/workflows/ship-it?version=1"' in newest
    oldest = (await client.get("/workflows/ship-it", params={"version": 1})).text
    assert 'data-testid="workflow-version">v1<' in oldest
    assert "older version · see v2" in oldest
    assert "Build, then ship once approved." in oldest
    assert (await client.get("/workflows/ship-it", params={"version": 3})).status_code == 404
    assert (await client.get("/workflows/no-such-thing")).status_code == 404


async def test_the_workflow_page_shows_graph_definition_and_run_form(
    client: httpx2.AsyncClient,
) -> None:
    await save(client, GATED)

    response = await client.get("/workflows/ship-it")

    html = response.text
    page = text_of(html)
    assert "3 steps in 3 layers; 1 waits for approval." in page
    assert 'data-step="ship" data-gated="true"' in html
    assert '<pre class="wf-yaml"><code>name: ship-it' in html
    assert "risk_tier: write" in html
    # The Run form: one field per declared input, typed.
    assert 'action="/workflows/ship-it/run"' in html and 'name="version" value="1"' in html
    assert re.search(
        r'<input class="control" id="field-inputs.count" name="inputs.count" type="number"', html
    )
    assert re.search(
        r'<select class="control select" id="field-inputs.dry_run" name="inputs.dry_run"', html
    )
    assert '<option value="true" selected>true</option>' in html
    assert 'name="budget_usd"' in html
    assert "No runs yet." in page


async def test_run_starts_a_run_of_the_version_and_opens_its_page(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    await save(client, GATED)

    response = await client.post(
        "/workflows/ship-it/run",
        data={"version": "1", "inputs.count": "3", "inputs.dry_run": "false", "budget_usd": "2.5"},
    )

    assert response.status_code == 303
    location = response.headers["location"]
    assert re.fullmatch(r"/runs/[0-9a-f-]{36}", location)
    run_id = uuid.UUID(location.rsplit("/", 1)[1])
    run = await read_run(ctx, run_id=run_id)
    assert run.trigger == "manual"
    assert run.budget_usd == 2.5
    async with ctx.read() as session:
        assert await session.scalar(select(Run.inputs).where(Run.id == run_id)) == {
            "count": 3,
            "dry_run": False,
        }
    assert (await client.get(location)).status_code == 200
    # htmx follows HX-Location to the run; the workflow page lists the run.
    again = await client.post(
        "/workflows/ship-it/run", data={"version": "1", "inputs.count": "1"}, headers=HTMX
    )
    path = json.loads(again.headers["hx-location"])["path"]
    page = (await client.get("/workflows/ship-it")).text
    assert f'href="{path}"' in page and f'href="{location}"' in page


async def test_invalid_run_inputs_start_nothing_and_say_why(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    await save(client, GATED)

    wrong = await client.post(
        "/workflows/ship-it/run",
        data={"version": "1", "inputs.count": "three", "budget_usd": "-1"},
        headers=HTMX,
    )
    missing = await client.post("/workflows/ship-it/run", data={"version": "1"})

    assert wrong.status_code == missing.status_code == 422
    assert '<form id="run-form"' in wrong.text and "<!doctype" not in wrong.text.lower()
    assert "Enter a whole number, like 3." in wrong.text
    assert "Enter a budget in US dollars" in wrong.text
    assert 'value="three"' in wrong.text  # kept as typed
    assert missing.text.lstrip().lower().startswith("<!doctype html>")
    assert "Input &#39;count&#39; is required" in missing.text
    versions = await read_workflow_versions(ctx, name="ship-it")
    assert versions[0].runs == 0


async def test_a_viewer_sees_no_controls_and_the_server_refuses_them(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    await save(client, GATED)
    viewer = await as_role(ctx, Role.VIEWER)

    listing = await client.get("/workflows", headers=viewer)
    page = await client.get("/workflows/ship-it", headers=viewer)

    assert listing.status_code == page.status_code == 200
    assert 'href="/workflows/new"' not in listing.text
    assert 'id="run-form"' not in page.text and "/edit" not in page.text
    assert 'data-step="ship"' in page.text  # reading is allowed
    checked = await client.post("/workflows/validate", data={"definition": GATED}, headers=viewer)
    assert checked.status_code == 200
    for method, path, data in (
        ("GET", "/workflows/new", None),
        ("GET", "/workflows/ship-it/edit", None),
        ("POST", "/workflows", {"definition": GATED}),
        ("POST", "/workflows/ship-it/run", {"version": "1", "inputs.count": "1"}),
    ):
        response = await client.request(method, path, data=data, headers=viewer)
        assert response.status_code == 403, (method, path)
    versions = await read_workflow_versions(ctx, name="ship-it")
    assert [(v.version, v.runs) for v in versions] == [(1, 0)]
    # An operator may do all of it.
    operator = await as_role(ctx, Role.OPERATOR)
    assert (await client.get("/workflows/new", headers=operator)).status_code == 200
    ran = await client.post(
        "/workflows/ship-it/run", data={"version": "1", "inputs.count": "1"}, headers=operator
    )
    assert ran.status_code == 303


async def test_a_name_whose_page_the_editor_holds_is_refused_in_the_editor(
    client: httpx2.AsyncClient,
) -> None:
    response = await save(client, GATED.replace("name: ship-it", "name: new"))

    assert response.status_code == 422
    page = text_of(response.text)
    assert "The workflow was not saved." in page
    assert "'new' is the address of the editor for a new workflow; choose another name" in page
    assert "No workflows yet" in text_of((await client.get("/workflows")).text)


async def test_a_name_with_a_slash_and_spaces_has_working_pages(
    client: httpx2.AsyncClient,
) -> None:
    definition = GATED.replace("name: ship-it", "name: team/ship it")

    saved = await save(client, definition)

    assert saved.status_code == 303
    assert saved.headers["location"] == "/workflows/team/ship%20it"
    page = await client.get(saved.headers["location"])
    assert page.status_code == 200
    assert 'action="/workflows/team/ship%20it/run"' in page.text
    assert 'href="/workflows/team/ship%20it/edit"' in page.text
    editor = await client.get("/workflows/team/ship%20it/edit")
    assert "Saving creates version 2 of team/ship it" in text_of(editor.text)
    ran = await client.post(
        "/workflows/team/ship%20it/run", data={"version": "1", "inputs.count": "2"}
    )
    assert ran.status_code == 303 and ran.headers["location"].startswith("/runs/")
    listing = (await client.get("/workflows")).text
    assert 'href="/workflows/team/ship%20it"' in listing


async def test_a_list_input_nested_without_end_or_unstorable_starts_nothing(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    listed = (
        "name: listed\ninputs:\n  xs: {type: array}\nsteps:\n  - {id: a, agent: builtin:noop}\n"
    )
    await save(client, listed)
    for given, message in (
        ("[" * 100_000, "Line 1, column 65: lists and mappings are nested deeper than 64 levels"),
        ("[" * 70 + "]" * 70, "Not accepted: nested deeper than 64 levels."),
        ("[NaN]", "Not accepted: nan is not a number JSON can hold."),
    ):
        refused = await client.post(
            "/workflows/listed/run", data={"version": "1", "inputs.xs": given}, headers=HTMX
        )
        assert refused.status_code == 422, refused.text[-500:]
        assert message in text_of(refused.text)
    assert (await read_workflow_versions(ctx, name="listed"))[0].runs == 0


async def test_the_list_shows_the_workflows_missions_ran_marked_and_linked(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx, "A pantry inventory app that scans barcodes")
    run = await plan_service.run_mission(ctx, mission_id=mission.id, actor=ACTOR)
    await save(client, GATED)

    page = await client.get("/workflows")

    assert page.status_code == 200
    words = text_of(page.text)
    assert "No workflows yet" not in words
    [compiled] = [w for w in await list_workflows(ctx, include_plans=True) if w.plan_id]
    assert compiled.id == run.workflow_id
    row = re.search(
        rf'<tr data-workflow="{re.escape(compiled.name)}" data-from-plan>(.*?)</tr>',
        page.text,
        re.S,
    )
    assert row is not None, page.text
    assert "From a mission's plan" in text_of(row.group(1))
    assert (
        f'<a class="wf-origin__mission" href="/missions/{mission.id}">{mission.title}</a>'
        in row.group(1)
    )
    # The hand-written one is listed as before, unmarked.
    assert re.search(r'<tr data-workflow="ship-it">', page.text)
    assert 'id="workflow-count" class="count" title="2 workflows"' in page.text
