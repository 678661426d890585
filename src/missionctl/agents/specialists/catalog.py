"""Which documents each role writes, what they are called, and what each role reports.

A role has writers (one per kind of document). Its *signature* documents are always written —
``scope.md`` for product, ``risk-review.md`` for security, …; for a build role's write-tier task,
``<task>-implementation.md`` — under the name of the expected artifact that asks for them, else
under their own. Each Markdown file the task expects is written too, under its own (sanitised)
name, by the role's first unused writer whose keywords match the name, else by the generic
deliverable brief. Expected artifacts that are not documents (code, tests, configuration) are
listed in the documents as deliverables.

Names are unique within a plan's run: a document whose name an earlier task of the plan (in
plan order) already writes gets the task's key in front (``perf-tests-test-plan.md``), by the
rule the artifact store applies to any name taken in a run (``domain.artifact_names``). So the
names do not depend on which task finishes first, and what a step says it wrote is what is
stored.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from missionctl.agents.specialists import (
    build,
    contract,
    delivery,
    design,
    product,
    quality,
    security,
)
from missionctl.agents.specialists.brief import Brief, TaskView
from missionctl.agents.specialists.markdown import document_name, is_document_name, slug, stem
from missionctl.domain.artifact_names import distinct_name
from missionctl.schemas.plans import PlanTask

Render = Callable[[Brief, str], list[str]]


@dataclass(frozen=True, slots=True)
class Writer:
    """One kind of document."""

    key: str
    title: str
    default_name: str
    keywords: tuple[str, ...]
    render: Render

    def matches(self, name_stem: str) -> bool:
        """Whether an artifact name (its slug stem) asks for this document."""
        return name_stem == self.default_name.removesuffix(".md") or any(
            k in name_stem for k in self.keywords
        )


def _w(key: str, title: str, keywords: str, fn: Callable[[Brief], list[str]]) -> Writer:
    return Writer(key, title, f"{key}.md", tuple(keywords.split()), lambda brief, _name: fn(brief))


# fmt: off
SCOPE = _w("scope", "Scope", "scope one-pager spec requirements", product.write_scope)
PRD = _w("prd", "Product requirements", "prd product-requirements brief", product.write_prd)
JOURNEYS = _w("user-journeys", "User journeys", "journey stories", product.write_journeys)
GLOSSARY = _w("domain-glossary", "Domain glossary", "glossary domain terms",
              product.write_glossary)
USE_CASES = _w("use-cases", "Use cases", "use-case actors", product.write_use_cases)
README = _w("readme-outline", "README outline", "readme docs documentation guide",
            product.write_readme_outline)
ARCHITECTURE = _w("architecture", "Architecture", "architecture design system",
                  design.write_architecture)
DATA_MODEL = _w("data-model", "Data model", "data-model schema entities tracking",
                design.write_data_model)
ERD = _w("erd", "Entity-relationship diagram", "erd entity-relationship", design.write_erd)
ADR = Writer("adr", "Architecture decision record", "adr-0001.md", ("adr", "decision"),
             design.write_adr)
API_CONTRACT = _w("api-contract", "API contract", "api contract openapi endpoints",
                  contract.write_api_contract)
SCREENS = _w("screens", "Screens and states", "screen ui-flow flows states ux", build.write_screens)
WIREFRAMES = _w("wireframes", "Wireframes", "wireframe mockup sketch", build.write_wireframes)
PIPELINE = _w("pipeline", "Data pipeline", "pipeline etl ingest dataflow", build.write_pipeline)
MODEL_NOTES = _w("model-notes", "Model notes", "model eval training", build.write_model_notes)
IMPLEMENTATION = _w("implementation", "Implementation specification", "implementation",
                    build.write_implementation)
DEPLOYMENT = _w("deployment", "Deployment and environments", "deploy environment infrastructure",
                delivery.write_deployment)
OBSERVABILITY = _w("observability", "Observability", "alert dashboard observability monitor slo",
                   delivery.write_observability)
RUNBOOK = _w("runbook", "Runbook", "runbook playbook on-call", delivery.write_runbook)
RISK_REVIEW = _w("risk-review", "Risk review", "risk security-review", security.write_risk_review)
THREAT_MODEL = _w("threat-model", "Threat model", "threat stride", security.write_threat_model)
AUTHZ = _w("authz-matrix", "Authorisation matrix", "authz authori permission rbac access roles",
           security.write_authz_matrix)
TEST_PLAN = _w("test-plan", "Test plan", "test-plan qa", quality.write_test_plan)
CHECKLIST = _w("delivery-checklist", "Delivery checklist", "checklist delivery go-no-go",
               delivery.write_delivery_checklist)
RELEASE_NOTES = _w("release-notes", "Release notes (draft)", "release-notes changelog",
                   delivery.write_release_notes)
NOTES = _w("notes", "Deliverable brief", "", delivery.write_notes)
# fmt: on

ROLE_WRITERS: dict[str, tuple[Writer, ...]] = {
    "product": (SCOPE, PRD, JOURNEYS, GLOSSARY, USE_CASES),
    "architect": (ARCHITECTURE, DATA_MODEL, ERD, ADR),
    "backend": (API_CONTRACT, DATA_MODEL),
    "frontend": (SCREENS, WIREFRAMES),
    "mobile": (SCREENS, WIREFRAMES),
    "firmware": (DATA_MODEL,),
    "data": (PIPELINE, DATA_MODEL),
    "ml": (MODEL_NOTES, PIPELINE),
    "devops": (DEPLOYMENT, OBSERVABILITY, RUNBOOK),
    "infrastructure": (DEPLOYMENT, RUNBOOK, OBSERVABILITY),
    "security": (RISK_REVIEW, THREAT_MODEL, AUTHZ),
    "qa": (TEST_PLAN,),
    "docs": (README, GLOSSARY, USE_CASES),
    "release": (CHECKLIST, RUNBOOK, RELEASE_NOTES),
}
BUILD_ROLES = frozenset(
    {
        "backend",
        "frontend",
        "mobile",
        "firmware",
        "data",
        "ml",
        "devops",
        "infrastructure",
        "security",
    }
)


def signature(role: str, task: TaskView) -> tuple[Writer, ...]:
    """The documents a role always writes for this task."""
    if task.writes and role in BUILD_ROLES:
        return (IMPLEMENTATION,)
    writers = ROLE_WRITERS[role]
    return writers[:2] if role == "architect" else writers[:1]


def plan_documents(brief: Brief) -> list[tuple[str, Writer]]:
    """``(file name, writer)`` for every document this task gets, in writing order.

    Each name is free in the run of the brief's plan (see the module docstring).
    """
    taken = _names_before(brief.task.key, brief.tasks)
    documents = []
    for name, writer in task_documents(brief.role, brief.task):
        name = distinct_name(name, taken, owner=slug(brief.task.key))
        taken.add(name)
        documents.append((name, writer))
    return documents


def _names_before(key: str, tasks: list[PlanTask]) -> set[str]:
    """The document names the tasks before ``key`` in the plan get (all, if it is not there)."""
    taken: set[str] = set()
    for task in tasks:
        if task.key == key:
            break
        if task.role not in ROLE_WRITERS:
            continue
        view = TaskView(
            key=task.key,
            title=task.title,
            description=task.description,
            role=task.role,
            acceptance=tuple(task.acceptance),
            expected_artifacts=tuple(task.expected_artifacts),
            risk_tier=task.risk_tier,
        )
        for name, _ in task_documents(task.role, view):
            taken.add(distinct_name(name, taken, owner=slug(task.key)))
    return taken


def task_documents(role: str, task: TaskView) -> list[tuple[str, Writer]]:
    """``(file name, writer)`` for the documents of one task, before names are made unique."""
    chosen: list[tuple[str, Writer]] = []
    used: set[str] = set()
    names: set[str] = set()
    role_writers = ROLE_WRITERS[role]
    for expected in task.expected_artifacts:
        if not is_document_name(expected):
            continue
        name, key = document_name(expected), stem(expected)
        writer = next((w for w in role_writers if w.key not in used and w.matches(key)), None)
        writer = writer or NOTES
        if name not in names:
            chosen.append((name, writer))
            used.add(writer.key)
            names.add(name)
    for position, writer in enumerate(signature(role, task)):
        name = (
            f"{slug(task.key)}-implementation.md"
            if writer is IMPLEMENTATION
            else writer.default_name
        )
        if writer.key not in used and name not in names:
            chosen.insert(position, (name, writer))
            used.add(writer.key)
            names.add(name)
    return chosen


def _risk(title: str, severity: str, likelihood: str, mitigation: str, why: str) -> dict[str, Any]:
    return {
        "title": title,
        "description": why,
        "severity": severity,
        "likelihood": likelihood,
        "mitigation": mitigation,
    }


def _step(text: str, priority: str = "medium") -> dict[str, Any]:
    return {"text": text, "priority": priority}


def findings(brief: Brief) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The risks and next steps the role reports for this task: ``(risks, next_steps)``.

    Risks have the plan's shape (title, description, severity, likelihood, mitigation); next
    steps are ``{text, priority}``.
    """
    role, task, subject = brief.role, brief.task, brief.subject
    risks: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    if task.writes and role in BUILD_ROLES:
        steps.append(
            _step(
                f"Carry out `{task.key}` with a coding agent or a configured model: the builtin "
                "specialist wrote its specification, not the code.",
                "high",
            )
        )
    if role == "security" and not task.writes:
        why = f"Typical for this kind of software; not among the plan's risks for the {subject}."
        risks += [
            _risk(t.title, t.severity, t.likelihood, t.mitigation, why)
            for t in security.uncovered_threats(brief)
        ]
        steps.append(_step(f"Review the {subject} against the risk review before launch.", "high"))
        steps.append(_step("Add secret scanning and a dependency audit to CI."))
    elif role == "qa":
        load = [c[0] for c in quality.test_cases(brief) if c[3] == "load"]
        if load:
            risks.append(
                _risk(
                    f"Load targets of the {subject} unverified without a production-like "
                    "environment",
                    "medium",
                    "medium",
                    "Staging with production-like data; load tests before launch.",
                    f"Tests {', '.join(load[:5])} need it.",
                )
            )
        steps.append(
            _step(
                f"Automate the test plan of the {subject} in CI, must-have requirements first.",
                "high",
            )
        )
    elif role == "release":
        irreversible = [t.key for t in brief.tasks if t.risk_tier == "irreversible"]
        if not irreversible and task.risk_tier == "irreversible":
            irreversible = [task.key]
        if irreversible:
            risks.append(
                _risk(
                    f"Irreversible release steps for the {subject} ({', '.join(irreversible)})",
                    "high",
                    "low",
                    "A named approver, a rehearsed rollback and verified backups first.",
                    "The plan marks these tasks irreversible.",
                )
            )
        steps.append(
            _step(f"Hold the go/no-go review of the {subject} with the mission owner.", "high")
        )
        steps.append(_step("Rehearse the rollback on staging.", "high"))
    elif role == "product":
        steps.append(_step(f"Confirm the scope and out-of-scope list of the {subject}.", "high"))
    elif role == "architect":
        plan_decisions = brief.plan.decisions if brief.plan else []
        steps += [
            _step(f"Confirm the decision “{d.title}” and record the alternatives considered.")
            for d in plan_decisions
            if not d.alternatives
        ]
    return risks, steps
