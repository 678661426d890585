"""A mission's review loop option: through the API, the CLI and the form; shown on its page."""

import json
from pathlib import Path
from typing import Any

import httpx2
import pytest

from missionctl.domain.access import Role
from missionctl.services import ServiceContext
from missionctl.services.usecases.missions import read_missions
from tests.coding.helpers import allow_coding, make_repository
from tests.coding.test_mission_verification import Invoke, cli  # noqa: F401 - the fixture
from tests.support.auth import bearer_headers
from tests.web.support import HTMX


def _body(repo: Path, **repository: Any) -> dict[str, Any]:
    named = {"source": str(repo), "agent": "coding:claude", "test_command": ["make", "check"]}
    return {"goal": "Add a health check", "repository": named | repository}


async def test_the_api_stores_review_and_the_page_says_what_it_does(
    ctx: ServiceContext, client: httpx2.AsyncClient, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    await allow_coding(ctx, repo)
    created = await client.post("/api/v1/missions", json=_body(repo, review=True))
    assert created.status_code == 201, created.text
    assert created.json()["repository"]["review"] is True
    page = (await client.get(f"/missions/{created.json()['id']}")).text
    assert 'data-testid="mission-review"' in page and "Review loop: each code task" in page
    plain = await client.post("/api/v1/missions", json=_body(repo))
    assert plain.json()["repository"]["review"] is False
    assert (
        'data-testid="mission-review"'
        not in (await client.get(f"/missions/{plain.json()['id']}")).text
    )
    viewer = await bearer_headers(ctx, "viewer-review", Role.VIEWER)
    denied = await client.post("/api/v1/missions", json=_body(repo, review=True), headers=viewer)
    assert denied.status_code == 403
    assert (await read_missions(ctx)).total == 2


@pytest.mark.parametrize(
    ("repository", "said"),
    [
        ({"review": True, "agent": None}, "needs a coding agent"),
        ({"review": "yes"}, "valid boolean"),
        ({"review": 1}, "valid boolean"),
        ({"review": None}, "valid boolean"),
    ],
)
async def test_a_bad_review_value_is_a_422_on_the_field_and_nothing_is_stored(
    ctx: ServiceContext, client: httpx2.AsyncClient, tmp_path: Path, repository: Any, said: str
) -> None:
    await allow_coding(ctx, tmp_path)
    refused = await client.post("/api/v1/missions", json=_body(tmp_path / "r", **repository))
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["field"] == "repository.review" and said in error["message"], error
    assert (await read_missions(ctx)).total == 0


def test_the_cli_flag_sets_it_and_needs_a_coding_agent(cli: Invoke, tmp_path: Path) -> None:  # noqa: F811
    repo = make_repository(tmp_path)
    assert cli("agents", "allow-repository", str(repo)).exit_code == 0
    base = ["mission", "create", "Add a health check", "--repository", str(repo)]
    made = cli(*base, "--coding-agent", "coding:claude", "--test-command", "make check",
               "--review", "--json")  # fmt: skip
    assert made.exit_code == 0, made.output
    assert json.loads(made.output)["repository"]["review"] is True
    shown = cli(*base, "--coding-agent", "coding:claude", "--test-command", "make check",
                "--review")  # fmt: skip
    assert "review   each code task: build, tests, review, rework if asked" in shown.output
    lone = cli(*base, "--review")
    assert lone.exit_code == 2 and "--review are for coding steps" in " ".join(lone.output.split())
    assert "--review" in " ".join(cli("mission", "create", "--help").output.split())


async def test_the_form_checkbox_sets_it_and_a_forged_value_is_refused_at_the_field(
    ctx: ServiceContext, client: httpx2.AsyncClient, tmp_path: Path
) -> None:
    repo = make_repository(tmp_path)
    await allow_coding(ctx, repo)
    form = {"goal": "Add a health check", "engine": "local", "repository": str(repo),
            "coding_agent": "coding:claude", "test_command": "make check"}  # fmt: skip
    shown = await client.get("/missions")
    assert 'name="review" value="true"' in shown.text
    forged = await client.post("/missions", data=form | {"review": "maybe"}, headers=HTMX)
    assert forged.status_code == 422
    assert 'data-field="review"' in forged.text and "valid boolean" in forged.text
    lone = await client.post(
        "/missions", data={"goal": "x", "engine": "local", "review": "true"}, headers=HTMX
    )
    assert lone.status_code == 422 and "needs a coding agent" in lone.text
    assert (await read_missions(ctx)).total == 0
    created = await client.post("/missions", data=form | {"review": "true"}, headers=HTMX)
    assert created.status_code == 200, created.text
    [mission] = (await read_missions(ctx)).items
    assert mission.repository is not None and mission.repository.review is True
