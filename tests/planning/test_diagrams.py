"""The diagrams of a plan: the local rules over every kind, and a model through the real SDK."""

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import TypeAdapter

from missionctl.domain.diagrams import MAX_GROUPS, SYSTEM_DIAGRAM_NAMES, diagram_problems
from missionctl.llm import OpenAICompatibleClient
from missionctl.planning.base import PlanningInput
from missionctl.planning.diagrams import (
    RULES,
    DiagramRules,
    _rule_problems,
    draw_local,
    draw_with_model,
)
from missionctl.planning.local import build_local_plan
from missionctl.schemas.plans import PlanDraft
from tests.planning.helpers import GOALS, mission
from tests.support.openai_server import Content, Delay, HTTPError, ScriptedOpenAIServer

SALON = PlanningInput(
    title="Dog grooming bookings",
    goal="An appointment booking site for a dog grooming salon: owners pick a slot, pay a "
    "deposit with Stripe and get SMS reminders; groomers upload before/after photos.",
    constraints=("Django and PostgreSQL",),
)


def drawn(goal: PlanningInput) -> tuple[PlanDraft, Any]:
    plan = build_local_plan(goal)
    return plan, draw_local(goal, plan, plan_version=1)


@pytest.mark.parametrize("index", range(len(GOALS)))
def test_every_fixture_goal_draws_two_sound_diagrams_of_its_own_plan(index: int) -> None:
    plan, diagrams = drawn(mission(GOALS[index]))
    keys = [t.key for t in plan.tasks]
    for name in SYSTEM_DIAGRAM_NAMES:
        diagram = diagrams.by_name(name)
        assert diagram_problems(diagram) == [], (name, GOALS[index][:60])
        assert len(diagram.groups) <= MAX_GROUPS
        built = [key for c in diagram.components for key in c.tasks]
        assert set(built) <= set(keys)
        assert len(built) == len(set(built))  # a task builds one box of a diagram
        assert all(c.label and "{" not in c.label + c.technology for c in diagram.components)
    assert diagrams.source == "local" and diagrams.notes == ()


def test_the_drawing_speaks_the_missions_stack_and_what_it_names() -> None:
    plan, diagrams = drawn(SALON)
    arch = {c.key: c for c in diagrams.architecture.components}
    assert arch["api"].technology == "Django (Python)"
    assert arch["db"].technology == "PostgreSQL"
    assert arch["payments"].technology == "Stripe"
    assert {"email", "files", "queue"} <= arch.keys()
    assert "cache" not in arch  # nothing asks for one
    assert arch["api"].tasks and arch["web"].tasks  # backend and frontend tasks build them
    assert diagrams.architecture.groups[-1] == "External"  # third parties drawn last
    deploy = {c.key: c for c in diagrams.deployment.components}
    assert deploy["app"].technology.startswith("Django in containers")
    assert draw_local(SALON, plan, plan_version=1) == diagrams  # the same plan, the same drawing


def test_a_command_line_tool_gets_no_web_add_ons() -> None:
    tool = PlanningInput(
        title="Invoice CLI",
        goal="A command-line tool in Rust that turns billing CSV files into PDF invoices.",
    )
    _, diagrams = drawn(tool)
    labels = {c.label for c in diagrams.architecture.components}
    assert labels == {"Users", "Command-line interface", "Core logic", "Files and config"}
    assert {c.label for c in diagrams.deployment.components} >= {"Package registry"}


def test_the_rules_file_is_checked_beyond_its_types() -> None:
    data = {
        "kinds": {"web_app": "missing"},
        "shapes": {
            "web": {
                name: {
                    "anchor": "nowhere",
                    "components": [
                        {"key": "a", "label": "A", "technology": "", "group": "G", "roles": ["qa"]},
                        {"key": "b", "label": "B", "technology": "", "group": "G", "roles": ["qa"]},
                    ],
                    "connections": [{"source": "a", "target": "zz"}],
                }
                for name in SYSTEM_DIAGRAM_NAMES
            }
        },
        "last_groups": [],
        "addon_shapes": ["web"],
        "addons": [{"key": "x", "words": "(", "shapes": ["nope"]}],
    }
    problems = _rule_problems(TypeAdapter(DiagramRules).validate_python(data))
    text = "\n".join(problems)
    assert "kinds.web_app: no shape 'missing'" in text
    assert "anchor: 'nowhere' is not one of its components" in text
    assert "role 'qa' builds two components" in text
    assert "connections.0: names a component it lacks" in text
    assert "addons.0.words: not a regular expression" in text
    assert "addons.0.shapes: no shape 'nope'" in text
    assert _rule_problems(RULES) == []


# -- a model draws them, through the real openai SDK against a loopback server --------------


@pytest.fixture
async def client(openai_server: ScriptedOpenAIServer) -> AsyncIterator[OpenAICompatibleClient]:
    made = OpenAICompatibleClient(
        base_url=openai_server.base_url,
        api_key="k",
        model="draw-model",
        timeout_s=5.0,
        max_retries=0,
    )
    yield made
    await made.aclose()


