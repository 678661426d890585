"""Governance from the command line: approvals, the emergency stop, agents and prices.

The commands work on the local database as ``system``; the runs they act on are set up through
the services on the same database (the CLI runs its own event loop, so the tests are sync).
"""

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from missionctl.cli import app
from missionctl.domain.access import Role
from missionctl.schemas.governance import ApprovalRead
from missionctl.schemas.identity import UserCreate
from missionctl.services import open_context
from missionctl.services.usecases import identity
from missionctl.services.usecases.approvals import list_approvals
from missionctl.services.usecases.audit import read_event_page
from missionctl.settings import Settings
from tests.engine.helpers import start, step

PY = sys.executable
Invoke = Callable[..., Result]


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run ``missionctl`` in-process on the test's database (the one ``settings`` names)."""
    monkeypatch.setenv("MISSIONCTL_HOME", str(settings.home))
    monkeypatch.setenv("MISSIONCTL_DATABASE_URL", settings.database.url.get_secret_value())
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


def _gated_runs(settings: Settings, *step_ids: str) -> list[ApprovalRead]:
    """One run per step id, each a gated `command` step; their pending approvals."""

    async def go() -> list[ApprovalRead]:
        async with open_context(settings) as ctx:
            for step_id in step_ids:
                argv = [PY, "-c", f"print('{step_id}')"]
                await start(
                    ctx, [step(step_id, "command", inputs={"argv": argv}, risk_tier="write")]
                )
            return await list_approvals(ctx)

    return asyncio.run(go())


def _events(settings: Settings, prefix: str) -> list[Any]:
    async def go() -> list[Any]:
        async with open_context(settings, upgrade=False) as ctx:
            return [e for e in await read_event_page(ctx, limit=1000) if e.type.startswith(prefix)]

    return asyncio.run(go())


def test_approvals_lists_the_queue_and_approve_and_reject_decide(
    cli: Invoke, settings: Settings
) -> None:
    deploy, migrate = _gated_runs(settings, "deploy", "migrate")
    table = cli("approvals")
    assert table.exit_code == 0, table.output
    for text in ("deploy", "migrate", "write", "$0.00", str(deploy.id), "print"):
        assert text in table.output
    listed = json.loads(cli("approvals", "--json").output)
    assert [(a["step_id"], a["state"]) for a in listed] == [
        ("deploy", "pending"),
        ("migrate", "pending"),
    ]
    assert listed[0]["action"] == deploy.action

    approved = cli("approve", str(deploy.id), "--reason", "checked the target")
    assert approved.exit_code == 0, approved.output
    assert "approved" in approved.output and "by system" in approved.output
    assert "checked the target" in approved.output
    again = cli("approve", str(deploy.id))
    assert again.exit_code == 2 and "already approved by system" in again.output

    no_reason = cli("reject", str(migrate.step_run_id))
    assert no_reason.exit_code == 2 and "--reason" in no_reason.output
    blank = cli("reject", str(migrate.step_run_id), "--reason", "  ")
    assert blank.exit_code == 2 and "reason" in blank.output
    rejected = cli("reject", str(migrate.step_run_id), "--reason", "wrong schema")
    assert rejected.exit_code == 0 and "rejected" in rejected.output

    assert "no pending approvals" in cli("approvals").output
    decided = json.loads(cli("approvals", "--state", "decided", "--json").output)
    assert sorted((a["step_id"], a["decision"], a["decided_by"]) for a in decided) == [
        ("deploy", "approved", "system"),
        ("migrate", "rejected", "system"),
    ]
    history = cli("approvals", "--state", "all")
    assert history.exit_code == 0 and "rejected" in history.output and "approved" in history.output
    assert cli("approve", str(uuid.uuid4())).exit_code == 1
    assert cli("approve", "not-an-id").exit_code == 2
    decisions = [e for e in _events(settings, "approval.") if e.type != "approval.requested"]
    assert [(e.type, e.actor, e.step_id) for e in decisions] == [
        ("approval.approved", "system", "deploy"),
        ("approval.rejected", "system", "migrate"),
    ]


def _named_gate(settings: Settings, *approvers: str) -> ApprovalRead:
    """A run whose one step waits for one of ``approvers``; its pending approval."""

    async def go() -> ApprovalRead:
        async with open_context(settings) as ctx:
            for name, role in (("dana", Role.APPROVER), ("vic", Role.VIEWER)):
                if not any(user.name == name for user in await identity.list_users(ctx)):
                    await identity.create_user(
                        ctx, data=UserCreate(name=name, role=role), actor="system"
                    )
            gated = step("deploy", risk_tier="irreversible", approvers=list(approvers))
            run = await start(ctx, [gated])
            return (await list_approvals(ctx, run_id=run.id))[0]

    return asyncio.run(go())


