"""The ``http`` agent against a real test agent server on 127.0.0.1, through the app's engine.

The app runs with its embedded engine (on both databases); the test agent server is a
``ThreadingHTTPServer`` the test starts. For callbacks the test plays the external agent: it
reads ``callback_url`` from the request the server received and POSTs the answer there.
"""

import asyncio
import ipaddress
import json
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest
from sqlalchemy import select

from missionctl.agents.base import AgentError, StepContext
from missionctl.agents.http import HttpAgent, HttpAgentConfig
from missionctl.app import create_app
from missionctl.db.models import Artifact, Event, HttpCallback, StepRun
from missionctl.domain.signing import SIGNATURE_HEADER, SignatureError, verify
from missionctl.errors import Conflict, NotFound, ValidationFailed
from missionctl.schemas.http_agent import AgentAnswer
from missionctl.services import ServiceContext
from missionctl.services.runtime.composition import agent_is_known, build_agents
from missionctl.services.usecases.callbacks import open_callback, receive_callback
from missionctl.settings import EngineSettings, HttpAgentSettings, ServerSettings, Settings
from tests.engine.helpers import running_engine, start, step, wait_for_run, wait_for_step
from tests.support.auth import bearer_headers
from tests.support.consistency import assert_consistent

SECRET = "agent-signing-secret-4f9a1c"
Handler = Callable[["Received"], tuple[int, dict[str, Any]]]

# A callback is a row that the server receiving the answer and the engine waiting for it share
# (ADR 0061): these are the tests of that row, so they keep their PostgreSQL twins.
pytestmark = pytest.mark.both_databases


