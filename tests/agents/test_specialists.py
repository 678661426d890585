"""Builtin specialists write real, goal-specific, deterministic documents from mission and plan."""

import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from missionctl.agents.base import AgentError, AgentResult, StepContext
from missionctl.agents.registry import AgentRegistry
from missionctl.agents.specialists import (
    SPECIALIST_ROLES,
    SpecialistAgent,
    analyse_goal,
    register_specialists,
)
from missionctl.domain.english import indefinite_article
from missionctl.planning import PlanningInput, build_local_plan
from tests.planning.helpers import GOALS as PLANNER_GOALS

URL_SHORTENER = "Build a URL shortener with click analytics and custom aliases"
VET_CLINIC = (
    "Build a REST API for a veterinary clinic: appointments, patients, invoices, with role-based "
    "access"
)
SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*\.md$")


def mission_of(goal: str, **fields: Any) -> dict[str, Any]:
    return {"title": goal[:80], "goal": goal, "constraints": [], "repo_context": "", **fields}


def plan_of(mission: dict[str, Any]) -> dict[str, Any]:
    """A local plan as ``PlanRead`` JSON, as the engine's ``load_plan`` returns it."""
    planning = PlanningInput(
        title=mission["title"],
        goal=mission["goal"],
        constraints=tuple(mission["constraints"]),
        repo_context=mission["repo_context"],
    )
    draft = build_local_plan(planning)
    return draft.model_dump(mode="json") | {
        "id": str(uuid.uuid4()),
        "mission_id": str(uuid.uuid4()),
        "version": 1,
        "source": "local",
        "created_at": "2026-06-14T07:20:00Z",
    }


def context(
    step_id: str,
    role: str,
    inputs: dict[str, Any],
    *,
    mission: dict[str, Any] | None,
    plan: dict[str, Any] | None,
    upstream: dict[str, dict[str, Any]] | None = None,
    logs: list[str] | None = None,
) -> StepContext:
    lines = logs if logs is not None else []

    async def load_mission() -> dict[str, Any] | None:
        return mission

    async def load_plan() -> dict[str, Any] | None:
        return plan

    async def load_upstream() -> dict[str, dict[str, Any]]:
        return dict(upstream or {})

    def log(message: str, *, level: str = "info") -> None:
        lines.append(f"{level}: {message}")

    return StepContext(
        run_id=uuid.uuid4(),
        mission_id=None,
        step_id=step_id,
        attempt=1,
        agent=f"builtin:{role}",
        inputs=inputs,
        run_dir=Path("/nonexistent"),
        log=log,
        load_upstream_outputs=load_upstream,
        load_mission=load_mission,
        load_plan=load_plan,
    )


async def run_plan(goal: str, **mission_fields: Any) -> dict[str, AgentResult]:
    """Run every task of the goal's local plan in order, feeding upstream outputs forward."""
    mission = mission_of(goal, **mission_fields)
    plan = plan_of(mission)
    results: dict[str, AgentResult] = {}
    for task in plan["tasks"]:
        inputs = {k: task[k] for k in ("title", "description", "acceptance", "expected_artifacts")}
        step = context(
            task["key"],
            task["role"],
            {**inputs, "role": task["role"]},
            mission=mission,
            plan=plan,
            upstream={d: results[d].outputs for d in task["depends_on"]},
        )
        results[task["key"]] = await SpecialistAgent(task["role"]).run(step)
    return results


def documents(results: dict[str, AgentResult]) -> dict[str, str]:
    return {a.name: a.content.decode() for r in results.values() for a in r.artifacts}


async def test_the_url_shortener_gets_goal_specific_documents_from_every_role() -> None:
    results = await run_plan(URL_SHORTENER)
    docs = documents(results)
    for name in ("scope.md", "architecture.md", "data-model.md", "api-contract.md"):
        assert name in docs
    for name in ("risk-review.md", "test-plan.md", "delivery-checklist.md"):
        assert name in docs
    scope = docs["scope.md"]
    assert scope.startswith(f"# Scope — {URL_SHORTENER}\n")
    assert "builtin product specialist (no model)" in scope.splitlines()[2]
    assert "Define the URL shortener scope" in scope.splitlines()[4]
    assert "click analytics" in scope.lower() and "alias" in scope.lower()
    assert "| R1 |" in scope and "| must |" in scope and "Out of scope" in scope
    model = docs["data-model.md"]
    assert "### Alias (`aliases`)" in model and "### Click (`clicks`)" in model
    assert "Click → Link: many-to-one via `link_id`" in model
    contract = docs["api-contract.md"]
    assert "/api/v1/links/{link_id}/aliases" in contract
    assert "/api/v1/reports/click-analytics" in contract
    assert '"field": ' in contract and "| 422 |" in contract
    assert "Abuse of public endpoints" in docs["risk-review.md"]


