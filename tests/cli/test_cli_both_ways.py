"""The commands on the local database and on a server (``MISSIONCTL_URL`` + ``MISSIONCTL_TOKEN``).

One live server per database for the whole module (its embedded engine runs what is started).
Each scenario runs twice: ``local`` works on the server's database and home directly, as
``system``; ``remote`` goes through the server's API as a token, from a home of its own that
must stay untouched.
"""

import asyncio
import json
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from missionctl.cli import app
from missionctl.domain.access import Role
from missionctl.schemas.runs import RunRead
from missionctl.services import open_context
from missionctl.services.usecases import identity
from missionctl.services.usecases.approvals import list_approvals
from missionctl.services.usecases.runs import read_run
from missionctl.settings import Settings
from tests.cli.test_remote_cli import assert_secret_hidden, text
from tests.conftest import LiveServer
from tests.engine.helpers import FINISHED, start, step
from tests.support.auth import ensure_user

GOAL = "Write a command-line tool that converts CSV files to Parquet with schema inference"
MODES = ["local", "remote"]
PY = sys.executable


@dataclass(frozen=True)
class World:
    """A live server on one database, the tokens made on it, and where the CLI keeps home."""

    settings: Settings
    url: str
    operator: str  # token "ci-bot" of alice, an operator
    viewer: str  # token "peek" of vera, a viewer
    admin: str  # token "root-bot" of ada, an admin
    remote_home: Path

    def cli(self, mode: str, *args: str, token: str | None = None) -> Result:
        """``missionctl ARGS`` in ``mode``; remotely as ``token`` (default: the operator's)."""
        if mode == "remote":
            env = {
                "MISSIONCTL_URL": self.url,
                "MISSIONCTL_TOKEN": token or self.operator,
                "MISSIONCTL_HOME": str(self.remote_home),
                "MISSIONCTL_DATABASE_URL": None,
            }
        else:
            env = {
                "MISSIONCTL_URL": None,
                "MISSIONCTL_TOKEN": None,
                "MISSIONCTL_HOME": str(self.settings.home),  # the server's blobs too
                "MISSIONCTL_DATABASE_URL": self.settings.database.url.get_secret_value(),
                "MISSIONCTL_ENGINE_POLL_S": "0.05",
                "MISSIONCTL_ENGINE_HEARTBEAT_S": "0.2",
            }
        return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)

    def actor(self, mode: str) -> str:
        """Who the events name for a command in ``mode`` (as the operator remotely)."""
        return "token:ci-bot" if mode == "remote" else "system"

    def service(self, work: Any) -> Any:
        """Await ``work(ctx)`` on the server's database (the test body is synchronous)."""

        async def go() -> Any:
            async with open_context(self.settings, upgrade=False) as ctx:
                return await work(ctx)

        return asyncio.run(go())

    def wait_run(self, run_id: uuid.UUID, statuses: set[str], within_s: float = 30) -> RunRead:
        """The run once its status is one of ``statuses``."""
        deadline = time.monotonic() + within_s
        while True:
            run: RunRead = self.service(lambda ctx: read_run(ctx, run_id=run_id))
            if run.status.value in statuses:
                return run
            assert time.monotonic() < deadline, f"run {run_id} stayed {run.status.value}"
            time.sleep(0.05)


async def _make_tokens(settings: Settings) -> tuple[str, str, str]:
    async with open_context(settings, upgrade=False) as ctx:
        secrets = []
        for user, role, token in (
            ("alice", Role.OPERATOR, "ci-bot"),
            ("vera", Role.VIEWER, "peek"),
            ("ada", Role.ADMIN, "root-bot"),
        ):
            await ensure_user(ctx, user, role)
            _, secret = await identity.create_token(ctx, user_name=user, name=token, actor="system")
            secrets.append(secret)
    return secrets[0], secrets[1], secrets[2]