@dataclass
class Received:
    """One request the test agent server received."""

    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def document(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class AgentServer:
    """A test agent server: ``routes`` map a path to what it answers; ``received`` records."""

    url: str
    routes: dict[str, Handler] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    async def wait_for(self, path: str, count: int = 1) -> list[Received]:
        for _ in range(500):
            hits = [r for r in self.received if r.path == path]
            if len(hits) >= count:
                return hits
            await asyncio.sleep(0.02)
        raise AssertionError(f"{path} received {len(self.received)} requests, not {count}")


@pytest.fixture
def agent_server() -> Iterator[AgentServer]:
    """The external agent: a real HTTP server on a loopback port, in a thread."""
    server_state = AgentServer(url="")

    class Handle(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            received = Received(self.path, dict(self.headers.items()), self.rfile.read(length))
            server_state.received.append(received)
            status, body = server_state.routes[self.path](received)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
    server.daemon_threads = True
    server_state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_state
    finally:
        server_state.release.set()
        server.shutdown()
        server.server_close()


@dataclass
class Stack:
    """The app (with its engine), a client for it, and its service context."""

    ctx: ServiceContext
    client: httpx2.AsyncClient


@pytest.fixture
async def stack(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> AsyncIterator[Stack]:
    """The app with its embedded engine, allowed to call 127.0.0.1, polling callbacks fast."""
    monkeypatch.setenv("MISSIONCTL_SECRET_AGENTKEY", SECRET)
    configured = settings.model_copy(
        update={
            "http_agent": HttpAgentSettings(allowed_networks=["127.0.0.1/32"], poll_s=0.05),
            "server": ServerSettings(public_url="http://testserver"),
        }
    )
    app = create_app(configured)
    async with app.router.lifespan_context(app):
        ctx: ServiceContext = app.state.ctx
        headers = await bearer_headers(ctx)
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(
            transport=transport, base_url="http://testserver", headers=headers
        ) as client:
            yield Stack(ctx=ctx, client=client)
        await assert_consistent(ctx)


def _answer(**extra: Any) -> Handler:
    def handle(received: Received) -> tuple[int, dict[str, Any]]:
        return 200, {
            "outputs": {"echo": received.document["inputs"]["topic"], **extra},
            "artifacts": [{"name": "notes.md", "content": "# Notes\n"}],
            "logs": ["looked at the topic"],
        }

    return handle


async def _step_row(ctx: ServiceContext, run_id: uuid.UUID, step_id: str = "call") -> StepRun:
    async with ctx.read() as session:
        row = await session.scalar(
            select(StepRun).where(StepRun.run_id == run_id, StepRun.step_id == step_id)
        )
        assert row is not None
        return row


async def _events_text(ctx: ServiceContext, run_id: uuid.UUID) -> str:
    async with ctx.read() as session:
        rows = (await session.scalars(select(Event).where(Event.run_id == run_id))).all()
    return json.dumps([row.payload for row in rows])


async def test_a_synchronous_answer_is_the_steps_result_and_the_request_is_signed(
    stack: Stack, agent_server: AgentServer
) -> None:
    signatures: list[int] = []

    def handle(received: Received) -> tuple[int, dict[str, Any]]:
        # The receiving agent checks the signature as any receiver would.
        signatures.append(verify(SECRET, received.body, received.headers.get(SIGNATURE_HEADER)))
        return _answer()(received)

    agent_server.routes["/sync"] = handle
    inputs = {"url": agent_server.url + "/sync", "secret": "AGENTKEY", "topic": "billing"}
    run = await start(stack.ctx, [step("call", "http", inputs=inputs)])
    finished = await wait_for_run(stack.ctx, run.id)
    assert finished.status == "completed", finished
    row = await _step_row(stack.ctx, run.id)
    assert row.outputs["echo"] == "billing"
    assert len(signatures) == 1
    [received] = agent_server.received
    sent = received.document
    assert sent["inputs"] == {"topic": "billing"}  # the agent's own inputs are not sent
    assert sent["step_id"] == "call" and sent["attempt"] == 1
    assert sent["callback_url"].startswith("http://testserver/api/v1/callbacks/")
    assert received.headers["Idempotency-Key"] == sent["idempotency_key"] == f"{run.id}:call"
    async with stack.ctx.read() as session:
        names = (
            await session.scalars(
                select(Artifact.name).where(
                    Artifact.run_id == run.id, Artifact.step_run_id.is_not(None)
                )
            )
        ).all()
    assert list(names) == ["notes.md"]  # the run's report comes after, from no step
    assert "looked at the topic" in await _events_text(stack.ctx, run.id)


async def test_a_tampered_body_fails_the_receivers_check(agent_server: AgentServer) -> None:
    from missionctl.domain.signing import sign

    header = sign(SECRET, b'{"a":1}')
    verify(SECRET, b'{"a":1}', header)
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, b'{"a":2}', header)
    with pytest.raises(SignatureError, match="does not match"):
        verify("another-secret", b'{"a":1}', header)


async def test_an_answer_by_callback_completes_the_step_and_its_token_works_once(
    stack: Stack, agent_server: AgentServer
) -> None:
    agent_server.routes["/later"] = lambda received: (202, {"accepted": True})
    inputs = {"url": agent_server.url + "/later", "topic": "search"}
    run = await start(
        stack.ctx, [step("call", "http", inputs=inputs), step("next", "builtin:noop", "call")]
    )
    [received] = await agent_server.wait_for("/later")
    assert SIGNATURE_HEADER not in received.headers  # no secret named: unsigned
    path = urlsplit(received.document["callback_url"]).path
    answer = {"outputs": {"found": 3}, "logs": ["searched"], "artifacts": []}
    posted = await stack.client.post(path, json=answer, headers={"Authorization": ""})
    assert posted.status_code == 204, posted.text
    finished = await wait_for_run(stack.ctx, run.id)
    assert finished.status == "completed", finished
    assert (await _step_row(stack.ctx, run.id)).outputs["found"] == 3
    again = await stack.client.post(path, json=answer)
    assert again.status_code == 409
    assert "already used" in again.json()["error"]["message"]
    wrong = await stack.client.post("/api/v1/callbacks/" + "x" * 43, json=answer)
    assert wrong.status_code == 404
    assert wrong.json()["error"]["field"] == "token"
    async with stack.ctx.read() as session:
        stored = (await session.scalars(select(HttpCallback.token_hash))).all()
    token = path.rsplit("/", 1)[1]
    assert token not in json.dumps(list(stored))  # only the hash is kept


async def test_an_error_answered_by_callback_fails_the_step(
    stack: Stack, agent_server: AgentServer
) -> None:
    agent_server.routes["/later"] = lambda received: (202, {})
    run = await start(
        stack.ctx, [step("call", "http", inputs={"url": agent_server.url + "/later"})]
    )
    [received] = await agent_server.wait_for("/later")
    path = urlsplit(received.document["callback_url"]).path
    posted = await stack.client.post(path, json={"error": "the index is down"})
    assert posted.status_code == 204
    finished = await wait_for_run(stack.ctx, run.id)
    assert finished.status == "failed"
    assert "the index is down" in ((await _step_row(stack.ctx, run.id)).error or "")


async def test_a_server_error_is_retried_and_a_client_error_is_not(
    stack: Stack, agent_server: AgentServer
) -> None:
    calls = {"flaky": 0}

    def flaky(received: Received) -> tuple[int, dict[str, Any]]:
        calls["flaky"] += 1
        if calls["flaky"] == 1:
            return 500, {"detail": "warming up"}
        return _answer()(received)

    agent_server.routes["/flaky"] = flaky
    agent_server.routes["/bad"] = lambda received: (400, {"detail": "topic missing"})
    retry = {"max_attempts": 3, "backoff_s": 0, "jitter": False}
    steps = [
        step(
            "call", "http", inputs={"url": agent_server.url + "/flaky", "topic": "t"}, retry=retry
        ),
        step("bad", "http", inputs={"url": agent_server.url + "/bad"}, retry=retry),
    ]
    run = await start(stack.ctx, steps)
    finished = await wait_for_run(stack.ctx, run.id)
    retried, refused = await _step_row(stack.ctx, run.id), await _step_row(stack.ctx, run.id, "bad")
    assert (retried.status, retried.attempt, calls["flaky"]) == ("succeeded", 2, 2)
    # The retry is recognisable as one: the same key, in the header and the body, and the next
    # attempt number.
    tries = [r for r in agent_server.received if r.path == "/flaky"]
    key = f"{run.id}:call"
    assert [r.headers["Idempotency-Key"] for r in tries] == [key, key]
    assert [(r.document["idempotency_key"], r.document["attempt"]) for r in tries] == [
        (key, 1),
        (key, 2),
    ]
    assert (refused.status, refused.attempt) == ("failed", 1)
    assert "answered 400" in (refused.error or "")
    assert finished.status == "failed"


async def test_a_timeout_fails_the_step_with_a_clear_message(
    stack: Stack, agent_server: AgentServer
) -> None:
    def hang(received: Received) -> tuple[int, dict[str, Any]]:
        agent_server.release.wait(10)
        return 200, {}

    agent_server.routes["/hang"] = hang
    agent_server.routes["/never"] = lambda received: (202, {})
    steps = [
        step("call", "http", inputs={"url": agent_server.url + "/hang", "request_timeout_s": 0.3}),
        step("wait", "http", inputs={"url": agent_server.url + "/never"}, timeout_s=0.5),
    ]
    run = await start(stack.ctx, steps)
    await wait_for_run(stack.ctx, run.id)
    hung, waited = await _step_row(stack.ctx, run.id), await _step_row(stack.ctx, run.id, "wait")
    assert "no answer within 0.3 s" in (hung.error or "")
    assert waited.error == "timed out after 0.5 s"


async def test_secrets_in_an_answer_are_redacted_everywhere(
    stack: Stack, agent_server: AgentServer
) -> None:
    def leak(received: Received) -> tuple[int, dict[str, Any]]:
        return 200, {
            "outputs": {"token": SECRET, "nested": [f"key={SECRET}"]},
            "artifacts": [{"name": "leak.md", "content": f"the key is {SECRET}"}],
            "logs": [f"using {SECRET}"],
        }

    agent_server.routes["/leak"] = leak
    run = await start(
        stack.ctx,
        [step("call", "http", inputs={"url": agent_server.url + "/leak", "secret": "AGENTKEY"})],
    )
    assert (await wait_for_run(stack.ctx, run.id)).status == "completed"
    row = await _step_row(stack.ctx, run.id)
    assert SECRET not in json.dumps(row.outputs)
    assert row.outputs["token"] == "[REDACTED]"
    assert SECRET not in await _events_text(stack.ctx, run.id)
    listed = await stack.client.get(f"/api/v1/runs/{run.id}/artifacts")
    [artifact] = [item for item in listed.json() if item["name"] == "leak.md"]
    content = await stack.client.get(f"/api/v1/artifacts/{artifact['id']}/content")
    assert SECRET not in content.text and "[REDACTED]" in content.text


async def test_an_http_step_waits_for_an_approver_like_any_gated_step(
    stack: Stack, agent_server: AgentServer
) -> None:
    agent_server.routes["/sync"] = _answer()
    inputs = {"url": agent_server.url + "/sync", "topic": "t"}
    run = await start(stack.ctx, [step("call", "http", inputs=inputs, risk_tier="irreversible")])
    await wait_for_step(stack.ctx, run.id, "call", "awaiting_approval")
    assert agent_server.received == []  # nothing was sent before a person decided


async def test_hostile_callbacks_get_a_clear_4xx(stack: Stack, ctx: ServiceContext) -> None:
    client = stack.client
    path = "/api/v1/callbacks/" + "a" * 43
    malformed = await client.post(
        path, content=b'{"outputs": ', headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 422
    deep = await client.post(
        path, content=b"[" * 100_000 + b"]" * 100_000, headers={"Content-Type": "application/json"}
    )
    assert deep.status_code == 422
    nested: Any = "leaf"
    for _ in range(40):
        nested = {"n": nested}
    too_deep = await client.post(path, json={"outputs": nested})
    assert too_deep.status_code == 422 and too_deep.json()["error"]["field"] == "outputs"
    huge = await client.post(
        path, content=b"x" * (5 * 1024 * 1024), headers={"Content-Type": "application/json"}
    )
    assert huge.status_code == 413
    unknown = await client.post(path, json={"outputs": {}, "surprise": 1})
    assert unknown.status_code == 422 and "surprise" in unknown.json()["error"]["field"]
    for body, named in [
        ({"outputs": {"text": "a\u0000b"}}, "outputs"),
        ({"outputs": {"a\u0000": 1}}, "outputs"),
        ({"logs": ["c\u0000"]}, "logs.0"),
    ]:
        nul = await client.post(path, json=body)
        assert nul.status_code == 422 and nul.json()["error"]["field"] == named, nul.text
    long_token = await client.post("/api/v1/callbacks/" + "a" * 500, json={})
    assert long_token.status_code == 422 and long_token.json()["error"]["field"] == "token"


async def _a_step_run(ctx: ServiceContext) -> uuid.UUID:
    run = await start(ctx, [step("call", "http", inputs={"url": "http://example.invalid"})])
    async with ctx.read() as session:
        found = await session.scalar(select(StepRun.id).where(StepRun.run_id == run.id))
    assert found is not None
    return found


async def test_two_concurrent_callbacks_exactly_one_wins(ctx: ServiceContext) -> None:
    step_run_id = await _a_step_run(ctx)
    opened = await open_callback(ctx, step_run_id=step_run_id, attempt=1, expires_in_s=60)
    answers = [AgentAnswer(outputs={"twin": n}) for n in range(2)]
    results = await asyncio.gather(
        *(receive_callback(ctx, token=opened.token, answer=a) for a in answers),
        return_exceptions=True,
    )
    assert sum(r is None for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == 1


async def test_an_expired_or_unknown_token_is_refused(ctx: ServiceContext) -> None:
    step_run_id = await _a_step_run(ctx)
    opened = await open_callback(ctx, step_run_id=step_run_id, attempt=1, expires_in_s=-1)
    with pytest.raises(Conflict, match="expired"):
        await receive_callback(ctx, token=opened.token, answer=AgentAnswer())
    with pytest.raises(NotFound):
        await receive_callback(ctx, token="nope", answer=AgentAnswer())


def _context(inputs: dict[str, Any]) -> StepContext:
    async def nothing() -> None:
        return None

    async def no_upstream() -> dict[str, dict[str, Any]]:
        return {}

    return StepContext(
        run_id=uuid.uuid4(),
        mission_id=None,
        step_id="call",
        attempt=1,
        agent="http",
        inputs=inputs,
        run_dir=Path("/nonexistent"),
        log=lambda message, *, level="info": None,
        load_upstream_outputs=no_upstream,
        load_mission=nothing,
        load_plan=nothing,
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:9/x", "private or reserved"),
        ("http://169.254.169.254/latest", "private or reserved"),
        ("http://[::1]:9/", "private or reserved"),
        ("ftp://example.com/", "http:// or https://"),
        ("http://user:pw@example.com/", "must not carry credentials"),
        (42, "must be an http"),
    ],
)
async def test_urls_outside_the_policy_are_refused_for_good(url: Any, message: str) -> None:
    agent = HttpAgent(HttpAgentConfig())
    with pytest.raises(AgentError, match=message) as raised:
        await agent.run(_context({"url": url}))
    assert raised.value.retryable is False


async def test_a_host_resolving_to_a_private_address_is_refused() -> None:
    async def rebind(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "10.0.0.7"]

    agent = HttpAgent(HttpAgentConfig(resolve=rebind))
    with pytest.raises(AgentError, match=r"10\.0\.0\.7"):
        await agent.run(_context({"url": "https://agent.example.com/run"}))


def test_the_http_agent_is_known_to_workflows() -> None:
    assert agent_is_known("http")


async def test_a_workflow_with_an_http_step_lacking_its_url_is_refused_naming_it(
    ctx: ServiceContext,
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await start(ctx, [step("call", "http", inputs={"secret": "not a name"})])
    fields = {problem.field for problem in raised.value.problems}
    assert fields == {"steps.0.inputs.url", "steps.0.inputs.secret"}


async def test_callbacks_are_rate_limited_per_address(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("missionctl.security.limits.CALLBACKS_PER_MINUTE", 3)
    quiet = settings.model_copy(update={"engine": EngineSettings(embedded=False)})
    app = create_app(quiet)
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as http:
            statuses = [
                (await http.post("/api/v1/callbacks/" + "b" * 43, json={})).status_code
                for _ in range(4)
            ]
        await assert_consistent(app.state.ctx)
    assert statuses == [404, 404, 404, 429]


async def test_a_callback_received_by_one_server_reaches_an_engine_of_another_context(
    ctx: ServiceContext, app: Any, agent_server: AgentServer
) -> None:
    """The server taking the callback and the engine waiting share only the database."""
    config = HttpAgentConfig(
        callback_base_url="http://elsewhere.example",
        allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),),
        poll_s=0.05,
    )
    agent_server.routes["/later"] = lambda received: (202, {})
    run = await start(ctx, [step("call", "http", inputs={"url": agent_server.url + "/later"})])
    transport = httpx2.ASGITransport(app=app)
    async with (
        running_engine(ctx, agents=build_agents(None, http=config)),
        httpx2.AsyncClient(transport=transport, base_url="http://server") as server,
    ):
        [received] = await agent_server.wait_for("/later")
        url = received.document["callback_url"]
        assert url.startswith("http://elsewhere.example/api/v1/callbacks/")
        posted = await server.post(urlsplit(url).path, json={"outputs": {"answered": "later"}})
        assert posted.status_code == 204
        assert (await wait_for_run(ctx, run.id)).status == "completed"
    assert (await _step_row(ctx, run.id)).outputs["answered"] == "later"