async def test_every_document_is_safe_named_markdown_with_the_specification_banner() -> None:
    results = await run_plan(URL_SHORTENER)
    for key, result in results.items():
        names = [a.name for a in result.artifacts]
        assert names and result.outputs["documents"] == names
        assert len(set(names)) == len(names)
        for artifact in result.artifacts:
            text = artifact.content.decode()
            assert SAFE_NAME.match(artifact.name), artifact.name
            assert (artifact.kind, artifact.media_type) == ("markdown", "text/markdown")
            head = text.splitlines()[:5]
            assert head[0].startswith("# ") and URL_SHORTENER in head[0]
            assert "builtin" in head[2] and "no model" in head[2] and "specification" in head[2]
            assert f"`{key}`" in head[4] and "plan v1 (local)" in head[4]


async def test_outputs_report_checks_per_acceptance_criterion() -> None:
    results = await run_plan(URL_SHORTENER)
    plan = plan_of(mission_of(URL_SHORTENER))
    for task in plan["tasks"]:
        outputs = results[task["key"]].outputs
        assert [c["criterion"] for c in outputs["checks"]] == task["acceptance"]
        # A document never ticks a check: it says whether it discusses the criterion; work
        # that changes code or infrastructure is specified, not done.
        expected = {"discussed", "open"} if task["risk_tier"] == "read" else {"specified"}
        assert {c["status"] for c in outputs["checks"]} <= expected
        primary = results[task["key"]].artifacts[0].content.decode()
        assert "[x]" not in primary
        for check in outputs["checks"]:
            assert f"- [ ] {check['criterion']} — " in primary
        assert outputs["summary"] == results[task["key"]].summary
        assert all(c["document"] == outputs["documents"][0] for c in outputs["checks"])
    custom = results["custom-aliases"]
    assert custom.outputs["documents"] == ["custom-aliases-implementation.md"]
    assert "coding agent" in custom.next_steps[0]["text"]


async def test_a_check_is_never_ticked_and_says_whether_the_document_discusses_it() -> None:
    inputs = {
        "title": "Review the payment webhook",
        "goal": "Harden the payment webhook of our shop",
        "acceptance": ["Replay attacks are refused", "Quarterly tax filings are reconciled"],
    }
    step = context("review", "security", inputs, mission=None, plan=None, logs=[])
    result = await SpecialistAgent("security").run(step)
    review = result.artifacts[0].content.decode()
    assert "## How to verify this task" in review and "[x]" not in review
    assert "- [ ] Replay attacks are refused — discussed in this document; confirm it" in review
    assert "- [ ] Quarterly tax filings are reconciled — not discussed here" in review
    statuses = [c["status"] for c in result.outputs["checks"]]
    assert statuses == ["discussed", "open"]
    assert "1 discussed, 1 open" in result.summary


async def test_security_qa_and_release_report_risks_and_next_steps() -> None:
    results = await run_plan(URL_SHORTENER)
    for key in ("security-review", "e2e-tests", "release"):
        assert results[key].next_steps, key
        assert results[key].risks, key
        for risk in results[key].risks:
            assert risk["severity"] in ("low", "medium", "high", "critical")
            assert risk["mitigation"]
    titles = [r["title"] for r in results["security-review"].risks]
    assert "Abuse of public endpoints" not in " ".join(titles)  # already a plan risk
    assert "Irreversible" in results["release"].risks[0]["title"]


async def test_the_test_plan_traces_every_requirement_and_criterion() -> None:
    results = await run_plan(URL_SHORTENER)
    plan = plan_of(mission_of(URL_SHORTENER))
    test_plan = documents(results)["test-plan.md"]
    rows = [line for line in test_plan.splitlines() if line.startswith("| T-")]
    criteria = sum(len(t["acceptance"]) for t in plan["tasks"])
    assert len(rows) == len(plan["requirements"]) + criteria
    for req in plan["requirements"]:
        assert f"| T-{req['key']} | {req['key']};" in test_plan
    assert "requirements without a planned test: none" in test_plan


