"""Running a program waits for an approver unless an admin allow-listed it (ADR 0024).

Runs are started without an engine where only admission matters: a ready ``command`` step is
judged when the run starts, so its status right after tells what the engine decided.
"""

import asyncio
import os
import sys
from typing import Any

import pytest
import yaml

from missionctl.agents.sandbox import search_path
from missionctl.domain.governance import (
    ProgramRule,
    command_gate,
    env_name_problem,
    higher_tier,
    parse_programs,
    program_problem,
)
from missionctl.domain.workflows import WorkflowDag
from missionctl.schemas.governance import AgentUpdate
from missionctl.schemas.runs import RunRead
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.usecases.agents import list_agents, update_agent
from missionctl.services.usecases.approvals import decide_approval, list_approvals
from missionctl.services.usecases.audit import read_event_page
from missionctl.services.usecases.runs import read_run, retry_step
from missionctl.services.usecases.workflows import step_gates, stored_spec, validate_workflow
from tests.engine.helpers import allow, run_events, running_engine, start, step, wait_for_run

PY = sys.executable
WAITS, RUNS = "awaiting_approval", "queued"


def command(step_id: str, argv: list[str], *deps: str, **fields: Any) -> dict[str, Any]:
    """A command step; ``network`` and ``env`` go to its inputs."""
    inputs: dict[str, Any] = {"argv": argv}
    for name in ("network", "env"):
        if name in fields:
            inputs[name] = fields.pop(name)
    return step(step_id, "command", *deps, inputs=inputs, **fields)


def statuses(run: RunRead) -> dict[str, str]:
    return {s.step_id: s.status for s in run.steps}


async def disallow(ctx: ServiceContext, *programs: str) -> None:
    change = AgentUpdate(allowed_programs=dict.fromkeys(programs))
    await update_agent(ctx, name="command", data=change, actor="user:admin")


# --- The rule, pure ----------------------------------------------------------------------------


def test_an_entry_is_a_bare_name_or_a_plain_absolute_path() -> None:
    for program in ("pytest", "python3.11", "/usr/bin/make", "/opt/tools/bin/x-y_z"):
        assert program_problem(program) is None, program
    refused = {
        "": "empty",
        "./pytest": "relative path",
        "bin/pytest": "relative path",
        "/usr/bin/../../tmp/x": "'..'",
        "/usr//bin/make": "empty",
        "pytest\x00": "control character",
        " pytest": "space",
        "x" * 513: "longer than 512",
    }
    for program, why in refused.items():
        assert why in (program_problem(program) or ""), program


def test_a_stored_entry_that_cannot_be_read_allows_nothing() -> None:
    config = {
        "allowed_programs": {
            "pytest": {"tier": "read"},
            "make": {"tier": "sometimes"},
            "curl": {"tier": "read", "network": "yes"},
            "./evil": {"tier": "read"},
            "git": "read",
        }
    }
    assert dict(parse_programs(config)) == {"pytest": ProgramRule("read", False)}
    assert dict(parse_programs({"allowed_programs": ["pytest"]})) == {}
    assert dict(parse_programs(None)) == {}


