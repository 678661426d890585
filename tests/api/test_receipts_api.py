"""A run's receipt: issued by the API to any reader, checked offline with the public key alone.

The run has a step with outputs and an artifact, a step retried once, and a step an approver
let through: everything a receipt binds. The offline check runs ``missionctl verify receipt``
as a separate program, in an empty directory, with an empty environment: no settings, no
database, no server.
"""

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import update

from missionctl.agents.base import AgentResult, ArtifactOutput, StepContext
from missionctl.agents.registry import AgentRegistry
from missionctl.db.models import StepRun
from missionctl.domain.access import Role
from missionctl.eventlog.checkpoints import public_key_pem
from missionctl.services import ServiceContext
from missionctl.services.usecases.approvals import decide_approval, list_approvals
from missionctl.services.usecases.audit import signing_key
from tests.api.test_event_feed_api import client_for
from tests.engine.helpers import running_engine, start, step, wait_for_run, wait_for_step
from tests.support.auth import bearer_headers

MISSIONCTL = Path(sys.executable).with_name("missionctl")


class Builder:
    """Succeeds with outputs and a file (no model is called)."""

    async def run(self, step: StepContext) -> AgentResult:
        notes = ArtifactOutput("notes.md", "document", "text/markdown", b"# Built\n")
        return AgentResult(outputs={"built": ["api", "ui"]}, artifacts=[notes])


async def finished_run(ctx: ServiceContext) -> uuid.UUID:
    """build (outputs, an artifact) → flaky (fails once) → deploy (approved by alice)."""
    agents = AgentRegistry()
    agents.register("llm:builder", Builder())
    retry = {"max_attempts": 2, "backoff_s": 0, "jitter": False}
    run = await start(
        ctx,
        [
            step("build", "llm:builder"),
            step("flaky", "builtin:fail", "build", inputs={"fail_attempts": 1}, retry=retry),
            step("deploy", "builtin:noop", "flaky", risk_tier="write"),
        ],
    )
    async with running_engine(ctx, agents=agents):
        await wait_for_step(ctx, run.id, "deploy", "awaiting_approval")
        (pending,) = await list_approvals(ctx, run_id=run.id)
        await decide_approval(ctx, ref=pending.id, approve=True, actor="user:alice", reason="ok")
        done = await wait_for_run(ctx, run.id)
    assert done.status == "completed", [(s.step_id, s.error) for s in done.steps]
    return run.id


def verify_in(directory: Path, text: str, pem: str) -> subprocess.CompletedProcess[str]:
    """``missionctl verify receipt`` in a new ``directory`` holding nothing but the receipt and
    the key, with an empty environment (blocking)."""
    directory.mkdir()
    (directory / "receipt.json").write_text(text)
    (directory / "key.pem").write_text(pem)
    return subprocess.run(
        [str(MISSIONCTL), "verify", "receipt", "receipt.json", "--public-key", "key.pem"],
        cwd=directory,
        env={"PATH": os.defpath, "HOME": str(directory)},
        capture_output=True,
        text=True,
        timeout=60,
    )


async def verify_offline(
    directory: Path, receipt: dict[str, Any] | str, pem: str
) -> subprocess.CompletedProcess[str]:
    """``verify_in``, off the event loop."""
    text = receipt if isinstance(receipt, str) else json.dumps(receipt, indent=2)
    return await asyncio.to_thread(verify_in, directory, text, pem)


