"""The kind tables are consistent, and every kind plans well whatever the mission says."""

import re

import pytest

from missionctl.domain.dag import Node, validate_dag
from missionctl.domain.plans import validate_plan
from missionctl.planning.kinds import FEATURES, GENERIC, KINDS, Kind, kind_by_key
from missionctl.planning.local import MAX_PLAN_TASKS, build_local_plan, detect_kind
from missionctl.planning.signals import TECHNOLOGIES, TRAITS
from missionctl.reading import vocabulary
from missionctl.schemas.plans import SpecialistRole
from tests.planning.helpers import mission

ALL_KINDS = (*KINDS, GENERIC)


def ids(kind: Kind) -> str:
    return kind.key


def test_kind_keys_are_unique_and_found_by_key() -> None:
    keys = [kind.key for kind in ALL_KINDS]
    assert len(keys) == len(set(keys)) == 23
    assert all(kind_by_key(key).key == key for key in keys)
    with pytest.raises(KeyError):
        kind_by_key("nope")


@pytest.mark.parametrize("kind", ALL_KINDS, ids=ids)
def test_task_templates_form_a_dag_with_room_for_features(kind: Kind) -> None:
    keys = [task.key for task in kind.tasks]
    assert len(keys) == len(set(keys))
    # Leave room for a survey, two trait tasks and at least one feature task.
    assert 6 <= len(keys) <= MAX_PLAN_TASKS - 4
    nodes = [Node(t.key, t.depends_on) for t in kind.tasks]
    nodes.append(Node(FEATURES, kind.feature_deps))
    assert validate_dag(nodes) == []
    assert {kind.design_key, kind.verify_key, *kind.feature_deps} <= set(keys)
    # Verification comes after the features, directly or through other tasks.
    deps = {node.id: set(node.depends_on) for node in nodes}
    seen, todo = set(), [kind.verify_key]
    while todo:
        for dep in deps[todo.pop()] - seen:
            seen.add(dep)
            todo.append(dep)
    assert FEATURES in seen
    if not kind.needs_feature_task:
        assert all(set(t.depends_on) - {FEATURES} for t in kind.tasks if FEATURES in t.depends_on)


@pytest.mark.parametrize("kind", ALL_KINDS, ids=ids)
def test_phases_hold_every_task_once(kind: Kind) -> None:
    assert 2 <= len(kind.phases) <= 4
    placed = [key for phase in kind.phases for key in phase.task_keys]
    assert sorted(placed) == sorted([task.key for task in kind.tasks] + [FEATURES])


@pytest.mark.parametrize("kind", ALL_KINDS, ids=ids)
def test_traces_name_known_tags_and_roles_are_specialists(kind: Kind) -> None:
    tags = {r.tag for r in kind.requirements} | {"features", "constraints"}
    for task in kind.tasks:
        assert task.traces and set(task.traces) <= tags, task.key
    roles = set(SpecialistRole.__args__)  # type: ignore[attr-defined]
    assert {t.role for t in kind.tasks} | {kind.feature_role, *kind.feature_roles} <= roles
    assert kind.feature_role in kind.feature_roles
    tiers = {t.risk_tier for t in kind.tasks}
    assert {"read", "write"} <= tiers


@pytest.mark.parametrize("kind", ALL_KINDS, ids=ids)
def test_every_kind_has_specific_risks_decisions_and_next_steps(kind: Kind) -> None:
    assert len(kind.risks) >= 2 and kind.decisions and len(kind.next_steps) >= 2
    assert all(d.reasons for d in kind.decisions)
    assert kind.architecture and kind.project_shape and kind.approach


def test_release_like_tasks_are_irreversible() -> None:
    for kind in ALL_KINDS:
        for task in kind.tasks:
            if task.role == "release" and task.key != "pilot":
                assert task.risk_tier == "irreversible", (kind.key, task.key)


def test_keyword_and_technology_patterns_compile() -> None:
    for spec in vocabulary().kinds:
        assert spec.words
        for pattern, weight in spec.words:
            re.compile(pattern)
            assert weight > 0
    for tech in TECHNOLOGIES:
        re.compile(tech.pattern)
    for trait in TRAITS:
        re.compile(trait.pattern)