def test_a_gate_that_names_its_approvers_is_decided_locally_with_as(
    cli: Invoke, settings: Settings
) -> None:
    gate = str(_named_gate(settings, "dana", "vic").id)
    refusals = {
        # As no user: the refusal says how to decide as one of them.
        (): (
            2,
            "only 'dana' or 'vic' may decide step 'deploy'; a caller that is no user may "
            "not; decide as one of them with --as NAME",
        ),
        ("--as", "ghost"): (1, "no enabled user is called 'ghost'"),
        # Named, but a viewer may decide nothing.
        ("--as", "vic"): (
            2,
            "user 'vic' has the viewer role: approvals:decide needs the approver role or above",
        ),
        ("--as", "Robert'); DROP TABLE users;--"): (1, "no enabled user is called"),
    }
    for extra, (code, said) in refusals.items():
        refused = cli("approve", gate, *extra)
        assert refused.exit_code == code, refused.output
        assert said in " ".join(refused.output.split()), refused.output
    assert json.loads(cli("approvals", gate, "--json").stdout)["state"] == "pending"

    approved = cli("approve", gate, "--as", "dana", "--reason", "checked the target")
    assert approved.exit_code == 0, approved.output
    assert "by user:dana" in approved.output
    decided = _events(settings, "approval.approved")
    assert [(e.actor, e.step_id) for e in decided] == [("user:dana", "deploy")]
    # Its twin, a moment late, is told who decided first; nothing changes.
    twin = cli("approve", gate, "--as", "dana")
    assert twin.exit_code == 2 and "already approved by user:dana" in twin.output

    other = str(_named_gate(settings, "dana").id)
    rejected = cli("reject", other, "--reason", "wrong window", "--as", "dana")
    assert rejected.exit_code == 0 and "rejected" in rejected.output