async def test_a_viewer_gets_a_receipt_that_verifies_offline_and_a_tampered_copy_does_not(
    app: FastAPI, tmp_path: Path
) -> None:
    ctx: ServiceContext = app.state.ctx
    run_id = await finished_run(ctx)
    pem = public_key_pem((await asyncio.to_thread(signing_key, ctx.settings)).public_key)
    async with client_for(app, await bearer_headers(ctx, "vera", Role.VIEWER)) as http:
        answer = await http.get(f"/api/v1/runs/{run_id}/receipt", params={"download": "true"})
    assert answer.status_code == 200, answer.text
    assert "attachment" in answer.headers["content-disposition"]
    receipt = answer.json()
    assert receipt["run"]["id"] == str(run_id) and receipt["run"]["status"] == "completed"
    assert {s["step_id"] for s in receipt["steps"]} == {"build", "flaky", "deploy"}
    assert [a["name"] for a in receipt["artifacts"]] == ["notes.md"]
    [approval] = receipt["approvals"]
    assert (approval["step_id"], approval["decided_by"]) == ("deploy", "user:alice")

    fresh = await verify_offline(tmp_path / "fresh", receipt, pem)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert fresh.stdout.startswith(f"OK run {run_id}")
    assert "3 steps, 1 artifacts, 1 approvals" in fresh.stdout

    entry = next(e for e in receipt["entries"] if e["type"] == "step.succeeded")
    entry["payload"]["duration_ms"] += 1  # a reviewer's copy, quietly edited
    tampered = await verify_offline(tmp_path / "tampered", receipt, pem)
    assert tampered.returncode == 1, tampered.stdout + tampered.stderr
    assert f"first divergent entry: seq {entry['seq']}" in tampered.stdout
    assert "Traceback" not in tampered.stdout + tampered.stderr


async def test_another_key_and_a_damaged_file_are_refused_with_the_reason(
    app: FastAPI, tmp_path: Path
) -> None:
    from missionctl.eventlog.checkpoints import new_signing_key

    ctx: ServiceContext = app.state.ctx
    run_id = await finished_run(ctx)
    async with client_for(app, await bearer_headers(ctx)) as http:
        receipt = (await http.get(f"/api/v1/runs/{run_id}/receipt")).json()
    stranger = public_key_pem(new_signing_key().public_key)
    refused = await verify_offline(tmp_path / "other-key", receipt, stranger)
    assert refused.returncode == 1
    assert "which is not among the public keys given" in refused.stdout
    damaged = '{"format": "missionctl-run-receipt/1", "run": ['
    result = await verify_offline(tmp_path / "damaged", damaged, stranger)
    assert result.returncode == 2
    assert result.stderr.startswith("error: receipt.json") and "Traceback" not in result.stderr


async def test_no_receipt_is_signed_for_a_run_whose_outputs_were_changed(
    app: FastAPI,
) -> None:
    ctx: ServiceContext = app.state.ctx
    run_id = await finished_run(ctx)
    async with ctx.db.write() as session:
        await session.execute(
            update(StepRun)
            .where(StepRun.run_id == run_id, StepRun.step_id == "build")
            .values(outputs={"built": ["api", "ui", "billing"]})
        )
    async with client_for(app, await bearer_headers(ctx)) as http:
        answer = await http.get(f"/api/v1/runs/{run_id}/receipt")
    # The server's own record is damaged: a 500 whose cause is logged, never a signature.
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "internal_error"
    async with ctx.db.write() as session:  # put it back: the suite's final check reads it
        await session.execute(
            update(StepRun)
            .where(StepRun.run_id == run_id, StepRun.step_id == "build")
            .values(outputs={"built": ["api", "ui"]})
        )


async def test_unknown_hostile_and_concurrent_requests(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    run_id = await finished_run(ctx)
    async with client_for(app, await bearer_headers(ctx, "vera", Role.VIEWER)) as http:
        missing = await http.get(f"/api/v1/runs/{uuid.uuid4()}/receipt")
        assert missing.status_code == 404 and missing.json()["error"]["field"] == "run_id"
        for hostile in ("not-a-uuid", "%00", "x" * 5000):
            assert (await http.get(f"/api/v1/runs/{hostile}/receipt")).status_code in {404, 422}
        unknown = await http.get(f"/api/v1/runs/{run_id}/receipt", params={"sign_with": "mine"})
        assert unknown.status_code == 422
        twins = await asyncio.gather(
            *(http.get(f"/api/v1/runs/{run_id}/receipt") for _ in range(4))
        )
    assert [t.status_code for t in twins] == [200] * 4
    # Each is signed when asked for; what they vouch for is the same.
    bodies = [t.json() for t in twins]
    assert all(b["entries"] == bodies[0]["entries"] for b in bodies)
    async with client_for(app) as anonymous:
        assert (await anonymous.get(f"/api/v1/runs/{run_id}/receipt")).status_code == 401
