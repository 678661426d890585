"""The LLM planner repairs before it fails: through the API, the real SDK and a real server.

A model's plan with keys in the wrong format, dangling references, repeated keys, a reply in
a code fence from a server without structured output: each is stored after ONE model call,
with what was repaired in the plan's notes (stored with the plan, read by the API, shown on
the plan's page). A dependency cycle, which no rule can fix, goes back to the model once with
the cycle named.
"""

import copy
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
from markupsafe import escape
from sqlalchemy import select

from missionctl.app import create_app
from missionctl.cli.run import print_plan
from missionctl.db.models import Plan
from missionctl.planning import PlanningInput, build_local_plan
from missionctl.schemas.plans import PlanRead
from missionctl.services import ServiceContext
from missionctl.services.runtime.composition import open_runtime
from missionctl.settings import LLMSettings, Settings
from tests.support.auth import bearer_headers
from tests.support.consistency import assert_consistent
from tests.support.openai_server import (
    Content,
    ScriptedOpenAIServer,
    refusing_response_formats,
)

GOAL = "Build a URL shortener with click analytics and custom aliases"
MODEL = "scripted-model"

Answer = dict[str, Any]


def local_answer() -> Answer:
    """A valid plan of GOAL as a model would send it (the local planner's, as JSON)."""
    plan = build_local_plan(PlanningInput(title="URL shortener", goal=GOAL))
    return plan.model_dump(mode="json")


def rename(answer: Answer, old: str, new: str) -> int:
    """Rename a key in ``answer`` and every reference to it; returns how many references."""
    count = 0
    for item in answer["tasks"] + answer["requirements"] + answer["phases"]:
        if item["key"] == old:
            item["key"] = new
    for holder, field in [(t, f) for t in answer["tasks"] for f in ("depends_on", "traces")] + [
        (p, "task_keys") for p in answer["phases"]
    ]:
        count += holder[field].count(old)
        holder[field] = [new if ref == old else ref for ref in holder[field]]
    return count


def task(answer: Answer, key: str) -> Answer:
    return next(t for t in answer["tasks"] if t["key"] == key)


@dataclass
class LLMApp:
    """The app configured with a model on the scripted server, and an admin's HTTP client."""

    http: httpx2.AsyncClient
    ctx: ServiceContext
    settings: Settings

    async def plan(self) -> dict[str, Any]:
        """Create a mission and plan it through the API; returns the stored plan (PlanRead)."""
        created = await self.http.post("/api/v1/missions", json={"goal": GOAL})
        assert created.status_code == 201, created.text
        planned = await self.http.post(f"/api/v1/missions/{created.json()['id']}/plan")
        assert planned.status_code == 201, planned.text
        plan: dict[str, Any] = planned.json()
        return plan

    async def validation(self, plan_id: str) -> dict[str, Any]:
        """The ``validation`` column of a stored plan row."""
        async with self.ctx.read() as session:
            row = await session.scalar(select(Plan).where(Plan.id == uuid.UUID(plan_id)))
            assert row is not None
            return dict(row.validation)

    async def assert_notes_shown(self, plan: dict[str, Any]) -> None:
        """The notes are stored, read back by the API, and listed on the plan's page."""
        stored = await self.validation(plan["id"])
        assert stored["notes"] == plan["notes"]
        read = await self.http.get(f"/api/v1/missions/{plan['mission_id']}/plan")
        assert read.json()["notes"] == plan["notes"]
        page = (await self.http.get(f"/missions/{plan['mission_id']}/plans/1")).text
        assert 'data-testid="plan-notes"' in page and "Planner notes" in page
        assert all(str(escape(note)) in page for note in plan["notes"])


@pytest.fixture
async def llm_app(settings: Settings, openai_server: ScriptedOpenAIServer) -> AsyncIterator[LLMApp]:
    """The app planning with a model on the scripted server, on each database."""
    llm = LLMSettings(base_url=openai_server.base_url, model=MODEL, timeout_s=5)
    configured = settings.model_copy(update={"llm": llm})
    app = create_app(configured)
    async with app.router.lifespan_context(app):
        headers = await bearer_headers(app.state.ctx)
        async with httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url="http://testserver", headers=headers
        ) as http:
            yield LLMApp(http, app.state.ctx, configured)
        await assert_consistent(app.state.ctx)


