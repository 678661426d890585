"""Canary secrets leave no trace: not in events, logs, artifacts, pages or API answers.

Three distinct canaries are planted: the model's API key in the settings, a secret a command
step gets in its environment (``inputs.secret_env``), and a secret an LLM step puts in its
prompt (``inputs.secrets``). The scripted model parrots back everything secret it can (the
prompt's secret line, and the key) in its summary, log lines and documents; the command echoes
its secret to stdout and writes it into an artifact. After a full run — a mission planned by
the model and run to completion, plus a workflow with both steps — every recorded byte is
searched. The secrets must still have been used: the model got the key and the prompt secret,
and the command saw its value.
"""

import asyncio
import hashlib
import json
import logging
import sys
import time
import uuid
from typing import Any

import httpx2
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from missionctl.app import create_app
from missionctl.db.models import Event
from missionctl.planning import PlanningInput, build_local_plan
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services.usecases.runs import start_run
from missionctl.services.usecases.workflows import create_workflow
from missionctl.settings import LLMSettings, Settings
from tests.support.auth import bearer_headers
from tests.support.consistency import assert_consistent
from tests.support.openai_server import Content, ScriptedOpenAIServer

FINISHED = {"completed", "failed", "canceled", "aborted"}
PROBE = (
    "import hashlib, os, pathlib\n"
    "value = os.environ['PROBE_TOKEN']\n"
    "print('token is', value)\n"
    "ok = hashlib.sha256(value.encode()).hexdigest() == os.environ['EXPECTED_SHA']\n"
    "print('secret received: ' + ('match' if ok else 'MISMATCH'))\n"
    "d = pathlib.Path('artifacts'); d.mkdir(exist_ok=True)\n"
    "(d / 'probe.txt').write_text('the token was ' + value + '\\n')\n"
)


def _schema_name(body: dict[str, Any]) -> str:
    return str((body.get("response_format") or {}).get("json_schema", {}).get("name", ""))


def _model(key: str) -> Any:
    """A model that plans locally and, as a specialist, repeats every secret it was given."""

    def handler(body: dict[str, Any]) -> Content:
        if _schema_name(body) == "mission_plan":
            plan = build_local_plan(PlanningInput(title="Shortener", goal="Build a URL shortener"))
            return Content(json.dumps(plan.model_dump(mode="json")))
        user = body["messages"][-1]["content"]
        said = [line for line in user.splitlines() if line.startswith("deploy_token:")]
        said.append(f"my key is {key}")
        return Content(
            json.dumps(
                {
                    "summary": "Repeating: " + " / ".join(said),
                    "artifacts": [
                        {"name": "echo.md", "kind": "markdown", "content": "\n".join(said)}
                    ],
                    "log": said,
                    "risks": [{"title": said[0], "severity": "low", "mitigation": said[-1]}],
                    "next_steps": said,
                }
            )
        )

    return handler