@pytest.mark.both_databases
def test_two_deciders_of_one_named_gate_at_once_record_one_decision(settings: Settings) -> None:
    """Two terminals, one approving and one rejecting as the named approver, at the same time."""
    gate = str(_named_gate(settings, "dana").id)
    env = os.environ | {
        "MISSIONCTL_HOME": str(settings.home),
        "MISSIONCTL_DATABASE_URL": settings.database.url.get_secret_value(),
    }
    argv = [sys.executable, "-c", "from missionctl.cli import main; main()"]
    twins = [
        subprocess.Popen(
            [*argv, verb, gate, "--as", "dana", "--reason", "at once"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for verb in ("approve", "reject")
    ]
    answers = [(twin.wait(timeout=60), twin.communicate()[0]) for twin in twins]
    assert sorted(code for code, _ in answers) == [0, 2], answers
    assert any("already" in said and "by user:dana" in said for code, said in answers if code)
    decisions = _events(settings, "approval.approved") + _events(settings, "approval.rejected")
    assert len(decisions) == 1 and decisions[0].actor == "user:dana"


def test_stop_needs_emergency_then_release_lets_work_resume(
    cli: Invoke, settings: Settings
) -> None:
    refused = cli("stop")
    assert refused.exit_code == 2 and "--emergency" in refused.output
    assert json.loads(cli("approvals", "--json").output) == []  # the database is usable
    assert _events(settings, "emergency.") == []

    stopped = cli("stop", "--emergency", "--reason", "bad deploy")
    assert stopped.exit_code == 0, stopped.output
    assert "emergency stop engaged" in stopped.output and "0 runs aborted" in stopped.output
    twice = cli("stop", "--emergency")
    assert twice.exit_code == 2 and "already on" in twice.output

    released = cli("release", "--reason", "rolled back")
    assert released.exit_code == 0 and "released" in released.output
    not_on = cli("release")
    assert not_on.exit_code == 2 and "not on" in not_on.output
    assert [(e.type, e.actor, e.payload["reason"]) for e in _events(settings, "emergency.")] == [
        ("emergency.stopped", "system", "bad deploy"),
        ("emergency.released", "system", "rolled back"),
    ]


def test_agents_disable_list_enable_and_restrict(cli: Invoke) -> None:
    def agents() -> dict[str, Any]:
        listed = cli("agents", "list", "--json")
        assert listed.exit_code == 0, listed.output
        return {a["name"]: a for a in json.loads(listed.output)}

    assert agents()["builtin:sleep"]["enabled"] is True
    disabled = cli("agents", "disable", "builtin:sleep")
    assert disabled.exit_code == 0 and "disabled" in disabled.output
    assert agents()["builtin:sleep"]["enabled"] is False
    table = cli("agents", "list")
    assert table.exit_code == 0 and "builtin:sleep" in table.output and "disabled" in table.output
    assert cli("agents", "enable", "builtin:sleep").exit_code == 0
    assert agents()["builtin:sleep"]["enabled"] is True

    restricted = cli("agents", "restrict", "command", "--tier", "read", "--tier", "write")
    assert restricted.exit_code == 0 and "read, write" in restricted.output
    assert agents()["command"]["allowed_risk_tiers"] == ["read", "write"]
    assert cli("agents", "restrict", "llm:*", "--tier", "read").exit_code == 0
    assert agents()["llm:*"]["allowed_risk_tiers"] == ["read"]
    cleared = cli("agents", "restrict", "command", "--all-tiers")
    assert cleared.exit_code == 0 and agents()["command"]["allowed_risk_tiers"] == []

    neither = cli("agents", "restrict", "command")
    assert neither.exit_code == 2 and "--all-tiers" in neither.output
    both = cli("agents", "restrict", "command", "--tier", "read", "--all-tiers")
    assert both.exit_code == 2
    assert cli("agents", "restrict", "command", "--tier", "sometimes").exit_code == 2
    unknown = cli("agents", "disable", "nope:agent")
    assert unknown.exit_code == 1 and "no agent" in unknown.output


def test_agents_allow_and_disallow_change_the_programs_steps_run_unapproved(
    cli: Invoke, settings: Settings
) -> None:
    def programs() -> dict[str, Any]:
        listed = json.loads(cli("agents", "list", "--json").output)
        programs: dict[str, Any] = {a["name"]: a for a in listed}["command"]["allowed_programs"]
        return programs

    empty = cli("agents", "list")
    assert empty.exit_code == 0 and "no program allowed" in empty.output
    allowed = cli("agents", "allow", "pytest", "--tier", "read")
    assert allowed.exit_code == 0, allowed.output
    assert "pytest" in allowed.output and "read" in allowed.output
    assert cli("agents", "allow", "/usr/bin/curl", "--tier", "write", "--network").exit_code == 0
    assert programs() == {
        "/usr/bin/curl": {"tier": "write", "network": True, "env": []},
        "pytest": {"tier": "read", "network": False, "env": []},
    }
    table = cli("agents", "list").output
    assert "/usr/bin/curl" in table and "pytest" in table and "yes" in table
    named = cli("agents", "allow", "pytest", "--tier", "read", "--env", "API_URL", "--env", "A")
    assert named.exit_code == 0, named.output
    assert programs()["pytest"]["env"] == ["A", "API_URL"]
    bad = cli("agents", "allow", "pytest", "--tier", "read", "--env", "NOT-A-NAME")
    assert bad.exit_code == 2 and "NOT-A-NAME" in bad.output and "env" in bad.output
    assert programs()["pytest"]["env"] == ["A", "API_URL"]

    relative = cli("agents", "allow", "./pytest", "--tier", "read")
    assert relative.exit_code == 2 and "relative path" in relative.output
    assert cli("agents", "allow", "pytest", "--tier", "sometimes").exit_code == 2
    assert cli("agents", "allow", "pytest").exit_code == 2  # --tier is required

    assert cli("agents", "disallow", "pytest").exit_code == 0
    assert list(programs()) == ["/usr/bin/curl"]
    changes = [e.payload for e in _events(settings, "agent.updated")]
    assert [c["programs_changed"] for c in changes] == [
        ["pytest"],
        ["/usr/bin/curl"],
        ["pytest"],
        ["pytest"],
    ]
    assert changes[-1]["allowed_programs"] == {"/usr/bin/curl": {"tier": "write", "network": True}}


def test_prices_list_shows_overrides_and_the_bundled_list(cli: Invoke) -> None:
    assert cli("prices", "set", "my-model", "--input", "0.5", "--output", "1.5").exit_code == 0
    table = cli("prices", "list")
    assert table.exit_code == 0, table.output
    assert "my-model" in table.output and "override" in table.output
    assert "gpt-4o-mini" in table.output and "genai-prices" in table.output
    listed = {p["model"]: p for p in json.loads(cli("prices", "list", "--json").output)}
    assert (listed["my-model"]["output_usd_per_mtok"], listed["my-model"]["source"]) == (
        1.5,
        "override",
    )


def test_a_price_without_cached_input_says_cached_tokens_cost_the_input_price(
    cli: Invoke, settings: Settings
) -> None:
    unset = cli("prices", "set", "plain-model", "--input", "1", "--output", "2")
    assert unset.exit_code == 0, unset.output
    assert "cached input: not set; cached tokens are charged at the input price" in unset.output
    assert "cached input = input" in cli("prices", "show", "plain-model").output
    given = cli(
        "prices", "set", "cache-model", "--input", "1", "--output", "2", "--cached-input", "0.1"
    )
    assert given.exit_code == 0, given.output
    assert "cached input $0.1" in given.output and "not set" not in given.output
    listed = {p["model"]: p for p in json.loads(cli("prices", "list", "--json").output)}
    assert listed["plain-model"]["cached_input_usd_per_mtok"] == 1.0
    assert listed["cache-model"]["cached_input_usd_per_mtok"] == 0.1
    given_by_model = {
        e.payload["model"]: e.payload["cached_input_given"] for e in _events(settings, "price.")
    }
    assert given_by_model == {"plain-model": False, "cache-model": True}
    help_text = " ".join(cli("prices", "set", "--help").output.split())
    assert "cached tokens are charged at the input price" in help_text


def test_the_commands_help_says_what_they_do(cli: Invoke) -> None:
    stop_help = cli("stop", "--help").output
    assert "--emergency" in stop_help and "release" in stop_help
    assert "--reason" in cli("reject", "--help").output
    assert "--all-tiers" in cli("agents", "restrict", "--help").output
    allow_help = cli("agents", "allow", "--help").output
    assert "--tier" in allow_help and "--network" in allow_help and "absolute path" in allow_help
    assert "--env" in allow_help and "LC_*" in allow_help