def answering(*answers: Answer | str) -> Callable[[dict[str, Any]], Content]:
    """A handler that sends ``answers`` in turn (JSON, or text as it is)."""
    queue = list(answers)

    def handle(body: dict[str, Any]) -> Content:
        answer = queue.pop(0)
        return Content(answer if isinstance(answer, str) else json.dumps(answer))

    return handle


def plan_keys(plan: dict[str, Any]) -> tuple[list[str], list[str]]:
    return [r["key"] for r in plan["requirements"]], [t["key"] for t in plan["tasks"]]


# ---- Repaired in place: one model call -----------------------------------------------------------


async def test_wrong_key_formats_are_renamed_with_their_references(
    llm_app: LLMApp, openai_server: ScriptedOpenAIServer
) -> None:
    answer = local_answer()
    traced = rename(answer, "R1", "REQ-1")
    for requirement in answer["requirements"][1:]:
        rename(answer, requirement["key"], f"REQ-{requirement['key'][1:]}")
    referenced = rename(answer, "scope", "Task One")
    openai_server.default_handler = answering(answer)

    plan = await llm_app.plan()

    assert len(openai_server.chat_requests) == 1
    expected = local_answer()
    rename(expected, "scope", "task-one")
    assert plan_keys(plan) == plan_keys(expected)
    assert plan["tasks"] == expected["tasks"] and plan["phases"] == expected["phases"]
    assert f"Requirement key 'REQ-1' renamed R1 (and its {traced} references)" in plan["notes"]
    assert (
        f"Task key 'Task One' renamed task-one (and its {referenced} references)" in (plan["notes"])
    )
    assert (await llm_app.validation(plan["id"]))["attempts"] == 1
    await llm_app.assert_notes_shown(plan)


