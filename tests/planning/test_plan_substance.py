"""What the local planner writes holds up for any goal.

Judged by the independent quality oracle of ``tests/planning/quality.py``, plus the subjects
that used to come out as templates.
"""

import re

import pytest

from missionctl.planning.base import PlanningInput
from missionctl.planning.kinds import FEATURES, KINDS, for_existing_system
from missionctl.planning.local import build_local_plan, detect_kind
from tests.planning.helpers import GOALS, SEED_000, SEED_001, mission, plan_text
from tests.planning.quality import duplicate_artifacts, near_duplicates, noun_coverage
from tests.planning.quality_grammar import plan_grammar_slips

MISSIONS = [mission(goal) for goal in GOALS[:20]] + [SEED_000, SEED_001]


@pytest.mark.parametrize("planned", MISSIONS, ids=lambda m: m.goal[:40])
def test_no_artifact_risk_or_requirement_is_listed_twice(planned: PlanningInput) -> None:
    draft = build_local_plan(planned)
    assert duplicate_artifacts(draft) == []
    assert near_duplicates([r.title for r in draft.risks]) == []
    assert near_duplicates([r.text for r in draft.requirements]) == []


def test_an_object_store_sync_plans_what_such_a_sync_gets_wrong() -> None:
    draft = build_local_plan(
        mission("Create a Rust command-line tool that syncs two S3 buckets incrementally")
    )
    text = plan_text(draft) + "\n".join(r.title.lower() for r in draft.risks)
    for needed in ("pagination", "etag", "checksum", "multipart", "deletes", "credentials"):
        assert needed in text, needed
    assert "sync state" in text
    assert "Where the sync state is kept" in [d.title for d in draft.decisions]


def test_a_goal_without_features_plans_its_subject_by_name() -> None:
    draft = build_local_plan(mission("Add a CSV export of invoices to the billing screen"))
    titles = [task.title for task in draft.tasks]
    assert "Build the CSV export of invoices" in titles
    assert draft.requirements[0].text.startswith(
        "The CSV export of invoices: delivered in the billing screen"
    )
    assert "core of the" not in plan_text(draft)


def test_sign_in_follows_the_scale_of_the_mission() -> None:
    bakery = build_local_plan(
        mission(
            "Build an inventory management system for a small bakery with supplier orders "
            "and expiry alerts"
        )
    )
    assert "sso" not in plan_text(bakery)
    assert "Simple staff accounts and roles" in [task.title for task in bakery.tasks]
    company = build_local_plan(
        mission("Build an internal tool for our 4,000 employees to request laptops")
    )
    assert "Company SSO and roles" in [task.title for task in company.tasks]


# Work on a system that exists extends it: no scaffold, first contract, project or backend
# built again, and the survey of the existing code comes first.
BROWNFIELD = [
    (
        "Add offline mode and push notifications to our gym booking app",
        "A React Native app and its REST API already exist; the API is a Node.js service.",
        "mobile_app",
    ),
    (
        "Add CSV export of timesheets to our staffing web app",
        "A Django web app already exists with PostgreSQL and pytest",
        "web_app",
    ),
    (
        "Add a dry-run flag to our backup CLI",
        "The Go command-line tool already exists, released with GoReleaser",
        "cli_tool",
    ),
    (
        "Add rate limiting to our payments API",
        "We run a FastAPI service on PostgreSQL",
        "api_service",
    ),
    (
        "Add a barcode scanner to our warehouse mobile app",
        "We have a Flutter app and a REST API",
        "mobile_app",
    ),
]
GREENFIELD_WORK = re.compile(
    r"\bScaffold\b|OpenAPI contract|HTTP API contract|Create the \S+ (?:Native )?project"
    r"|versioned mobile backend API",
    re.IGNORECASE,
)


@pytest.mark.parametrize(("goal", "context", "kind"), BROWNFIELD, ids=lambda v: str(v)[:30])
def test_work_on_an_existing_system_changes_it_instead_of_building_it_again(
    goal: str, context: str, kind: str
) -> None:
    planned = mission(goal, repo_context=context)
    assert detect_kind(planned).kind.key == kind
    draft = build_local_plan(planned)
    titles = [task.title for task in draft.tasks]
    assert not [title for title in titles if GREENFIELD_WORK.search(title)], titles
    assert draft.tasks[0].key == "codebase-survey"