@pytest.fixture(scope="module")
def world(module_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    live = LiveServer(module_settings)
    live.start()
    try:
        operator, viewer, admin = asyncio.run(_make_tokens(module_settings))
        remote_home = tmp_path_factory.mktemp("remote-cli") / "home"
        yield World(module_settings, live.url, operator, viewer, admin, remote_home)
    finally:
        live.stop()


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def as_json(result: Result) -> Any:
    return json.loads(ok(result).stdout)


@pytest.mark.parametrize("mode", MODES)
def test_a_mission_is_planned_run_and_read(world: World, mode: str, tmp_path: Path) -> None:
    mission = as_json(world.cli(mode, "mission", "create", GOAL, "--json"))
    mission_id = mission["id"]
    assert mission["created_by"] == world.actor(mode)
    no_plan = world.cli(mode, "mission", "show-plan", mission_id)
    assert no_plan.exit_code == 1 and "has no plan yet" in text(no_plan)
    assert "has no plan yet" in text(ok(world.cli(mode, "mission", "plans", mission_id)))
    too_soon = world.cli(mode, "mission", "run", mission_id)
    assert too_soon.exit_code == 2 and "has no plan yet; plan it first" in text(too_soon)

    planned = ok(world.cli(mode, "mission", "plan", mission_id))
    assert "plan v1 from the local planner" in text(planned)
    assert f"missionctl mission run {mission_id}" in text(planned)
    plan = as_json(world.cli(mode, "mission", "show-plan", mission_id, "--version", "1", "--json"))
    assert plan["version"] == 1 and len(plan["tasks"]) >= 6
    _plan_again_list_and_compare(world, mode, mission_id)

    run = as_json(world.cli(mode, "mission", "run", mission_id, "--json"))
    assert run["status"] == "completed" and run["created_by"] == world.actor(mode)
    run_id = run["id"]

    shown = ok(world.cli(mode, "runs", "show", run_id))
    assert f"run {run_id} completed" in text(shown)
    # Every step id, a long one folded onto a second line at 80 columns rather than cut.
    assert all(s["step_id"][:16] in shown.output for s in run["steps"])
    assert "…" not in shown.output
    first = ok(world.cli(mode, "runs", "events", run_id, "--limit", "3"))
    assert "run.created" in first.output and "more: --after" in text(first)
    after = text(first).split("more: --after ")[1].split()[0]
    rest = as_json(world.cli(mode, "runs", "events", run_id, "--after", after, "--json"))
    assert rest["items"][0]["seq"] > int(after)
    assert "run.completed" in [e["type"] for e in rest["items"]]

    produced = as_json(world.cli(mode, "runs", "artifacts", run_id, "--json"))
    assert produced, "the specialists wrote nothing"
    listed = ok(world.cli(mode, "runs", "artifacts", run_id))
    assert produced[0]["id"] in listed.output
    of_mission = as_json(world.cli(mode, "mission", "artifacts", mission_id, "--json"))
    assert {a["id"] for a in produced} <= {a["id"] for a in of_mission}

    artifact = produced[0]
    described = ok(world.cli(mode, "artifact", "show", artifact["id"]))
    assert artifact["name"] in described.output and artifact["sha256"] in text(described)
    target = tmp_path / "copy.bin"
    ok(world.cli(mode, "artifact", "download", artifact["id"], "-o", str(target)))
    assert target.stat().st_size == artifact["size"]
    again = world.cli(mode, "artifact", "download", artifact["id"], "-o", str(target))
    assert again.exit_code == 2 and "add --force" in text(again)
    piped = ok(world.cli(mode, "artifact", "download", artifact["id"], "-o", "-"))
    assert piped.stdout_bytes == target.read_bytes()

    markdown = ok(world.cli(mode, "runs", "report", run_id))
    assert markdown.stdout.startswith("#") and mission["title"] in markdown.stdout
    report = as_json(world.cli(mode, "runs", "report", run_id, "--json"))
    assert report["outcome"]["status"] == "completed"
    assert len(report["tasks"]) == len(run["steps"])
    assert not world.remote_home.exists(), "a remote command touched a local home"


OFFLINE = ("-c", "Python 3.11", "-c", "Mobile app with offline sync")


def _plan_again_list_and_compare(world: World, mode: str, mission_id: str) -> None:
    """Plan v1 exists: plan again with a changed context, then list, read and compare."""
    bad = world.cli(mode, "mission", "plan", mission_id, "-c", "")
    assert bad.exit_code == 2 and "--constraint: String should have at least 1" in text(bad)
    repo = "An existing Django monolith"
    again = world.cli(mode, "mission", "plan", mission_id, *OFFLINE, "--repo-context", repo)
    assert "plan v2 from the local planner" in text(ok(again))
    mission = as_json(world.cli(mode, "mission", "show", mission_id, "--json"))
    assert mission["constraints"] == list(OFFLINE[1::2]) and mission["repo_context"] == repo

    versions = as_json(world.cli(mode, "mission", "plans", mission_id, "--json"))
    assert [(v["version"], v["source"]) for v in versions] == [(2, "local"), (1, "local")]
    listed = text(ok(world.cli(mode, "mission", "plans", mission_id)))
    assert "Plan versions (2)" in listed and f"{versions[0]['tasks']} tasks" in listed
    assert f"missionctl mission plan-diff {mission_id} 2 --base 1" in listed
    first = as_json(world.cli(mode, "mission", "show-plan", mission_id, "--version", "1", "--json"))
    assert first["version"] == 1

    diff = ok(world.cli(mode, "mission", "plan-diff", mission_id, "2"))  # --base: the one before
    shown = text(diff)
    assert "plan v2 compared with v1 summary changed" in shown
    assert "+ offline-sync: Local storage and offline sync" in shown
    assert "+ Sync conflicts after offline use" in shown and ": Constraint: Python 3.11" in shown
    assert "~ cli-spec (depends_on): Specify commands" in shown  # a changed task, its fields
    assert max(len(line.rstrip()) for line in diff.output.splitlines()) <= 80
    as_data = as_json(
        world.cli(mode, "mission", "plan-diff", mission_id, "2", "--base", "1", "--json")
    )
    assert (as_data["base"], as_data["target"], as_data["same"]) == (1, 2, False)
    assert "offline-sync" in [i["key"] for i in as_data["sections"][0]["added"]]
    same = ok(world.cli(mode, "mission", "plan-diff", mission_id, "1", "--base", "1"))
    assert "plan v1 compared with v1: the same plan" in text(same)

    for args in (("show-plan", mission_id, "--version", "9"), ("plan-diff", mission_id, "9")):
        missing = world.cli(mode, "mission", *args)
        assert missing.exit_code == 1 and "has no plan version 9" in text(missing), args
    no_base = world.cli(mode, "mission", "plan-diff", mission_id, "2", "--base", "7")
    assert no_base.exit_code == 1 and "has no plan version 7" in text(no_base)
    for args in (
        ("plan-diff", mission_id, "0"),
        ("plan-diff", mission_id, "two"),
        ("plan-diff", mission_id, "2", "--base", "0"),
        ("show-plan", mission_id, "--version", "0"),
        ("plan-diff", mission_id, "1"),  # no version before 1 to compare with
    ):
        refused = world.cli(mode, "mission", *args)
        assert refused.exit_code == 2 and "Traceback" not in refused.output, args
    assert "--base: version 1 has no version before it" in text(refused)


def _failing_and_slow_runs(world: World) -> tuple[RunRead, RunRead]:
    async def go(ctx: Any) -> tuple[RunRead, RunRead]:
        flaky = step("flaky", "builtin:fail", inputs={"fail_attempts": 1, "retryable": False})
        slow = step("wait", "builtin:sleep", inputs={"seconds": 30})
        return await start(ctx, [flaky]), await start(ctx, [slow])

    failing, slow = world.service(go)
    return world.wait_run(failing.id, {"failed"}), slow


@pytest.mark.parametrize("mode", MODES)
def test_runs_are_canceled_rerun_and_retried(world: World, mode: str) -> None:
    failing, slow = _failing_and_slow_runs(world)

    canceled = ok(world.cli(mode, "runs", "cancel", str(slow.id)))
    assert "canceled" in text(canceled) and f"run {slow.id} canceled" in text(canceled)
    twice = world.cli(mode, "runs", "cancel", str(slow.id))
    assert twice.exit_code == 2, twice.output

    rerun = as_json(world.cli(mode, "runs", "rerun", str(failing.id), "--json"))
    assert rerun["rerun_of"] == str(failing.id) and rerun["created_by"] == world.actor(mode)
    retried = ok(world.cli(mode, "runs", "retry", str(failing.id), "flaky"))
    assert "step flaky queued again" in text(retried)
    assert world.wait_run(failing.id, FINISHED).status.value == "completed"
    unknown_step = world.cli(mode, "runs", "retry", str(failing.id), "nope")
    assert unknown_step.exit_code == 1 and "has no step 'nope'" in text(unknown_step)
    world.wait_run(uuid.UUID(rerun["id"]), FINISHED)


@pytest.mark.parametrize("mode", MODES)
def test_runs_risks_show_each_steps_chances_to_a_viewer(world: World, mode: str) -> None:
    steps = [step("fetch"), step("build", "builtin:noop", "fetch")]
    run = world.service(lambda ctx: start(ctx, steps, name=f"risky-{mode}"))
    token = world.viewer  # the lowest role may read them
    answer = as_json(world.cli(mode, "runs", "risks", str(run.id), "--json", token=token))
    assert answer["run_id"] == str(run.id) and answer["alert_at"] == 0.5
    assert {s["step_id"] for s in answer["steps"]} == {"fetch", "build"}
    for risk in answer["steps"]:
        # A new workflow's steps: a guess from the steps before them, and it says so.
        assert not risk["sure"] and not risk["at_risk"] and risk["evidence"] == 0
        assert 0 < risk["chances"]["fail"] < 1 and "leans on builtin:noop" in risk["reasons"][-1]
    table = text(ok(world.cli(mode, "runs", "risks", str(run.id), token=token)))
    assert "Step risks (alert at 50% to fail)" in table and "fetch" in table and "*" in table
    ghost = str(uuid.uuid4())
    missing = world.cli(mode, "runs", "risks", ghost, token=token)
    assert missing.exit_code == 1 and f"no run with id {ghost}" in text(missing)
    world.wait_run(run.id, FINISHED)


@pytest.mark.parametrize("mode", MODES)
def test_runs_are_listed_with_filters_and_pages(world: World, mode: str) -> None:
    marker = f"lister-{mode}-{uuid.uuid4().hex[:8]}"
    first, second = world.service(
        lambda ctx: _two_runs_of(ctx, marker)  # two runs of a workflow with a unique name
    )
    for run in (first, second):
        world.wait_run(run.id, FINISHED)

    page = as_json(world.cli(mode, "runs", "list", "--workflow", marker, "--limit", "1", "--json"))
    assert page["total"] == 2 and [item["id"] for item in page["items"]] == [str(second.id)]
    rest = as_json(
        world.cli(
            mode, "runs", "list", "--workflow", marker, "--cursor", page["next_cursor"], "--json"
        )
    )
    assert [item["id"] for item in rest["items"]] == [str(first.id)] and rest["next_cursor"] is None
    failed = as_json(world.cli(mode, "runs", "list", "-q", marker, "--status", "failed", "--json"))
    assert failed["total"] == 0

    table = ok(world.cli(mode, "runs", "list", "--workflow", marker))
    assert str(second.id) in table.stdout and "Runs (2)" in table.stdout
    assert all(len(line) <= 80 for line in table.stdout.splitlines()), table.stdout
    assert "completed" in table.stdout and f"{second.created_at:%Y-%m-%d}" in table.stdout

    empty = world.cli(mode, "runs", "list", "--after", "2030-01-02", "--before", "2030-01-01")
    assert empty.exit_code == 2 and "created_after" in text(empty), empty.output
    bad = world.cli(mode, "runs", "list", "--workflow", "x" * 1000)
    assert bad.exit_code == 2 and "--workflow" in text(bad), bad.output
    assert "Traceback" not in empty.output + bad.output


async def _two_runs_of(ctx: Any, name: str) -> tuple[RunRead, RunRead]:
    noop = step("only", "builtin:noop")
    first = await start(ctx, [noop], name=name)
    return first, await start(ctx, [noop], name=name)


@pytest.mark.parametrize("mode", MODES)
def test_bad_ids_and_missing_things_are_named(world: World, mode: str) -> None:
    ghost = str(uuid.uuid4())
    for args in (
        ("runs", "show", ghost),
        ("runs", "events", ghost),
        ("runs", "report", ghost),
        ("artifact", "show", ghost),
        ("mission", "plan", ghost),
        ("mission", "plan", ghost, "--repo-context", "a monolith"),
        ("mission", "plans", ghost),
        ("mission", "plan-diff", ghost, "2"),
        ("mission", "run", ghost),
    ):
        missing = world.cli(mode, *args)
        assert missing.exit_code == 1, (args, missing.output)
        assert ghost in text(missing), (args, missing.output)
    for args in (("runs", "cancel", "12"), ("artifact", "download", "x"), ("mission", "plan", "-")):
        malformed = world.cli(mode, *args)
        assert malformed.exit_code == 2, (args, malformed.output)
        said = " ".join(text(malformed).split())
        assert "is not an id or the start of one" in said or "too short" in said, said
        assert "Traceback" not in malformed.output


def test_a_viewer_may_read_runs_but_not_act_on_them(world: World) -> None:
    wait = step("wait", "builtin:sleep", inputs={"seconds": 30})
    slow = world.service(lambda ctx: start(ctx, [wait]))
    refused = world.cli("remote", "runs", "cancel", str(slow.id), token=world.viewer)
    assert refused.exit_code == 2, refused.output
    assert "runs:control needs the operator role or above; you act as viewer" in text(refused)
    assert "refused" not in text(refused)  # the token is valid: it may not do this
    shown = as_json(world.cli("remote", "runs", "show", str(slow.id), "--json", token=world.viewer))
    assert shown["status"] in ("queued", "running")
    plan = world.cli("remote", "mission", "plan", str(uuid.uuid4()), token=world.viewer)
    assert plan.exit_code == 2 and "missions:write needs the operator role" in text(plan)
    ghost = str(uuid.uuid4())  # a viewer may read plan versions: the answer is "no such mission"
    versions = world.cli("remote", "mission", "plans", ghost, token=world.viewer)
    assert versions.exit_code == 1 and f"no mission with id {ghost}" in text(versions)
    ok(world.cli("remote", "runs", "cancel", str(slow.id)))
    assert_secret_hidden(world.viewer, refused, plan)


PIPELINE = """\
name: fan
steps:
  - {id: a, agent: "builtin:noop"}
  - {id: b, agent: "builtin:noop", depends_on: [a]}
"""


def test_workflows_through_the_server(world: World, tmp_path: Path) -> None:
    def cli(*args: str) -> Result:
        return world.cli("remote", *args)

    definition = tmp_path / "fan.yaml"
    definition.write_text(PIPELINE)
    checked = ok(cli("workflow", "validate", str(definition)))
    assert "OK fan: 2 steps in 2 layers" in text(checked)
    saved = as_json(cli("workflow", "apply", str(definition), "--json"))
    assert saved["created_by"] == "token:ci-bot" and saved["version"] == 1
    assert as_json(cli("workflow", "apply", str(definition), "--json"))["version"] == 2
    versions = as_json(cli("workflow", "versions", "fan", "--json"))
    assert [v["version"] for v in versions] == [2, 1]
    assert "Versions of fan (2)" in ok(cli("workflow", "versions", "fan")).output
    assert "fan" in [w["name"] for w in as_json(cli("workflow", "list", "--json"))]
    shown = ok(cli("workflow", "show", saved["id"]))
    assert "fan v1" in text(shown) and "builtin:noop" in shown.output
    assert as_json(cli("workflow", "show", "fan", "--json"))["version"] == 2
    assert "properties" in as_json(cli("workflow", "schema"))

    ran = as_json(cli("workflow", "run", "fan", "--json"))
    assert ran["status"] == "completed" and ran["created_by"] == "token:ci-bot"
    followed = ok(cli("workflow", "run", "fan"))
    assert "run completed" in text(followed)
    detached = ok(cli("workflow", "run", "fan", "--detach"))
    assert "started run" in text(detached)
    ghost = cli("workflow", "run", "ghost.yaml")
    assert ghost.exit_code == 1 and "no file ghost.yaml, and no workflow of that name" in text(
        ghost
    )
    assert not world.remote_home.exists()


def _gated(world: World, count: int) -> list[str]:
    async def go(ctx: Any) -> list[str]:
        runs = []
        for index in range(count):
            argv = [PY, "-c", f"print({index})"]
            gated = step("gated", "command", inputs={"argv": argv}, risk_tier="write")
            runs.append((await start(ctx, [gated])).id)
        return [str(r) for r in runs]

    run_ids = world.service(go)
    deadline = time.monotonic() + 30
    while True:
        pending = world.service(lambda ctx: list_approvals(ctx, state="pending"))
        mine = [str(a.id) for a in pending if str(a.run_id) in run_ids]
        if len(mine) == count:
            return mine
        assert time.monotonic() < deadline, "the gated steps never waited for approval"
        time.sleep(0.05)


def test_governance_through_the_server(world: World) -> None:
    def admin(*args: str) -> Result:
        return world.cli("remote", *args, token=world.admin)

    first, second = _gated(world, 2)
    queue = ok(admin("approvals"))
    assert first in queue.output and "decide with" in queue.output
    one = as_json(admin("approvals", first, "--json"))
    assert one["id"] == first and one["state"] == "pending"
    approved = ok(admin("approve", first, "--reason", "looks fine"))
    assert "approved step gated" in text(approved) and "token:root-bot" in text(approved)
    # A server decides as its token's user: acting as someone else is refused, nothing decided.
    posing = admin("reject", second, "--reason", "not now", "--as", "vera")
    assert posing.exit_code == 2 and "--as: a server acts as its token's user" in posing.output
    assert as_json(admin("approvals", second, "--json"))["state"] == "pending"
    rejected = ok(admin("reject", second, "--reason", "not now"))
    assert "rejected" in text(rejected)
    decided = as_json(admin("approvals", "--state", "decided", "--json"))
    assert {first, second} <= {a["id"] for a in decided}

    assert "the emergency stop is off" in text(ok(admin("controls")))
    engaged = ok(admin("stop", "--emergency", "--reason", "drill"))
    assert "emergency stop engaged by token:root-bot" in text(engaged)
    on = as_json(admin("controls", "--json"))
    assert on["emergency_stop"] is True and on["reason"] == "drill"
    operator_release = world.cli("remote", "release")
    assert operator_release.exit_code == 2
    assert "needs the admin role" in text(operator_release)
    assert "released" in text(ok(admin("release", "--reason", "drill over")))

    disabled = ok(admin("agents", "disable", "builtin:sleep"))
    assert "builtin:sleep disabled" in text(disabled)
    ok(admin("agents", "enable", "builtin:sleep"))
    allowed = ok(admin("agents", "allow", "make", "--tier", "read"))
    assert "make" in allowed.output
    ok(admin("agents", "disallow", "make"))
    agents = as_json(admin("agents", "list", "--json"))
    assert next(a for a in agents if a["name"] == "builtin:sleep")["enabled"] is True

    price = ok(admin("prices", "set", "acme/model-1", "--input", "1.5", "--output", "3"))
    assert "acme/model-1" in text(price) and "override" in text(price)
    assert "override" in text(ok(admin("prices", "show", "acme/model-1")))
    assert "acme/model-1" in {p["model"] for p in as_json(admin("prices", "list", "--json"))}
    catalogued = ok(admin("models", "set", "acme/model-1", "--routable", "--tier", "2"))
    assert "acme/model-1: routable, tier 2 (standard)" in text(catalogued)
    entry = next(
        m for m in as_json(admin("models", "list", "--json")) if m["model"] == "acme/model-1"
    )
    assert entry["routable"] and entry["tier"] == 2 and entry["priced"]
    assert admin("models", "set", "acme/model-1", "--tier", "9").exit_code == 2

    ok(admin("user", "add", "bob", "--role", "viewer"))
    assert "bob operator" in text(ok(admin("user", "set-role", "bob", "operator")))
    made = ok(admin("token", "create", "bob-bot", "--user", "bob"))
    secret = made.stdout.strip().splitlines()[-1]
    assert secret.startswith("mc_")
    assert "bob-bot" in {
        t["name"] for t in as_json(admin("token", "list", "--user", "bob", "--json"))
    }
    whoami = as_json(world.cli("remote", "whoami", "--json", token=secret))
    assert whoami["actor"] == "token:bob-bot" and whoami["role"] == "operator"
    assert "revoked bob-bot" in text(ok(admin("token", "revoke", "bob-bot")))
    assert "disabled" in text(ok(admin("user", "disable", "bob")))
    users = as_json(admin("user", "list", "--json"))
    assert next(u for u in users if u["name"] == "bob")["disabled"] is True
    assert not world.remote_home.exists()
    assert_secret_hidden(world.admin, queue, approved, engaged, disabled, price, made)


def test_the_other_new_commands_work_locally_too(world: World, tmp_path: Path) -> None:
    (approval,) = _gated(world, 1)
    one = as_json(world.cli("local", "approvals", approval, "--json"))
    assert one["id"] == approval and one["state"] == "pending"
    assert "the emergency stop is off" in text(ok(world.cli("local", "controls")))
    definition = tmp_path / "fan.yaml"
    definition.write_text(PIPELINE.replace("name: fan", "name: fan-local"))
    ok(world.cli("local", "workflow", "apply", str(definition)))
    versions = as_json(world.cli("local", "workflow", "versions", "fan-local", "--json"))
    assert [(v["version"], v["created_by"]) for v in versions] == [(1, "system")]
    unknown = world.cli("local", "workflow", "versions", "ghost")
    assert unknown.exit_code == 1 and "no workflow 'ghost'" in text(unknown)
    ok(world.cli("local", "reject", approval, "--reason", "not today"))
    ok(world.cli("local", "models", "set", "gpt-4o-mini", "--routable", "--no-tools"))
    local = as_json(world.cli("local", "models", "list", "--json"))
    mini = next(m for m in local if m["model"] == "gpt-4o-mini")
    assert mini["routable"] and mini["tool_use"] is False and mini["context_tokens"] == 128_000


@pytest.mark.parametrize("mode", MODES)
def test_a_token_name_that_breaks_the_rule_is_refused_naming_the_rule(
    world: World, mode: str
) -> None:
    # The rule is printed as written, its brackets included (they are not markup).
    refused = world.cli(mode, "token", "create", "Bad_Name", "--user", "ada", token=world.admin)
    assert refused.exit_code == 2 and refused.stdout == ""
    assert "NAME: String should match pattern '^[a-z0-9][a-z0-9._-]{0,62}$'" in text(refused)


VAGUE = "Build a thing."
SALON = "Build a web app where salon clients book haircut appointments and pay a deposit"


@pytest.mark.parametrize("mode", MODES)
def test_the_planners_questions_are_answered_from_the_command_line(world: World, mode: str) -> None:
    mission_id = as_json(world.cli(mode, "mission", "create", VAGUE, "--json"))["id"]

    asked = world.cli(mode, "mission", "plan", mission_id)
    assert asked.exit_code == 1, asked.output
    assert "the planner asks before it plans" in text(asked)
    assert "1. What should it do?" in text(asked) and "4. What must it connect to" in text(asked)
    assert f'missionctl mission answer {mission_id} "ANSWER 1"' in text(asked)
    waiting = ok(world.cli(mode, "mission", "show", mission_id))
    assert "status needs_clarification" in text(waiting)
    assert f"waiting for answers: missionctl mission answer {mission_id}" in text(waiting)
    listed = world.cli(mode, "mission", "list", "--status", "needs_clarification", "--json")
    assert mission_id in [m["id"] for m in as_json(listed)["items"]]

    empty = world.cli(mode, "mission", "answer", mission_id, "", " ")
    assert empty.exit_code == 2 and "ANSWER: answer at least one question" in text(empty)
    too_many = world.cli(mode, "mission", "answer", mission_id, *["a"] * 5)
    assert too_many.exit_code == 2 and "send at most 4 answers" in text(too_many)
    nothing_yet = as_json(world.cli(mode, "mission", "show", mission_id, "--json"))
    assert nothing_yet["clarifications"][0]["answers"] is None

    planned = ok(world.cli(mode, "mission", "answer", mission_id, SALON, "", "A web app"))
    assert "plan v1 from the local planner" in text(planned)
    assert f"run it with: missionctl mission run {mission_id}" in text(planned)
    shown = ok(world.cli(mode, "mission", "show", mission_id))
    assert "status planned" in text(shown) and f"→ {SALON}" in text(shown)
    assert "→ (not answered)" in text(shown)

    again = world.cli(mode, "mission", "answer", mission_id, SALON)
    assert again.exit_code == 2 and "planned, not waiting for answers" in text(again)


@pytest.mark.parametrize("mode", MODES)
def test_a_plan_that_asks_prints_the_questions_as_json(world: World, mode: str) -> None:
    mission_id = as_json(world.cli(mode, "mission", "create", VAGUE, "--json"))["id"]

    asked = world.cli(mode, "mission", "plan", mission_id, "--json")

    assert asked.exit_code == 1
    body = json.loads(asked.stdout)
    assert body["mission_id"] == mission_id and body["status"] == "needs_clarification"
    assert len(body["questions"]) == 4
    again = world.cli(mode, "mission", "answer", mission_id, "something", "--json")
    assert again.exit_code == 1 and json.loads(again.stdout)["questions"] == body["questions"]


def test_a_viewer_cannot_answer_the_planners_questions(world: World) -> None:
    mission_id = as_json(world.cli("local", "mission", "create", VAGUE, "--json"))["id"]
    assert world.cli("local", "mission", "plan", mission_id).exit_code == 1

    refused = world.cli("remote", "mission", "answer", mission_id, SALON, token=world.viewer)

    assert refused.exit_code == 2
    shown = as_json(world.cli("local", "mission", "show", mission_id, "--json"))
    assert shown["status"] == "needs_clarification"


@pytest.mark.parametrize("mode", MODES)
def test_search_finds_a_runs_log_line_and_error(world: World, mode: str) -> None:
    word = f"sprocket{mode}"
    failing = step(
        "grind", "builtin:fail", inputs={"message": f"{word} jammed", "retryable": False}
    )
    run = world.service(lambda ctx: start(ctx, [failing]))
    world.wait_run(run.id, {"failed"})

    page = as_json(world.cli(mode, "search", word, "--run", str(run.id), "--json"))
    assert [(h["kind"], h["step_id"]) for h in page["items"]] == [
        ("error", "grind"),
        ("log", "grind"),
    ]
    assert [p["text"] for p in page["items"][1]["snippet"] if p["match"]] == [word]
    logs = as_json(world.cli(mode, "search", f"{word[:6]}*", "--kind", "log", "--json"))
    assert {h["run_id"] for h in logs["items"]} >= {str(run.id)}
    shown = text(ok(world.cli(mode, "search", f'"{word} jammed"', "--limit", "1")))
    assert f"run {run.id} step grind" in shown and "more: --cursor" in shown
    refused = world.cli(mode, "search", '" :')
    assert refused.exit_code == 2 and "no word to search for" in text(refused)
    assert "Traceback" not in refused.output
