"""A declaration's own rules: its path's parameters, and what only a route can serve.

And what the route makes of the shapes a declaration may take: a body that may be left out,
an answer sent with another status, as another model.

What the faces made from the declarations do is ``test_declared.py``'s, and each area's
behaviour its own tests'.
"""

import inspect
import json
from typing import Annotated, Any

import httpx2
import pytest
from fastapi import Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from missionctl.api.declared import NEEDS, _endpoint
from missionctl.app import create_app
from missionctl.domain.access import Identity, Role
from missionctl.domain.access import Permission as P
from missionctl.operations import Operation, OtherStatus, use_case
from missionctl.operations import controls as control_ops
from missionctl.operations import events as event_ops
from missionctl.operations import missions as mission_ops
from missionctl.operations import workers as worker_ops
from missionctl.operations import workflows as workflow_ops
from missionctl.schemas.events import EventQuery
from missionctl.settings import Settings


class _Reason(BaseModel):
    reason: str = ""


class _Answer(BaseModel):
    recorded: bool


class _Questions(BaseModel):
    questions: list[str]


HELD = OtherStatus(202, when=lambda answer: not answer.recorded, description="Held, not recorded.")
ASKED = OtherStatus(
    202,
    when=lambda answer: isinstance(answer, _Questions),
    description="Asked, not done.",
    model=_Questions,
)


def _op(path: str = "/things/{thing_id}", **declared: Any) -> Operation[None]:
    return Operation(
        name="touch_thing",
        doc="Touch a thing.",
        method="POST",
        path=path,
        permission=P.AGENTS_ADMIN,
        service="missionctl.services.usecases.workers:command_worker",
        **declared,
    )


def test_a_parameter_may_name_its_convertor_and_is_filled_without_it() -> None:
    op = _op("/things/{name:path}/parts/{part}")
    assert op.path_parameters == ("name", "part")
    assert op.url(name="openai/gpt-4.1", part="2") == "/api/v1/things/openai/gpt-4.1/parts/2"
    with pytest.raises(KeyError):
        op.url(name="x")


def test_a_type_for_a_parameter_the_path_lacks_is_refused() -> None:
    with pytest.raises(ValueError, match="the path has no"):
        _op(path_types={"other": Annotated[str, Field(max_length=3)]})


@pytest.mark.parametrize(
    "route_only",
    [
        {"body_fields": True},
        {"path_types": {"thing_id": Annotated[str, Field(max_length=3)]}},
        {"arguments": {"command": "drain"}},
        {"body": _Reason, "body_optional": True},
        {"query": _Reason, "query_as": "query"},
    ],
    ids=["body_fields", "path_types", "arguments", "body_optional", "query_as"],
)
def test_an_mcp_tool_is_not_offered_for_what_only_a_route_serves(
    route_only: dict[str, Any],
) -> None:
    with pytest.raises(ValueError, match="an MCP tool takes no"):
        _op(mcp=True, **route_only)


def test_the_use_case_must_take_each_fixed_argument_and_each_body_field() -> None:
    class Change(BaseModel):
        command: str
        colour: str

    use_case(worker_ops.DRAIN, provided=NEEDS)  # takes worker_id, command and actor
    use_case(worker_ops.SCALE, provided=NEEDS)  # takes worker_id, concurrency and actor
    with pytest.raises(LookupError, match="takes no \\['colour'\\]"):
        use_case(_op(path="/workers/{worker_id}", body=Change, body_fields=True), provided=NEEDS)
    with pytest.raises(LookupError, match="takes no \\['colour'\\]"):
        use_case(_op(path="/workers/{worker_id}", arguments={"colour": "red"}), provided=NEEDS)


def test_an_optional_body_needs_a_default_for_each_field() -> None:
    class Required(BaseModel):
        reason: str

    with pytest.raises(ValueError, match="an optional body needs a default"):
        _op(body_optional=True)
    with pytest.raises(ValueError, match="an optional body needs a default"):
        _op(body=Required, body_optional=True)
    assert _op(body=_Reason, body_optional=True).body_optional


def test_a_body_that_may_be_null_may_be_left_out() -> None:
    with pytest.raises(ValueError, match="a body that may be null is optional"):
        _op(body=_Reason, body_nullable=True)
    assert _op(body=_Reason, body_optional=True, body_nullable=True).body_nullable