def test_a_program_runs_at_the_higher_of_its_listed_and_declared_tier() -> None:
    assert higher_tier("read", "write") == higher_tier("write", "read") == "write"
    assert higher_tier("irreversible", "read") == "irreversible"
    programs = {"pytest": ProgramRule("read"), "make": ProgramRule("write")}

    def gate(argv0: str, tier: str = "read", gated: bool = False, **inputs: Any) -> Any:
        return command_gate(
            programs, inputs={"argv": [argv0], **inputs}, risk_tier=tier, policy_gated=gated
        )

    assert (gate("pytest").gated, gate("pytest").risk_tier) == (False, "read")
    assert (gate("pytest", "irreversible").gated, gate("pytest", "irreversible").risk_tier) == (
        True,
        "irreversible",
    )
    assert (gate("make").gated, gate("make").risk_tier) == (True, "write")
    assert gate("pytest", gated=True).gated  # the workflow may add a gate
    unlisted = gate("rm")
    assert (unlisted.gated, unlisted.risk_tier) == (True, "write")
    assert "not on the command agent's allow-list" in (unlisted.reason or "")
    assert gate("pytest", env={"PATH": "."}).gated
    assert gate("pytest", env={"LD_PRELOAD": "./x.so"}).gated
    assert not gate("pytest", env={"CI": "1"}).gated
    assert gate("pytest", network=True).gated
    templated = command_gate(
        programs,
        inputs={"argv": ["{{ inputs.tool }}"]},
        risk_tier="read",
        policy_gated=False,
        rendered=False,
    )
    assert templated.gated and "known only when the step runs" in (templated.reason or "")