def model_reply(plan: PlanDraft, **changes: Any) -> dict[str, Any]:
    architecture = {
        "components": [
            {
                "key": "spa",
                "label": "Booking app",
                "technology": "React",
                "group": "Clients",
                "tasks": [plan.tasks[0].key, "no-such-task"],
            },
            {"key": "api", "label": "Bookings API", "technology": "Django", "group": "Services"},
            {"key": "pg", "label": "Bookings DB", "technology": "PostgreSQL", "group": "Data"},
        ],
        "connections": [
            {"source": "spa", "target": "api", "label": "HTTPS"},
            {"source": "api", "target": "pg", "label": "SQL"},
        ],
    }
    deployment = {
        "components": [
            {"key": "fly", "label": "App machines", "technology": "Fly.io", "group": "Runtime"},
        ],
        "connections": [],
    }
    return {"architecture": architecture, "deployment": deployment, **changes}


async def test_the_models_diagrams_are_used_with_unknown_links_and_tasks_dropped(
    client: OpenAICompatibleClient, openai_server: ScriptedOpenAIServer
) -> None:
    plan = build_local_plan(SALON)
    reply = model_reply(plan)
    reply["architecture"]["connections"].append({"source": "api", "target": "ghost"})
    openai_server.push(Content(json.dumps(reply)))
    result = await draw_with_model(client, SALON, plan, plan_version=3, timeout_seconds=10)
    diagrams = result.diagrams
    assert diagrams.source == "draw-model" and diagrams.plan_version == 3
    assert diagrams.architecture.components[0].label == "Booking app"
    assert diagrams.architecture.components[0].tasks == (plan.tasks[0].key,)
    assert len(diagrams.architecture.connections) == 2
    assert any("Dropped 1 architecture connection" in n for n in diagrams.notes)
    assert result.usage.input_tokens > 0
    prompt = openai_server.chat_requests[0].messages[-1]["content"]
    assert "Dog grooming bookings" in prompt and plan.tasks[0].key in prompt
    assert '"key": "payments"' in prompt  # the local drawing is the model's starting point


async def test_a_diagram_the_preparer_cannot_mend_is_sent_back_to_the_model(
    client: OpenAICompatibleClient, openai_server: ScriptedOpenAIServer
) -> None:
    plan = build_local_plan(SALON)
    twice = model_reply(plan)
    twice["architecture"]["components"][2]["key"] = "api"  # two components keyed "api"
    openai_server.push(Content(json.dumps(twice)), Content(json.dumps(model_reply(plan))))
    result = await draw_with_model(client, SALON, plan, plan_version=1, timeout_seconds=10)
    assert result.diagrams.source == "draw-model"
    assert len(openai_server.chat_requests) == 2
    repair = json.dumps(openai_server.chat_requests[1].messages)
    assert "is used twice" in repair


async def test_a_model_that_does_not_answer_in_time_leaves_the_local_drawing_and_says_so(
    client: OpenAICompatibleClient, openai_server: ScriptedOpenAIServer
) -> None:
    plan = build_local_plan(SALON)
    openai_server.push(Delay(3.0, Content(json.dumps(model_reply(plan)))))
    result = await draw_with_model(client, SALON, plan, plan_version=1, timeout_seconds=0.3)
    assert result.diagrams.source == "local"
    assert result.diagrams.architecture == draw_local(SALON, plan, plan_version=1).architecture
    assert result.diagrams.notes == (
        "Drawn by the local rules: the model did not answer within 0.3 s.",
    )


async def test_a_failing_model_leaves_the_local_drawing_and_says_why(
    client: OpenAICompatibleClient, openai_server: ScriptedOpenAIServer
) -> None:
    plan = build_local_plan(SALON)
    openai_server.push(HTTPError(503, "overloaded"))
    result = await draw_with_model(client, SALON, plan, plan_version=1, timeout_seconds=10)
    assert result.diagrams.source == "local"
    assert result.diagrams.notes[0].startswith("Drawn by the local rules: the model failed:")


def test_the_architecture_shows_the_workers_observability_and_secrets_the_mission_names() -> None:
    ledger = PlanningInput(
        title="Payout ledger",
        goal="A payout ledger API in Go: background workers settle transfers, observability "
        "with OpenTelemetry traces, and API keys kept in HashiCorp Vault with rotation.",
        constraints=("PostgreSQL", "Redis for caching"),
    )
    _, diagrams = drawn(ledger)
    arch = {c.key: c for c in diagrams.architecture.components}
    assert {"queue", "cache", "monitoring", "secrets"} <= arch.keys()
    assert arch["secrets"].label == "Secrets store" and arch["monitoring"].label == "Observability"
    assert arch["queue"].label == "Job queue and workers"
    deploy = {c.key for c in diagrams.deployment.components}
    assert {"secrets", "monitoring"} <= deploy
    # Words that only look alike bring nothing: social workers are people, not processes.
    _, plain = drawn(mission("A case-notes tool for social workers at a city council"))
    assert not {"secrets", "queue"} & {c.key for c in plain.architecture.components}