async def test_the_route_reads_a_null_body_as_one_left_out(settings: Settings) -> None:
    given: dict[str, Any] = {}

    async def touch(ctx: object, *, thing_id: str, data: _Reason) -> _Answer:
        given.update(thing_id=thing_id, data=data)
        return _Answer(recorded=True)

    op = _op(body=_Reason, body_optional=True, body_nullable=True, output=_Answer)
    endpoint = _endpoint(op, touch)
    assert inspect.signature(endpoint).parameters["body"].default is None
    who = Identity("user:ada", "ada", Role.ADMIN)
    await endpoint(request=None, ctx=None, who=who, response=Response(), thing_id="t", body=None)
    assert given == {"thing_id": "t", "data": _Reason()}
    document = create_app(settings).openapi()
    run = document["paths"][workflow_ops.RUN.url(workflow_id="{workflow_id}")]["post"]
    assert "required" not in run["requestBody"]
    assert run["requestBody"]["content"]["application/json"]["schema"]["anyOf"] == [
        {"$ref": "#/components/schemas/WorkflowRunCreate"},
        {"type": "null"},
    ]


def test_a_query_taken_whole_needs_a_query_and_is_passed_as_one() -> None:
    with pytest.raises(ValueError, match="query_as names no query"):
        _op(query_as="query")
    with pytest.raises(LookupError, match="takes no \\['filters'\\]"):
        use_case(
            _op(path="/workers/{worker_id}", query=_Reason, query_as="filters"), provided=NEEDS
        )


async def test_the_route_passes_a_query_taken_whole_as_its_model() -> None:
    given: dict[str, Any] = {}

    async def touch(ctx: object, *, thing_id: str, filters: _Reason) -> _Answer:
        given.update(thing_id=thing_id, filters=filters)
        return _Answer(recorded=True)

    endpoint = _endpoint(_op(query=_Reason, query_as="filters", output=_Answer), touch)
    who = Identity("user:ada", "ada", Role.ADMIN)
    query = _Reason(reason="why")
    await endpoint(request=None, ctx=None, who=who, response=Response(), thing_id="t1", query=query)
    assert given == {"thing_id": "t1", "filters": query}


def test_a_list_field_of_the_query_is_its_parameter_repeated(settings: Settings) -> None:
    from pydantic import SecretStr

    from missionctl.cli._backend import MissionControl
    from missionctl.cli.remote import RemoteClient

    sent: list[str] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        sent.append(str(request.url.params))
        return httpx2.Response(200, json={"items": [], "next_before": None, "newest": 0})

    client = RemoteClient(base_url="http://mc.test", token=SecretStr("t"))
    client._http = httpx2.Client(base_url="http://mc.test", transport=httpx2.MockTransport(answer))
    query = EventQuery(type=["step.", "run."], severity=["error"], limit=5)
    MissionControl(client).call(event_ops.LIST, query=query)
    assert sent == ["limit=5&type=step.&type=run.&severity=error"]
    document = create_app(settings).openapi()
    parameters = document["paths"][event_ops.LIST.url()]["get"]["parameters"]
    types = next(p for p in parameters if p["name"] == "type")
    assert types["schema"]["anyOf"][0]["type"] == "array"  # FastAPI reads each of the repeats


def test_an_answer_with_no_body_has_no_other_status() -> None:
    with pytest.raises(ValueError, match="an answer with no body has one status"):
        _op(other_statuses=(HELD,))


@pytest.mark.parametrize(("recorded", "status"), [(True, 200), (False, 202)])
async def test_the_route_leaves_the_body_out_and_answers_the_status_the_answer_fits(
    recorded: bool, status: int
) -> None:
    given: dict[str, Any] = {}

    async def touch(ctx: object, *, thing_id: str, reason: str, actor: str) -> _Answer:
        given.update(thing_id=thing_id, reason=reason, actor=actor)
        return _Answer(recorded=recorded)

    op = _op(
        body=_Reason, body_fields=True, body_optional=True, output=_Answer, other_statuses=(HELD,)
    )
    endpoint = _endpoint(op, touch)
    left_out = inspect.signature(endpoint).parameters["body"].default
    assert left_out == _Reason()  # what FastAPI passes when no body is sent
    response = Response()
    who = Identity("user:ada", "ada", Role.ADMIN)
    answer = await endpoint(
        request=None, ctx=None, who=who, response=response, thing_id="t1", body=left_out
    )
    assert answer == _Answer(recorded=recorded) and response.status_code == status
    assert given == {"thing_id": "t1", "reason": "", "actor": "user:ada"}