async def test_the_data_model_gives_each_record_what_the_goal_says_it_has() -> None:
    goal = (
        "Build a booking web app for a hostel: members reserve beds by date, staff check "
        "guests in and out, and nightly occupancy reports"
    )
    docs = documents(await run_plan(goal))
    model = docs["data-model.md"]
    reservation = model.split("### Reservation (`reservations`)")[1].split("###")[0]
    assert "| member_id | uuid | → Member |" in reservation
    assert "| bed_id | uuid | → Bed |" in reservation
    assert "| date | date | the day it is for |" in reservation
    assert "- Reservation → Bed: many-to-one via `bed_id`" in model
    assert "Personal data in Member, User and Guest" in model
    for made_up in ("### Reserve bed", "### Out ", "### Booking "):
        assert made_up not in model
    assert "/api/v1/reservations" in docs["api-contract.md"]


async def test_the_vet_clinic_documents_speak_of_appointments_and_roles() -> None:
    docs = documents(await run_plan(VET_CLINIC))
    assert "/api/v1/patients/{patient_id}/appointments" in docs["api-contract.md"]
    assert "### Appointment (`appointments`)" in docs["data-model.md"]
    assert "Appointment.ends_at: after starts_at" in docs["domain-glossary.md"]
    assert "| Action | receptionist | clinician | admin |" in docs["authz-matrix.md"]
    assert "erDiagram" in docs["erd.md"]
    assert "appointments" in docs["scope.md"]
    assert "Exposure of regulated data" in docs["risk-review.md"]
    assert "Mass assignment and unvalidated input" in docs["risk-review.md"]


def fixture_goals() -> list[str]:
    """The planner tests' goals of many kinds (``tests/planning/goals.txt``)."""
    return PLANNER_GOALS


@pytest.mark.parametrize("goal", fixture_goals())
async def test_every_fixture_goal_gets_documents_about_its_own_subject(goal: str) -> None:
    results = await run_plan(goal)
    docs = documents(results)
    subject, features, _ = analyse_goal(goal)
    everything = "\n".join(docs.values()).lower()
    for feature in features:
        assert feature.text.lower() in everything, feature.text
    assert sum(subject.lower() in text.lower() for text in docs.values()) >= 3
    product = [r for r in results.values() if r.outputs["role"] == "product"]
    for result in product:  # the scope names every feature of the goal
        scope = result.artifacts[0].content.decode().lower()
        assert all(f.text.lower() in scope for f in features)
    for result in results.values():
        assert result.outputs["documents"]


# Goals beyond the fixtures whose plans have several tasks of one role.
OWN_GOALS = [
    "Build an internal tool for HR onboarding with an approval flow",
    "Build a Kubernetes operator that backs up and restores Redis clusters",
    "Migrate a MySQL database of 500 GB to PostgreSQL with under ten minutes of downtime",
    "Build a data pipeline and an analytics dashboard for weekly revenue",
]


@pytest.mark.parametrize("goal", PLANNER_GOALS + OWN_GOALS)
async def test_a_plans_documents_have_distinct_names_and_fitting_articles(goal: str) -> None:
    results = await run_plan(goal)
    names = [a.name for r in results.values() for a in r.artifacts]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    for result in results.values():  # what a step says it wrote is what it returns
        assert result.outputs["documents"] == [a.name for a in result.artifacts]
        assert all(SAFE_NAME.match(name) for name in result.outputs["documents"])
    steps = [s["text"] for r in results.values() for s in r.next_steps]
    assert not [s for s in steps if "must requirements" in s]
    texts = [a.content.decode() for r in results.values() for a in r.artifacts] + steps
    wrong = [
        m.group(0)
        for text in texts
        for m in re.finditer(r"(?<![\w/`-])(a|an|A|An) ([\w][\w'./-]*)", text)
        if m.group(1).lower() != indefinite_article(m.group(2))
    ]
    assert wrong == []


async def test_a_second_task_of_a_role_names_its_documents_after_itself() -> None:
    goal = "Write a command-line tool that converts CSV files to Parquet with schema inference"
    results = await run_plan(goal)
    plans = {k: r.outputs["documents"] for k, r in results.items() if r.outputs["role"] == "qa"}
    # Both QA tasks write a test plan: the first in the plan keeps the name.
    assert plans["test-corpus"][0] == "test-plan.md"
    assert plans["perf-tests"][0] == "perf-tests-test-plan.md"
    assert results["perf-tests"].outputs["checks"][0]["document"] == "perf-tests-test-plan.md"


async def test_the_same_inputs_give_the_same_bytes() -> None:
    first = documents(await run_plan(VET_CLINIC, constraints=["No downtime"]))
    second = documents(await run_plan(VET_CLINIC, constraints=["No downtime"]))
    assert first == second
    assert "No downtime" in first["scope.md"]