def test_a_kind_for_an_existing_system_keeps_its_work_connected() -> None:
    for kind in KINDS:
        changed = for_existing_system(kind)
        kept = {task.key for task in changed.tasks}
        assert not any(task.greenfield_only for task in changed.tasks)
        for task in changed.tasks:
            assert set(task.depends_on) <= kept | {FEATURES}, (kind.key, task.key)
        assert set(changed.feature_deps) <= kept, kind.key
        assert {key for phase in changed.phases for key in phase.task_keys} <= kept | {FEATURES}


@pytest.mark.parametrize(
    "goal",
    [
        "Build Mission Control as a live orchestration dashboard for AI agents",
        "Create Harbor as a self-hosted booking portal for sailing clubs, with waiting lists",
        "Write Lumen as a command-line linter for Terraform modules",
        "Build Codex Mission Control as a production-ready mission orchestration dashboard "
        "that accepts a software goal and returns artifacts",
    ],
)
def test_what_a_named_subject_is_described_as_is_planned(goal: str) -> None:
    planned = mission(goal)
    coverage, missing = noun_coverage(build_local_plan(planned), planned)
    assert missing == [] and coverage == 1.0


def test_a_change_to_an_existing_system_is_delivered_in_that_system() -> None:
    planned = mission(
        "Add rate limiting to our payments API", repo_context="We run a FastAPI service"
    )
    task = next(t for t in build_local_plan(planned).tasks if t.key == "rate-limiting")
    assert "in the payments API" in task.description
    assert "in the rate limiting" not in task.description


@pytest.mark.parametrize(
    "goal",
    ["Rails app that imports CSV price lists", "A Django app that tracks a choir's sheet music"],
)
def test_a_subject_named_after_its_framework_reads_without_doubled_words(goal: str) -> None:
    assert plan_grammar_slips(build_local_plan(mission(goal))) == []


@pytest.mark.parametrize(
    ("goal", "repo_context", "host"),
    [
        (
            "Add two-factor sign-in and an audit log export to our invoicing portal",
            "A Django 5 invoicing portal with PostgreSQL and a React front end already exists.",
            "the invoicing portal",
        ),
        (
            "Add a CSV import and the usage report to our existing Rails booking app",
            "",
            "the existing Rails booking app",
        ),
    ],
)
def test_a_change_to_an_existing_web_app_is_titled_as_a_change_to_it(
    goal: str, repo_context: str, host: str
) -> None:
    draft = build_local_plan(mission(goal, repo_context=repo_context))
    titles = [task.title for task in draft.tasks]
    own = {t.key for t in next(k for k in KINDS if k.key == "web_app").tasks}
    features = [t.title for t in draft.tasks if t.key not in {*own, "codebase-survey"}]
    assert features and all(
        t.startswith("Add the ") and t.endswith(f" to {host}") for t in features
    )
    assert f"Deploy the changes to {host} to production" in titles
    assert not any("UI shell" in title for title in titles)
    assert not any(" and an " in title or " and the " in title for title in features)
    assert "Suggested project shape" not in draft.summary
    assert "follows the layout of the" in draft.summary


def test_a_new_web_app_still_gets_a_suggested_project_shape() -> None:
    draft = build_local_plan(mission("Build a booking portal for tour operators in Lisbon"))
    assert "Suggested project shape" in draft.summary
    assert any("UI shell" in task.title for task in draft.tasks)


@pytest.mark.parametrize(
    ("goal", "repo_context", "dropped", "title"),
    [
        (
            "Add a Redis cluster to our existing Terraform setup on AWS",
            "Terraform modules for staging and production already exist",
            "state-backend",
            None,
        ),
        (
            "Add versioned pages to our existing documentation site",
            "A static documentation site generated from Markdown already exists",
            "theme",
            None,
        ),
        (
            "Add a --dry-run flag to our existing command-line tool",
            "A Python CLI that converts CSV files to Parquet already exists",
            None,
            "Package and publish the next release",
        ),
    ],
)
def test_a_change_to_an_existing_system_builds_no_first_foundation_or_first_release(
    goal: str, repo_context: str, dropped: str | None, title: str | None
) -> None:
    draft = build_local_plan(mission(goal, repo_context=repo_context))
    assert dropped not in {task.key for task in draft.tasks}
    assert not any("first release" in task.title for task in draft.tasks)
    assert title is None or title in [task.title for task in draft.tasks]