def test_the_route_documents_an_optional_body_and_another_status(settings: Settings) -> None:
    document = create_app(settings).openapi()
    engage = document["paths"][control_ops.ENGAGE.url()]["post"]
    assert "required" not in engage["requestBody"]  # the stop's reason may be left out
    held = engage["responses"]["202"]
    assert held["description"] == control_ops.ENGAGE.other_statuses[0].description
    assert held["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/EmergencyStopResult"
    }


@pytest.mark.parametrize(("role", "may_run"), [(Role.VIEWER, False), (Role.OPERATOR, True)])
async def test_each_face_tells_the_use_case_the_granted_permissions_the_person_and_the_identity(
    role: Role, may_run: bool
) -> None:
    from missionctl.mcp.caller import _CALLER, Caller
    from missionctl.mcp.declared import _tool

    given: list[dict[str, Any]] = []

    async def look(
        ctx: object, *, thing_id: str, may_run: bool, user: str | None, identity: Identity
    ) -> _Answer:
        given.append({"may_run": may_run, "user": user, "identity": identity})
        return _Answer(recorded=True)

    op = Operation(
        name="look_at_thing",
        doc="Look at a thing.",
        method="GET",
        path="/things/{thing_id}",
        permission=P.WORKFLOWS_READ,
        service="missionctl.services.usecases.workers:command_worker",
        output=_Answer,
        needs=("user", "identity"),
        grants={"may_run": P.RUNS_CONTROL},
    )
    who = Identity("user:ada", "ada", role)
    await _endpoint(op, look)(request=None, ctx=None, who=who, response=Response(), thing_id="t")
    nothing: Any = None  # the tool reads only the caller's identity
    caller = Caller(nothing, nothing, who, nothing, None, "stdio")
    token = _CALLER.set(caller)
    try:
        assert await _tool(op, look)(thing_id="t") == {"recorded": True}
    finally:
        _CALLER.reset(token)
    assert given == [{"may_run": may_run, "user": "ada", "identity": who}] * 2


@pytest.mark.parametrize(
    ("answer", "status"), [(_Answer(recorded=True), 200), (_Questions(questions=["why?"]), 202)]
)
async def test_an_answer_of_another_model_is_sent_as_that_model_with_its_status(
    answer: _Answer | _Questions, status: int
) -> None:
    async def touch(ctx: object, *, thing_id: str) -> _Answer | _Questions:
        return answer

    op = _op(output=_Answer, other_statuses=(ASKED,))
    assert op.outputs == _Answer | _Questions  # what a command parses the answer as
    assert _op(output=_Answer, other_statuses=(HELD,)).outputs is _Answer
    response = Response()
    who = Identity("user:ada", "ada", Role.ADMIN)
    sent = await _endpoint(op, touch)(
        request=None, ctx=None, who=who, response=response, thing_id="t1"
    )
    if status == 200:  # the route's own model, which FastAPI sends
        assert sent == answer and response.status_code == 200
    else:  # not the route's model: sent as it is
        assert isinstance(sent, JSONResponse) and sent.status_code == 202
        assert json.loads(bytes(sent.body)) == {"questions": ["why?"]}


def test_the_route_documents_another_model_and_each_failure(settings: Settings) -> None:
    document = create_app(settings).openapi()
    path = mission_ops.ANSWER.url(mission_id="{mission_id}")
    responses = document["paths"][path]["post"]["responses"]
    schemas = {
        status: answer["content"]["application/json"]["schema"]
        for status, answer in responses.items()
    }
    assert schemas["201"] == {"$ref": "#/components/schemas/PlanRead"}
    assert schemas["202"] == {"$ref": "#/components/schemas/ClarificationRead"}
    assert {"409", "502", "503"} <= responses.keys()
