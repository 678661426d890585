"""What the local planner writes holds up for any goal.

Judged by the independent quality oracle of ``tests/planning/quality.py``, plus the subjects
that used to come out as templates.
"""

import pytest

from missionctl.planning.base import PlanningInput
from missionctl.planning.local import build_local_plan
from tests.planning.helpers import GOALS, SEED_000, SEED_001, mission, plan_text
from tests.planning.quality import duplicate_artifacts, near_duplicates

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
