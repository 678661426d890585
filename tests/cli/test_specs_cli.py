"""Mini-specs from the command line, on the local database (``--as`` names the user)."""

import asyncio
import json
import uuid
from collections.abc import Callable

import pytest
from click.testing import Result
from typer.testing import CliRunner

from missionctl.cli import app
from missionctl.db.models import Mission, Plan
from missionctl.domain.access import Role
from missionctl.schemas.identity import UserCreate
from missionctl.services import open_context
from missionctl.services.usecases.identity import create_user
from missionctl.settings import Settings

Invoke = Callable[..., Result]
TASKS = [{"key": "auth", "title": "Add auth to the API", "description": "d", "role": "backend"}]


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.setenv("MISSIONCTL_HOME", str(settings.home))
    monkeypatch.setenv("MISSIONCTL_DATABASE_URL", settings.database.url.get_secret_value())
    monkeypatch.delenv("MISSIONCTL_URL", raising=False)
    monkeypatch.delenv("MISSIONCTL_TOKEN", raising=False)
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None) -> Result:
        return runner.invoke(app, list(args), input=stdin, catch_exceptions=False)

    return invoke


def _mission(settings: Settings) -> uuid.UUID:
    """A planned mission with one task; approvers ann, bob and cy, operator op, viewer vi."""

    async def go() -> uuid.UUID:
        async with open_context(settings) as ctx:
            people = dict.fromkeys(("ann", "bob", "cy"), Role.APPROVER)
            for name, role in (people | {"op": Role.OPERATOR, "vi": Role.VIEWER}).items():
                await create_user(ctx, data=UserCreate(name=name, role=role), actor="system")
        async with open_context(settings) as ctx, ctx.write() as session:
            mission = Mission(title="t", goal="g", status="planned", created_by="t")
            session.add(mission)
            await session.flush()
            session.add(Plan(mission_id=mission.id, version=1, source="local", tasks=TASKS))
            return mission.id

    return asyncio.run(go())


def test_write_list_and_decide(cli: Invoke, settings: Settings) -> None:
    mission_id = str(_mission(settings))
    marked = cli("specs", "marked", mission_id, "--json")
    assert json.loads(marked.stdout)[0]["status"] == "missing"
    written = cli("specs", "write", mission_id, "auth", "--as", "ann", "--json", stdin="# Plan\n")
    assert written.exit_code == 0, written.stdout
    spec_id = json.loads(written.stdout)["id"]
    own = cli("specs", "approve", spec_id, "--as", "ann")
    assert own.exit_code == 2 and "four eyes" in own.output
    no_reason = cli("specs", "reject", spec_id, "--reason", " ", "--as", "bob")
    assert no_reason.exit_code == 2 and "reason" in no_reason.output
    # Acting as a user needs one who exists, is enabled and holds the action's permission.
    ghost = cli("specs", "approve", spec_id, "--as", "ghost")
    assert ghost.exit_code == 1 and "no enabled user is called 'ghost'" in ghost.output
    viewer = cli("specs", "write", mission_id, "auth", "--as", "vi", stdin="# Mine\n")
    assert viewer.exit_code == 2 and "missions:write needs the operator role" in viewer.output
    operator = cli("specs", "approve", spec_id, "--as", "op")
    assert operator.exit_code == 2 and "approvals:decide needs the approver" in operator.output
    assert json.loads(cli("specs", "list", mission_id, "--json").stdout)[0]["status"] == "draft"
    approved = cli("specs", "approve", spec_id, "--as", "bob")
    assert approved.exit_code == 0 and "approved by user:bob" in approved.stdout
    again = cli("specs", "approve", spec_id, "--as", "cy")
    assert again.exit_code == 2 and "approved already" in again.output
    listed = cli("specs", "list", mission_id)
    assert "auth" in listed.stdout and "approved" in listed.stdout
    empty = cli("specs", "write", mission_id, "auth", stdin="   ")
    assert empty.exit_code == 2 and "body" in empty.output