MISSIONS = {
    "plain": mission("Build the thing"),
    "features": mission("Build the thing with alpha, beta, gamma and delta"),
    "everything": mission(
        "Build the thing with alpha and beta for an existing monolith",
        "Must work offline",
        "HIPAA patient data",
        "Launch by March 3",
        "Budget $10k",
        "99.9% availability",
        "WCAG accessible",
        "Multi-tenant",
        "Handles 5 million users",
        "Translations for 4 languages",
        "Avoid mock demos, MVP",
        "Use PostgreSQL 16, Redis, Kafka, Okta, ESP32, Slack, Shopify, PyTorch and Chrome",
        repo_context="Legacy monolith in production",
    ),
}


@pytest.mark.parametrize("kind", ALL_KINDS, ids=ids)
@pytest.mark.parametrize("name", list(MISSIONS))
def test_every_kind_plans_any_mission(kind: Kind, name: str) -> None:
    draft = build_local_plan(MISSIONS[name], kind=kind)
    assert validate_plan(draft) == []
    assert 6 <= len(draft.tasks) <= MAX_PLAN_TASKS
    if name == "everything":
        keys = {t.key for t in draft.tasks}
        assert "offline-sync" in keys
        assert ("codebase-survey" in keys) != kind.surveys_existing
        assert len(draft.requirements) <= 40


def test_templates_leave_no_placeholder_behind() -> None:
    for kind in ALL_KINDS:
        draft = build_local_plan(MISSIONS["everything"], kind=kind)
        texts = [draft.summary, *(r.text for r in draft.requirements)]
        for task in draft.tasks:
            texts.extend([task.title, task.description, *task.acceptance, *task.expected_artifacts])
        texts.extend(f"{r.title} {r.description} {r.mitigation}" for r in draft.risks)
        texts.extend(f"{d.title} {d.choice} {' '.join(d.reasons)}" for d in draft.decisions)
        texts.extend(n.text for n in draft.next_steps)
        leftovers = [t for t in texts if re.search(r"\{[a-z_]+\}", t)]
        assert leftovers == [], (kind.key, leftovers[:3])


# Words read in context: a library the software is for is an institution, a tracker is a
# record-keeping app, a reconciliation is a payment's, an operator may run tours.
KIND_IN_CONTEXT = {
    "A Go service that handles Stripe webhooks for our SaaS billing": "api_service",
    "Java Spring Boot service for a public library's book loans": "api_service",
    "A Kotlin service that sends overdue reminders to library members": "api_service",
    "A booking app for the city library's study rooms": "web_app",
    "A C# desktop app for a dental clinic's appointments": "desktop_app",
    "An Electron app that keeps a carpenter's quotes and invoices offline": "desktop_app",
    "Go tracker for pet adoptions at an animal shelter": "internal_tool",
    "An expense tracker for a student housing co-op": "internal_tool",
    "A Django web shop for handmade candles": "web_app",
    "Rails app that imports CSV price lists": "web_app",
    "A Node.js service that receives GitHub webhooks and reconciles invoices": "api_service",
    "A booking portal for tour operators in Lisbon": "web_app",
    "Write a Rust library for parsing GPX tracks": "library",
    "Build a Kubernetes operator that rotates database credentials": "k8s_operator",
    "A Firefox extension that blocks third-party trackers on news sites": "browser_extension",
}


@pytest.mark.parametrize("goal", KIND_IN_CONTEXT)
def test_kind_words_are_read_in_context(goal: str) -> None:
    assert detect_kind(mission(goal)).kind.key == KIND_IN_CONTEXT[goal]


def test_a_desktop_app_speaks_of_the_toolkit_of_its_language() -> None:
    draft = build_local_plan(mission("A C# desktop app for a dental clinic's appointments"))
    text = draft.model_dump_json()
    assert "Avalonia UI" in text and "installers" in text
    assert not re.search(r"React Native|Electron|\bpytest\b|Django", text)