async def test_the_cli_shows_a_plans_notes(
    llm_app: LLMApp, openai_server: ScriptedOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = local_answer()
    rename(answer, "ui", "User Interface")
    openai_server.default_handler = answering(answer)
    plan = await llm_app.plan()

    print_plan(PlanRead.model_validate(plan))

    shown = " ".join(capsys.readouterr().out.split())
    assert (
        "planner notes: - Task key 'User Interface' renamed user-interface (and its 2 references)"
        in shown
    )


async def test_dangling_traces_and_dependencies_are_dropped(
    llm_app: LLMApp, openai_server: ScriptedOpenAIServer
) -> None:
    answer = local_answer()
    task(answer, "ui")["traces"].append("R42")
    task(answer, "release")["depends_on"].append("load-test")
    answer["phases"][0]["task_keys"].append("ghost")
    openai_server.default_handler = answering(answer)

    plan = await llm_app.plan()

    assert len(openai_server.chat_requests) == 1
    assert plan["tasks"] == local_answer()["tasks"]
    assert plan["notes"] == [
        "Task 'ui' traced 'R42', which is not a requirement of the plan; the trace was dropped",
        "Task 'release' depended on 'load-test', which is not a task of the plan; the "
        "dependency was dropped",
        "Phase 'foundations' listed 'ghost', which is not a task of the plan; it was taken "
        "out of the phase",
    ]
    await llm_app.assert_notes_shown(plan)


async def test_a_models_risk_links_follow_renamed_tasks_and_hostile_ones_are_dropped(
    llm_app: LLMApp, openai_server: ScriptedOpenAIServer
) -> None:
    answer = local_answer()
    rename(answer, "ui", "UI Work")  # repaired to "ui-work"; the risk's link must follow it
    risk = answer["risks"][0]
    risk["mitigation_tasks"] = ["UI Work", "ghost", "../../etc/passwd"]
    risk["owner"] = "<script>alert(1)</script>"
    answer["requirements"][0]["kind"] = "constraint"
    openai_server.default_handler = answering(answer)

    plan = await llm_app.plan()

    assert len(openai_server.chat_requests) == 1
    stored = plan["risks"][0]
    assert stored["mitigation_tasks"] == ["ui-work"]
    assert plan["requirements"][0]["kind"] == "constraint"
    dropped = [n for n in plan["notes"] if "was mitigated by" in n]
    assert len(dropped) == 2 and "'ghost'" in dropped[0]
    register = await llm_app.http.get(f"/missions/{plan['mission_id']}")
    assert register.status_code == 200
    assert "<script>alert(1)</script>" not in register.text  # the owner is text, escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in register.text
    trace = (await llm_app.http.get(f"/api/v1/missions/{plan['mission_id']}/trace")).json()
    assert "task:ui-work" in [e["target"] for e in trace["edges"] if e["kind"] == "mitigates"]


async def test_a_requirement_of_an_unknown_kind_is_sent_back_naming_the_field(
    llm_app: LLMApp, openai_server: ScriptedOpenAIServer
) -> None:
    wrong = local_answer()
    wrong["requirements"][0]["kind"] = "admin"
    openai_server.default_handler = answering(wrong, local_answer())

    plan = await llm_app.plan()

    assert len(openai_server.chat_requests) == 2  # sent back once, by the schema
    assert "requirements.0.kind" in openai_server.chat_requests[1].body["messages"][-1]["content"]
    assert all(r["kind"] in {"feature", "constraint", "quality"} for r in plan["requirements"])


async def test_repeated_keys_are_merged_or_renamed(
    llm_app: LLMApp, openai_server: ScriptedOpenAIServer
) -> None:
    answer = local_answer()
    answer["tasks"].append(copy.deepcopy(task(answer, "ui")))  # a repeat, word for word
    admin = copy.deepcopy(task(answer, "ui")) | {"title": "Admin UI", "depends_on": ["ui"]}
    answer["tasks"].append(admin)  # another task under a taken key
    answer["requirements"].append({"key": "R3", "text": "Links expire", "priority": "could"})
    task(answer, "release")["traces"].append("R7")  # the second 'R3' is R7 now: trace it
    openai_server.default_handler = answering(answer)

    plan = await llm_app.plan()

    assert len(openai_server.chat_requests) == 1
    keys = plan_keys(plan)
    assert keys[0] == ["R1", "R2", "R3", "R4", "R5", "R6", "R7"]
    assert keys[1] == [*plan_keys(local_answer())[1], "ui-2"]
    assert plan["tasks"][-1]["title"] == "Admin UI" and plan["tasks"][-1]["depends_on"] == ["ui"]
    assert plan["notes"] == [
        "Task 'ui' appeared twice, identical; kept once",
        "Requirement key 'R3' was used twice; the second is now R7 (references to 'R3' mean "
        "the first)",
        "Task key 'ui' was used twice; the second is now ui-2 (references to 'ui' mean the first)",
    ]
    await llm_app.assert_notes_shown(plan)


async def test_a_requirement_no_task_traces_is_stored_with_a_coverage_note(
    llm_app: LLMApp, openai_server: ScriptedOpenAIServer
) -> None:
    answer = local_answer()
    answer["requirements"].append({"key": "R7", "text": "Links expire", "priority": "could"})
    openai_server.default_handler = answering(answer)

    plan = await llm_app.plan()

    assert len(openai_server.chat_requests) == 1
    assert plan["notes"] == ["Requirement R7 is traced by no task (a coverage gap)"]


async def test_a_valid_plan_has_no_notes_and_its_page_no_notes_section(
    llm_app: LLMApp, openai_server: ScriptedOpenAIServer
) -> None:
    openai_server.default_handler = answering(local_answer())

    plan = await llm_app.plan()

    assert plan["notes"] == []
    assert (await llm_app.validation(plan["id"]))["notes"] == []
    page = (await llm_app.http.get(f"/missions/{plan['mission_id']}/plans/1")).text
    assert "Planner notes" not in page


# ---- A server without structured output ----------------------------------------------------------


async def test_a_server_refusing_json_schema_is_asked_for_a_json_object_from_then_on(
    llm_app: LLMApp, openai_server: ScriptedOpenAIServer
) -> None:
    answer = local_answer()
    rename(answer, "R2", "REQ-2")
    openai_server.default_handler = refusing_response_formats(
        "json_schema", then=answering(answer, answer, answer)
    )

    plan = await llm_app.plan()

    refused, accepted = openai_server.chat_requests  # the refusal carried no answer
    assert refused.response_format is not None
    assert refused.response_format["type"] == "json_schema"
    assert accepted.response_format == {"type": "json_object"}
    assert (await llm_app.validation(plan["id"]))["attempts"] == 1
    assert plan["notes"][0] == (
        "The server does not accept json_schema; the plan was asked for as a JSON object"
    )
    assert plan["notes"][1].startswith("Requirement key 'REQ-2' renamed R2")
    await llm_app.assert_notes_shown(plan)

    await llm_app.plan()  # the same client remembers the refusal
    async with open_runtime(llm_app.settings) as runtime:  # and so does a new one
        await runtime.planner.plan(PlanningInput(title="Again", goal=GOAL))

    assert [r.response_format for r in openai_server.chat_requests[2:]] == [
        {"type": "json_object"},
        {"type": "json_object"},
    ]


async def test_a_fenced_reply_with_prose_is_read_in_prompt_mode(
    llm_app: LLMApp, openai_server: ScriptedOpenAIServer
) -> None:
    answer = local_answer()
    rename(answer, "ui", "UI")
    reply = f"Here is the plan you asked for:\n\n```json\n{json.dumps(answer, indent=2)}\n```\n"
    reply += "Let me know if you want changes."
    openai_server.default_handler = refusing_response_formats(
        "json_schema", "json_object", then=answering(reply)
    )

    plan = await llm_app.plan()

    *refusals, accepted = openai_server.chat_requests
    assert len(refusals) == 2 and accepted.body is not None
    assert "response_format" not in accepted.body
    assert "JSON Schema" in accepted.messages[0]["content"]  # the schema rides in the prompt
    assert plan["tasks"] == local_answer()["tasks"]
    assert plan["notes"][:2] == [
        "The server accepts no response_format; the plan was asked for in the prompt alone",
        "Task key 'UI' renamed ui (and its 2 references)",
    ]
    await llm_app.assert_notes_shown(plan)


# ---- Sent back: what no rule can fix -------------------------------------------------------------


async def test_a_cycle_is_sent_back_once_with_the_cycle_named(
    llm_app: LLMApp, openai_server: ScriptedOpenAIServer
) -> None:
    cyclic = local_answer()
    task(cyclic, "scope")["depends_on"] = ["e2e-tests"]
    rename(cyclic, "scope", "Scope")  # repaired on the way, so the cycle names 'scope'
    corrected = local_answer()
    openai_server.default_handler = answering(cyclic, corrected)

    plan = await llm_app.plan()

    first, second = openai_server.chat_requests
    cycle = "scope → architecture → api-contract → click-analytics → e2e-tests → scope"
    assert f"dependency cycle: {cycle}" in second.messages[-1]["content"]
    assert cycle not in first.messages[-1]["content"]
    assert plan["tasks"] == corrected["tasks"]
    assert (await llm_app.validation(plan["id"]))["attempts"] == 2
    assert plan["notes"] == [
        f"A plan broke the plan rules and was sent back (dependency cycle: {cycle}; remove "
        "one of these dependencies)"
    ]
    await llm_app.assert_notes_shown(plan)


async def test_a_value_that_does_not_convert_without_loss_is_sent_back_by_name(
    llm_app: LLMApp, openai_server: ScriptedOpenAIServer
) -> None:
    broken = local_answer()
    broken["tasks"][2]["estimate_tokens"] = "about a day"
    rename(broken, "R1", "REQ-1")
    openai_server.default_handler = answering(broken, local_answer())

    plan = await llm_app.plan()

    _, second = openai_server.chat_requests
    repair = second.messages[-1]["content"]
    assert repair.startswith("Your reply did not match the schema: tasks.2.estimate_tokens: ")
    assert "Noted before validation: Requirement key 'REQ-1' renamed R1" in repair
    assert plan["tasks"] == local_answer()["tasks"]
    assert plan["notes"] == [
        "A reply did not match the schema and was sent back (tasks.2.estimate_tokens: Input "
        "should be a valid integer, unable to parse string as an integer)"
    ]


# ---- Clauses of the goal: one round for a plan that left one out -----------------------------


def without_aliases(answer: Answer) -> Answer:
    """``answer`` with every requirement and criterion that keeps "custom aliases" reworded."""
    dropped = copy.deepcopy(answer)
    for requirement in dropped["requirements"]:
        requirement["text"] = requirement["text"].replace("Custom aliases", "Short codes")
    for each in dropped["tasks"]:
        each["acceptance"] = [
            c.replace("custom aliases", "short codes") for c in each["acceptance"]
        ]
    return dropped


def clause_states(plan: dict[str, Any]) -> dict[str, bool]:
    return {c["text"]: bool(c["requirements"] or c["tasks"]) for c in plan["clauses"]}


async def test_a_plan_that_left_out_a_clause_is_sent_back_once_and_the_repair_keeps_it(
    llm_app: LLMApp, openai_server: ScriptedOpenAIServer
) -> None:
    openai_server.default_handler = answering(without_aliases(local_answer()), local_answer())

    plan = await llm_app.plan()

    first, second = openai_server.chat_requests
    asked = second.messages[-1]["content"]
    assert 'the goal says "custom aliases"' in asked
    assert "the goal says" not in first.messages[-1]["content"]
    assert clause_states(plan) == {"click analytics": True, "custom aliases": True}
    assert plan["requirements"][1]["text"].startswith("Custom aliases")
    stored = await llm_app.validation(plan["id"])
    assert stored["attempts"] == 2 and stored["clauses"] == plan["clauses"]
    assert plan["notes"][0].startswith("A plan left out clauses of the goal and was sent back")
    page = (await llm_app.http.get(f"/missions/{plan['mission_id']}/plans/1")).text
    assert "Every clause of the goal is covered: 2 of 2" in page
    assert "Not understood" not in page


async def test_a_model_that_still_leaves_a_clause_out_is_not_asked_again_and_the_page_asks(
    llm_app: LLMApp, openai_server: ScriptedOpenAIServer
) -> None:
    dropped = without_aliases(local_answer())
    openai_server.default_handler = answering(dropped, dropped)

    plan = await llm_app.plan()

    assert len(openai_server.chat_requests) == 2
    assert clause_states(plan) == {"click analytics": True, "custom aliases": False}
    read = (await llm_app.http.get(f"/api/v1/missions/{plan['mission_id']}/plan")).json()
    assert read["clauses"] == plan["clauses"]
    page = (await llm_app.http.get(f"/missions/{plan['mission_id']}/plans/1")).text
    assert "Not understood" in page and "1 of 2 clauses of the goal" in page
    assert '“custom aliases” <span class="muted">(feature)</span>: what should' in page
    assert "Every clause of the goal is covered" not in page


async def test_the_cli_says_whether_every_clause_is_covered(
    llm_app: LLMApp, openai_server: ScriptedOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    dropped = without_aliases(local_answer())
    openai_server.default_handler = answering(local_answer(), dropped, dropped)
    print_plan(PlanRead.model_validate(await llm_app.plan()))
    print_plan(PlanRead.model_validate(await llm_app.plan()))

    first, second = (
        " ".join(part.split()) for part in capsys.readouterr().out.split("plan v1")[1:]
    )
    assert "Every clause of the goal is covered (2 of 2)." in first
    assert "Not understood: 1 of 2 clauses of the goal are in no requirement." in second
    assert "“custom aliases” (feature)" in second


async def test_a_clause_round_that_breaks_the_rules_keeps_the_earlier_valid_plan(
    llm_app: LLMApp, openai_server: ScriptedOpenAIServer
) -> None:
    """The clause round's reply has a cycle, and so has its repair when the budget runs out:
    the valid plan the round was asked to extend is stored, and nothing is refused."""
    dropped = without_aliases(local_answer())
    cyclic = local_answer()
    task(cyclic, "scope")["depends_on"] = ["e2e-tests"]
    openai_server.default_handler = answering(dropped, cyclic, cyclic)

    plan = await llm_app.plan()

    assert len(openai_server.chat_requests) == 3
    assert plan["tasks"] == dropped["tasks"]
    assert clause_states(plan)["custom aliases"] is False
    assert (await llm_app.validation(plan["id"]))["attempts"] == 3
    assert plan["notes"][-1].startswith(
        "The plan sent back for its clauses came back breaking the plan rules (dependency cycle"
    )
    assert plan["notes"][-1].endswith("the earlier plan is kept")


async def test_a_hostile_clause_is_quoted_to_the_model_as_data_and_shown_escaped(
    llm_app: LLMApp, openai_server: ScriptedOpenAIServer
) -> None:
    goal = f"{GOAL} and <script>alert(1)</script> widgets"
    created = await llm_app.http.post("/api/v1/missions", json={"goal": goal})
    mission_id = created.json()["id"]
    openai_server.default_handler = answering(local_answer(), local_answer())

    planned = await llm_app.http.post(f"/api/v1/missions/{mission_id}/plan")

    assert planned.status_code == 201, planned.text
    left_out = [c["text"] for c in planned.json()["clauses"] if not c["requirements"]]
    assert left_out and all("script" in text for text in left_out)
    page = (await llm_app.http.get(f"/missions/{mission_id}/plans/1")).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