def test_the_sandbox_path_holds_only_absolute_directories(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", os.pathsep.join(["", ".", "bin", "/usr/bin", "/bin"]))
    entries = search_path().split(os.pathsep)
    assert entries[1:] == ["/usr/bin", "/bin"] and all(e.startswith("/") for e in entries)


# --- In the engine -----------------------------------------------------------------------------


async def test_an_unlisted_program_waits_whatever_its_workflow_says_until_an_admin_lists_it(
    ctx: ServiceContext,
) -> None:
    # An operator's step that claims to be harmless and to need no approval.
    script = command("script", [PY, "-c", "print('hi')"], risk_tier="read", requires_approval=False)
    first = await start(ctx, [script])
    assert statuses(await read_run(ctx, run_id=first.id)) == {"script": WAITS}
    [approval] = await list_approvals(ctx, run_id=first.id)
    assert (approval.risk_tier, approval.inputs["argv"][0]) == ("write", PY)
    [requested] = [e for e in await run_events(ctx, first.id) if e.type == "approval.requested"]
    assert "not on the command agent's allow-list" in requested.payload["reason"]

    await allow(ctx, PY)
    second = await start(ctx, [script])
    assert statuses(await read_run(ctx, run_id=second.id)) == {"script": RUNS}
    async with running_engine(ctx):
        done = await wait_for_run(ctx, second.id)
    assert done.status == "completed" and done.steps[0].outputs["stdout_tail"] == "hi"
    # The allow released nothing that was waiting: an approver still decides the first.
    assert statuses(await read_run(ctx, run_id=first.id)) == {"script": WAITS}
    assert [a.id for a in await list_approvals(ctx, state="pending")] == [approval.id]


async def test_a_program_matches_only_as_written(ctx: ServiceContext) -> None:
    await allow(ctx, "true")
    run = await start(
        ctx,
        [
            command("bare", ["true"]),
            command("dotted", ["./true"]),
            command("absolute", ["/usr/bin/true"]),
            command("elsewhere", ["/tmp/x/true"]),
        ],
    )
    assert statuses(await read_run(ctx, run_id=run.id)) == {
        "bare": RUNS,
        "dotted": WAITS,
        "absolute": WAITS,
        "elsewhere": WAITS,
    }


async def test_a_listed_bare_name_is_never_a_file_of_the_workspace(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Even with the server's PATH naming the working directory (an empty entry), a listed `sh`
    # is the system's: the first attempt plants an impostor in the workspace, the second runs.
    monkeypatch.setenv("PATH", os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"))
    await allow(ctx, "sh")
    plant = (
        "if [ -e sh ]; then echo system-sh; exit 0; fi; "
        "printf '#!/bin/sh\\necho impostor\\n' > sh; chmod +x sh; exit 1"
    )
    retry = {"max_attempts": 2, "backoff_s": 0, "jitter": False}
    run = await start(ctx, [command("twice", ["sh", "-c", plant], retry=retry)])
    async with running_engine(ctx):
        done = await wait_for_run(ctx, run.id)
    assert done.status == "completed", done.steps[0].error
    assert done.steps[0].outputs["stdout_tail"] == "system-sh"


async def test_tiers_network_and_environment_decide_the_gate(ctx: ServiceContext) -> None:
    await allow(ctx, "true")
    await allow(ctx, "env", network=True)
    await allow(ctx, "date", tier="write")
    run = await start(
        ctx,
        [
            command("read", ["true"]),
            command("declared", ["true"], risk_tier="irreversible"),
            command("tightened", ["true"], requires_approval=True),
            command("listed-write", ["date"], requires_approval=False),
            command("offline-asks", ["true"], network=True),
            command("online", ["env"], network=True),
            command("own-path", ["true"], env={"PATH": "/tmp"}),
        ],
    )
    assert statuses(await read_run(ctx, run_id=run.id)) == {
        "read": RUNS,
        "declared": WAITS,
        "tightened": WAITS,
        "listed-write": WAITS,
        "offline-asks": WAITS,
        "online": RUNS,
        "own-path": WAITS,
    }
    tiers = {a.step_id: a.risk_tier for a in await list_approvals(ctx, run_id=run.id)}
    assert tiers == {
        "declared": "irreversible",
        "tightened": "read",
        "listed-write": "write",
        "offline-asks": "write",
        "own-path": "write",
    }


async def test_a_templated_program_is_judged_as_rendered(ctx: ServiceContext) -> None:
    await allow(ctx, "true")
    steps = [command("tool", ["{{ inputs.tool }}"])]
    declared = {"tool": {"type": "string", "required": True}}
    listed = await start(ctx, steps, inputs=declared, run_inputs={"tool": "true"})
    dotted = await start(ctx, steps, inputs=declared, run_inputs={"tool": "./true"})
    assert statuses(await read_run(ctx, run_id=listed.id)) == {"tool": RUNS}
    assert statuses(await read_run(ctx, run_id=dotted.id)) == {"tool": WAITS}
    [approval] = await list_approvals(ctx, run_id=dotted.id)
    assert approval.inputs["argv"] == ["./true"]  # what the approver sees is what runs


async def test_a_narrowed_list_sends_queued_steps_to_an_approver_and_releases_none(
    ctx: ServiceContext,
) -> None:
    await allow(ctx, "true")
    queued = await start(ctx, [command("a", ["true"])])
    waiting = await start(ctx, [command("b", ["date"])])
    approved = await start(ctx, [command("c", ["date"])])
    [decision] = await list_approvals(ctx, run_id=approved.id)
    await decide_approval(ctx, ref=decision.id, approve=True, actor="user:ann")

    await allow(ctx, "date")
    await disallow(ctx, "true")
    assert statuses(await read_run(ctx, run_id=queued.id)) == {"a": WAITS}
    assert statuses(await read_run(ctx, run_id=waiting.id)) == {"b": WAITS}  # not released
    assert statuses(await read_run(ctx, run_id=approved.id)) == {"c": RUNS}  # decided stays
    [recalled] = [
        e
        for e in await run_events(ctx, queued.id)
        if e.type == "approval.requested" and e.actor == "user:admin"
    ]
    assert "allow-list changed" in recalled.payload["reason"]
    assert [a.step_id for a in await list_approvals(ctx, run_id=queued.id)] == ["a"]


async def test_a_retried_program_is_judged_again(ctx: ServiceContext) -> None:
    await allow(ctx, "false")
    rejected = await start(ctx, [command("push", ["date"])])
    [asked] = await list_approvals(ctx, run_id=rejected.id)
    await decide_approval(ctx, ref=asked.id, approve=False, actor="user:ann", reason="no")
    failing = await start(ctx, [command("check", ["false"])])
    async with running_engine(ctx):
        assert (await wait_for_run(ctx, failing.id)).status == "failed"
    assert statuses(await read_run(ctx, run_id=rejected.id)) == {"push": "failed"}

    # Retrying what an approver rejected asks again; a listed program is queued at once.
    again = await retry_step(ctx, run_id=rejected.id, step_id="push", actor="user:ops")
    assert statuses(again) == {"push": WAITS}
    [pending] = await list_approvals(ctx, state="pending", run_id=rejected.id)
    assert (pending.attempt, pending.risk_tier) == (2, "write")
    assert statuses(
        await retry_step(ctx, run_id=failing.id, step_id="check", actor="user:ops")
    ) == {"check": RUNS}
    # ... unless the program left the list since.
    await disallow(ctx, "false")
    assert statuses(await read_run(ctx, run_id=failing.id)) == {"check": WAITS}


async def test_two_admins_changing_the_list_at_once_both_land(ctx: ServiceContext) -> None:
    await asyncio.gather(
        *(allow(ctx, program) for program in ("pytest", "make", "ruff", "mypy")),
        disallow(ctx, "never-listed"),
    )
    [command_agent] = [a for a in await list_agents(ctx) if a.name == "command"]
    assert sorted(command_agent.allowed_programs) == ["make", "mypy", "pytest", "ruff"]
    updates = [
        e.payload for e in await read_event_page(ctx, limit=100) if e.type == "agent.updated"
    ]
    assert len(updates) == 5
    assert max(len(p["allowed_programs"]) for p in updates) == 4


async def test_the_preview_marks_the_steps_the_engine_gates(ctx: ServiceContext) -> None:
    await allow(ctx, "true")
    await allow(ctx, "env", network=True)
    await allow(ctx, "date", tier="write")
    steps = [
        command("read", ["true"]),
        command("declared", ["true"], risk_tier="irreversible"),
        command("tightened", ["true"], requires_approval=True),
        command("loosened", ["rm"], risk_tier="read", requires_approval=False),
        command("listed-write", ["date"]),
        command("offline-asks", ["true"], network=True),
        command("online", ["env"], network=True),
        command("dotted", ["./true"]),
        command("own-path", ["true"], env={"LD_PRELOAD": "x.so"}),
        step("noop", "builtin:noop"),
        step("gated-noop", "builtin:noop", risk_tier="write"),
        step("free-write", "builtin:noop", risk_tier="write", requires_approval=False),
    ]
    [agent] = [a for a in await list_agents(ctx) if a.name == "command"]
    programs = {p: ProgramRule(e.tier, e.network) for p, e in agent.allowed_programs.items()}
    spec = WorkflowSpec.model_validate({"name": "preview", "steps": steps})
    preview = {k: gate.gated for k, gate in step_gates(spec, programs).items()}
    checked = validate_workflow(yaml.safe_dump(spec.model_dump(mode="json")), programs=programs)
    assert {s["id"]: s["gated"] for s in checked.steps} == preview

    run = await start(ctx, steps)
    engine = {
        k: status == WAITS for k, status in statuses(await read_run(ctx, run_id=run.id)).items()
    }
    assert engine == preview
    assert sorted(k for k, gated in preview.items() if not gated) == [
        "free-write",
        "noop",
        "online",
        "read",
    ]


# --- The environment: only harmless variables, or those the entry names -----------------------


def test_only_harmless_variables_or_those_the_entry_names_run_without_an_approver() -> None:
    programs = {"pytest": ProgramRule("read", env=("API_URL",))}

    def gate(**inputs: Any) -> Any:
        return command_gate(
            programs, inputs={"argv": ["pytest"], **inputs}, risk_tier="read", policy_gated=False
        )

    harmless = {"CI": "1", "LANG": "C.UTF-8", "LC_ALL": "C", "TZ": "UTC", "TERM": "dumb"}
    assert not gate(env={**harmless, "NO_COLOR": "1", "FORCE_COLOR": "1"}).gated
    assert not gate(env={"API_URL": "http://x"}, secret_env={"API_URL": "token"}).gated
    for name in ("PYTHONPATH", "PYTHONWARNINGS", "BROWSER", "BASH_ENV", "ENV", "HOME"):
        refused = gate(env={name: "x"})
        assert (refused.gated, refused.risk_tier) == (True, "write"), name
        assert name in (refused.reason or "") and "allow-list entry" in (refused.reason or "")
    for name in ("NODE_OPTIONS", "PERL5OPT", "GIT_CONFIG_COUNT", "LD_PRELOAD", "PATH"):
        assert gate(secret_env={name: "s"}).gated, name
    assert gate(env=["CI"]).gated  # not a mapping: nothing to check it by
    assert env_name_problem("API_URL") is None
    assert env_name_problem("1X") and env_name_problem("A-B") and env_name_problem("x" * 129)
    stored = {
        "allowed_programs": {
            "a": {"tier": "read", "env": ["OK"]},
            "b": {"tier": "read", "env": ["no pe"]},
        }
    }
    assert parse_programs(stored) == {"a": ProgramRule("read", env=("OK",))}


async def test_a_listed_program_given_a_variable_that_runs_code_waits_for_an_approver(
    ctx: ServiceContext,
) -> None:
    await allow(ctx, PY)
    await allow(ctx, "true", env=("API_URL",))
    attack = {
        "PYTHONWARNINGS": "ignore::antigravity.x",
        "BROWSER": "sh -c 'id; echo PWNED-%s' ",
    }
    run = await start(
        ctx,
        [
            command("attack", [PY, "--version"], env=attack),
            command("named", ["true"], env={"API_URL": "http://x", "CI": "1", "LC_ALL": "C"}),
            command("unnamed", ["true"], env={"HOME": "/tmp"}),
        ],
    )
    assert statuses(await read_run(ctx, run_id=run.id)) == {
        "attack": WAITS,
        "named": RUNS,
        "unnamed": WAITS,
    }
    async with running_engine(ctx):
        await asyncio.sleep(0.5)
    assert statuses(await read_run(ctx, run_id=run.id))["attack"] == WAITS
    assert not [
        e
        for e in await run_events(ctx, run.id)
        if e.type == "step.started" and e.step_id == "attack"
    ]
    reasons = {
        e.step_id: e.payload["reason"]
        for e in await run_events(ctx, run.id)
        if e.type == "approval.requested"
    }
    assert "PYTHONWARNINGS" in reasons["attack"] and "HOME" in reasons["unnamed"]


# --- The declared tier and the policy are the workflow's, read as the engine reads them --------


async def test_a_program_listed_after_a_rejection_is_judged_at_its_declared_tier(
    ctx: ServiceContext,
) -> None:
    run = await start(ctx, [command("when", ["date"])])
    [asked] = await list_approvals(ctx, run_id=run.id)
    assert asked.risk_tier == "write"  # the approver sees the tier it was raised to
    await decide_approval(ctx, ref=asked.id, approve=False, actor="user:ann", reason="not yet")
    await allow(ctx, "date")
    again = await retry_step(ctx, run_id=run.id, step_id="when", actor="user:ops")
    assert statuses(again) == {"when": RUNS}
    assert [s.risk_tier for s in again.steps] == ["read"]


def test_the_preview_reads_a_stored_definition_without_approvals_as_the_engine_does() -> None:
    legacy = {"name": "old", "steps": [{"id": "w", "agent": "builtin:noop", "risk_tier": "write"}]}
    engine = WorkflowDag.from_definition(legacy).steps["w"].gated
    assert engine is False
    assert step_gates(stored_spec(legacy), {})["w"].gated is engine
    # A new spec without `approvals` is saved with the default policy, and previewed with it.
    fresh = WorkflowSpec.model_validate(legacy)
    saved = WorkflowDag.from_definition(fresh.model_dump(mode="json")).steps["w"].gated
    assert step_gates(fresh, {})["w"].gated is saved is True