async def test_a_step_without_mission_or_plan_works_from_its_inputs() -> None:
    logs: list[str] = []
    inputs = {
        "title": "Review the payment webhook",
        "goal": "Harden the payment webhook of our shop",
        "acceptance": ["Replay attacks are refused"],
        "expected_artifacts": ["Docs/ADR 7 Storage.md", "tests/e2e/x.py", "pull request: foo"],
    }
    step = context("review", "security", inputs, mission=None, plan=None, logs=logs)
    result = await SpecialistAgent("security").run(step)
    assert result.outputs["documents"] == ["risk-review.md", "adr-7-storage.md"]
    review = result.artifacts[0].content.decode()
    assert "# Risk review — Review the payment webhook" in review
    assert "the step inputs (no plan)" in review
    assert "Tampering with amounts or double charging" in review
    assert "- [ ] Replay attacks are refused — discussed in this document" in review
    assert any("wrote risk-review.md" in line for line in logs)


async def test_a_malformed_plan_is_ignored_with_a_warning() -> None:
    logs: list[str] = []
    mission = mission_of(URL_SHORTENER)
    inputs = {"title": "Scope it", "acceptance": ["Agreed"], "expected_artifacts": []}
    step = context("scope", "product", inputs, mission=mission, plan={"tasks": 3}, logs=logs)
    result = await SpecialistAgent("product").run(step)
    assert result.outputs["documents"] == ["scope.md"]
    assert any(line.startswith("warning: the plan could not be read") for line in logs)


async def test_a_step_with_nothing_to_work_from_fails_for_good() -> None:
    step = context("x", "qa", {}, mission=None, plan=None)
    with pytest.raises(AgentError) as caught:
        await SpecialistAgent("qa").run(step)
    assert not caught.value.retryable


def test_register_specialists_resolves_every_role_and_keeps_the_diagnostics() -> None:
    registry = AgentRegistry()
    register_specialists(registry)
    for role in SPECIALIST_ROLES:
        agent = registry.resolve(f"builtin:{role}")
        assert isinstance(agent, SpecialistAgent) and agent.role == role
    assert type(registry.resolve("builtin:noop")).__name__ == "NoopAgent"
    assert "builtin:*" in registry.names()
    with pytest.raises(AgentError) as caught:
        registry.resolve("builtin:wizard")
    assert not caught.value.retryable and "release" in caught.value.message
    with pytest.raises(ValueError, match="unknown specialist role"):
        SpecialistAgent("wizard")


BAKERY = (
    "Build an inventory management system for a small bakery with supplier orders and expiry alerts"
)
S3_SYNC = "Create a Rust command-line tool that syncs two S3 buckets incrementally"


async def test_the_bakery_data_model_keeps_its_stock_not_a_template() -> None:
    docs = documents(await run_plan(BAKERY))
    model = docs["data-model.md"]
    for heading in (
        "### Product (`products`)",
        "### Ingredient (`ingredients`)",
        "### Batch (`batches`)",
        "### Supplier (`suppliers`)",
        "### Purchase order (`purchase_orders`)",
        "### Stock movement (`stock_movements`)",
    ):
        assert heading in model
    assert "Purchase order → Supplier: many-to-one via `supplier_id`" in model
    assert "| expiry_date | date |" in model
    assert "Expiry alerts: computed from `batches.expiry_date`" in model
    assert "### Order (`orders`)" not in model and "### Alert (`alerts`)" not in model
    scope = next(text for name, text in docs.items() if text.startswith("# Scope"))
    assert "- Bakery staff" in scope and "- Suppliers" in scope


async def test_a_command_line_tool_gets_commands_and_its_own_records_not_rest_endpoints() -> None:
    docs = documents(await run_plan(S3_SYNC))
    model = docs["data-model.md"]
    assert "### Bucket (`buckets`)" in model and "### Object (`objects`)" in model
    assert "### Sync state (`sync_states`)" in model and "| etag | text |" in model
    headings = [line for line in model.splitlines() if line.startswith("### ")]
    assert headings and not any("incrementall" in line.lower() for line in headings)
    assert not any("/api/v1" in text for text in docs.values())
    implementation = docs["s3-bucket-sync-implementation.md"]
    assert "| rust-command-line-tool sync … | Sync two S3 buckets incrementally |" in (
        implementation
    )


async def test_a_goal_not_in_english_is_not_pasted_into_sentences_as_a_subject() -> None:
    goal = "Créer une application web pour gérer les réservations d'un restaurant"
    docs = documents(await run_plan(goal))
    sentences = [
        line
        for text in docs.values()
        for line in text.splitlines()
        if "Créer" in line and not line.startswith("# ")
    ]
    # The goal is quoted as written, never used as the name of the software.
    assert sentences and all(goal in line and "the Créer" not in line for line in sentences)