async def _wait(http: httpx2.AsyncClient, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        run = (await http.get(f"/api/v1/runs/{run_id}")).json()
        if run["status"] in FINISHED:
            return run
        assert time.monotonic() < deadline, f"run stayed {run['status']}"
        await asyncio.sleep(0.05)


async def _ok(http: httpx2.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx2.Response:
    response = await http.request(method, url, **kwargs)
    assert response.status_code < 300, (url, response.status_code, response.text[:500])
    return response


async def _all_events(http: httpx2.AsyncClient, run_id: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        page = (await _ok(http, "GET", f"/api/v1/runs/{run_id}/events?after={after}")).json()
        events += page["items"]
        if page["next_after"] is None:
            return events
        after = page["next_after"]


@pytest.mark.timeout(180)
async def test_canary_secrets_are_absent_from_every_record(
    settings: Settings,
    openai_server: ScriptedOpenAIServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    key, env_secret, prompt_secret = (f"canary-{uuid.uuid4().hex}" for _ in range(3))
    canaries = {"settings key": key, "command env": env_secret, "llm prompt": prompt_secret}
    monkeypatch.setenv("MISSIONCTL_SECRET_CANARY_ENV", env_secret)
    monkeypatch.setenv("MISSIONCTL_SECRET_CANARY_PROMPT", prompt_secret)
    caplog.set_level(logging.DEBUG)  # every logger, every level
    llm = LLMSettings(
        base_url=openai_server.base_url,
        api_key=SecretStr(key),
        model=openai_server.model,
        timeout_s=10,
    )
    settings = settings.model_copy(update={"llm": llm, "log_level": "DEBUG"})
    openai_server.default_handler = _model(key)

    recorded: dict[str, str] = {}  # where → text, searched at the end
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        ctx = app.state.ctx
        headers = await bearer_headers(ctx)
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(
            transport=transport, base_url="http://testserver", headers=headers
        ) as http:
            # A mission planned by the model and run to completion, through the API.
            mission = (
                await _ok(http, "POST", "/api/v1/missions", json={"goal": "Build a URL shortener"})
            ).json()
            await _ok(http, "POST", f"/api/v1/missions/{mission['id']}/plan")
            mission_run = (await _ok(http, "POST", f"/api/v1/missions/{mission['id']}/runs")).json()
            # A workflow with a command step and an LLM step, each given a secret by name; the
            # command's program is allow-listed, so it runs without an approver.
            # The entry names the two variables the step sets, or it would wait for an approver.
            entry = {"tier": "read", "env": ["EXPECTED_SHA", "PROBE_TOKEN"]}
            program = {"allowed_programs": {sys.executable: entry}}
            await _ok(http, "PATCH", "/api/v1/agents/command", json=program)
            spec = WorkflowSpec.model_validate(
                {
                    "name": "canary",
                    "steps": [
                        {
                            "id": "probe",
                            "agent": "command",
                            "inputs": {
                                "argv": [sys.executable, "-c", PROBE],
                                "env": {
                                    "EXPECTED_SHA": hashlib.sha256(env_secret.encode()).hexdigest()
                                },
                                "secret_env": {"PROBE_TOKEN": "canary_env"},
                            },
                        },
                        {
                            "id": "advise",
                            "agent": "llm:security",
                            "depends_on": ["probe"],
                            "inputs": {
                                "title": "Review the deployment",
                                "secrets": {"deploy_token": "canary_prompt"},
                            },
                        },
                    ],
                }
            )
            workflow = await create_workflow(ctx, spec=spec, actor="user:test")
            workflow_run = await start_run(ctx, workflow_id=workflow.id, actor="user:test")

            runs = [
                await _wait(http, mission_run["id"]),
                await _wait(http, str(workflow_run.id)),
            ]
            assert [r["status"] for r in runs] == ["completed", "completed"], runs

            # The secrets were used: the command saw its value, the model its key and prompt.
            events = await _all_events(http, str(workflow_run.id))
            probe_lines = json.dumps([e["payload"] for e in events if e["step_id"] == "probe"])
            assert "secret received: match" in probe_lines
            chats = openai_server.chat_requests
            assert chats and all(r.authorization == f"Bearer {key}" for r in chats)
            assert any(prompt_secret in json.dumps(r.body) for r in chats)
            # ... and the parroting was recorded, redacted.
            assert "[REDACTED]" in probe_lines
            assert "deploy_token: [REDACTED]" in json.dumps(events)

            # Every event of the log, whatever it belongs to.
            async with ctx.read() as session:
                rows = (await session.scalars(select(Event).order_by(Event.seq))).all()
            recorded["event table"] = json.dumps(
                [[r.type, r.actor, r.step_id, r.payload] for r in rows], ensure_ascii=False
            )
            # Every blob in the store.
            for path in sorted(settings.blob_dir.rglob("*")):
                if path.is_file():
                    recorded[f"blob {path.name}"] = path.read_bytes().decode("utf-8", "replace")

            # API answers and pages about the mission and both runs.
            urls = [
                "/api/v1/missions",
                f"/api/v1/missions/{mission['id']}",
                f"/api/v1/missions/{mission['id']}/plan",
                f"/api/v1/missions/{mission['id']}/artifacts",
                "/missions",
                f"/missions/{mission['id']}",
                f"/missions/{mission['id']}/audit?before=1000000",
                "/runs",
            ]
            for run in runs:
                urls += [
                    f"/api/v1/runs/{run['id']}",
                    f"/api/v1/runs/{run['id']}/artifacts",
                    f"/api/v1/runs/{run['id']}/report",
                    f"/api/v1/runs/{run['id']}/report?format=markdown",
                    f"/runs/{run['id']}",
                ]
                urls += [f"/runs/{run['id']}/steps/{s['step_id']}" for s in run["steps"]]
                recorded[f"events of {run['id']}"] = json.dumps(
                    await _all_events(http, run["id"]), ensure_ascii=False
                )
                for artifact in (
                    await _ok(http, "GET", f"/api/v1/runs/{run['id']}/artifacts")
                ).json():
                    urls += [
                        f"/api/v1/artifacts/{artifact['id']}",
                        f"/api/v1/artifacts/{artifact['id']}/content",
                        f"/artifacts/{artifact['id']}",
                    ]
            for url in urls:
                response = await _ok(http, "GET", url, headers={"accept": "text/html"})
                recorded[url] = response.text
            assert any("the token was [REDACTED]" in text for text in recorded.values())
        await assert_consistent(ctx)

    recorded["log records"] = "\n".join(
        f"{r.name} {r.levelname} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records
    )
    recorded["log text"] = caplog.text
    out, err = capfd.readouterr()
    recorded["stdout"], recorded["stderr"] = out, err
    assert caplog.records, "nothing was logged: the log check would be vacuous"

    leaks = [
        f"{what} in {where}"
        for where, text in recorded.items()
        for what, canary in canaries.items()
        if canary in text
    ]
    assert not leaks, leaks
