"""Every clause the user wrote is kept, with the right subject: later sentences, shared
actors, deployment clauses, deploy targets, participles and stack choices."""

import re

import pytest

from missionctl.planning.base import PlanningInput
from missionctl.planning.local import build_local_plan
from missionctl.schemas.plans import PlanDraft

_BARE_PRONOUN = re.compile(r"\b(?:them|they)\b", re.IGNORECASE)


def _plan(goal: str) -> PlanDraft:
    return build_local_plan(PlanningInput(title=goal[:60], goal=goal))


def _texts(plan: PlanDraft) -> list[str]:
    return [r.text for r in plan.requirements] + [t.title for t in plan.tasks]


@pytest.mark.parametrize(
    ("goal", "expected"),
    [
        (
            "An event ticketing site: attendees buy tickets and get a QR code. "
            "Let staff check them in at the door",
            ["Attendees get a QR code", "Staff check attendees in at the door"],
        ),
        (
            "A climbing gym app: members book sessions and get a monthly pass. "
            "Let coaches check them in at the front desk",
            ["Members get a monthly pass", "Coaches check members in at the front desk"],
        ),
        (
            "A hostel booking site where guests request beds. Let hosts approve them",
            ["Hosts approve guests"],
        ),
    ],
)
def test_a_later_sentence_of_people_doing_something_is_a_feature(
    goal: str, expected: list[str]
) -> None:
    plan = _plan(goal)
    features = [r.text for r in plan.requirements if r.kind == "feature"]
    for words in expected:
        assert any(text.startswith(words) for text in features), (words, features)
    titles = [t.title for t in plan.tasks]
    last = expected[-1]
    assert f"Let {last[0].lower()}{last[1:]}" in titles, titles
    assert not any(_BARE_PRONOUN.search(text) for text in _texts(plan))


def test_a_later_sentence_with_no_people_adds_no_feature() -> None:
    plan = _plan("A recipe site where cooks share recipes. It should be fast")
    features = [r.text for r in plan.requirements if r.kind == "feature"]
    assert not any("fast" in text.lower() for text in features)


@pytest.mark.parametrize(
    ("goal", "activity", "deployed"),
    [
        (
            "A Flask app for a clinic's appointment booking, deployed with Helm on Kubernetes",
            "appointment booking",
            "Deployed with Helm on Kubernetes",
        ),
        (
            "A Django site for a gym's class scheduling, hosted on Fly.io",
            "class scheduling",
            "Hosted on Fly.io",
        ),
    ],
)
def test_where_an_app_is_deployed_does_not_make_it_infrastructure(
    goal: str, activity: str, deployed: str
) -> None:
    plan = _plan(goal)
    keys = {t.key for t in plan.tasks}
    assert "modules-core" not in keys and "ui" in keys
    features = [r.text for r in plan.requirements if r.kind == "feature"]
    assert any(activity in text for text in features), features
    constraints = [r.text for r in plan.requirements if r.kind == "constraint"]
    assert any(text.startswith(deployed) for text in constraints), constraints
    texts = _texts(plan)
    assert not any(t.startswith(("Deployed:", "Set up deployed")) for t in texts)
    assert not any("provisioned by" in t for t in texts)


@pytest.mark.parametrize(
    ("goal", "sentence", "thing"),
    [
        (
            "Deploy our Rails API to Kubernetes with a Helm chart and zero-downtime rollouts",
            "The Rails API is deployed to Kubernetes with a Helm chart",
            "Rails API",
        ),
        (
            "Deploy the Go worker to Nomad with a Terraform module",
            "The Go worker is deployed to Nomad with a Terraform module",
            "Go worker",
        ),
    ],
)
def test_what_is_deployed_is_the_subject_and_the_target_where_it_goes(
    goal: str, sentence: str, thing: str
) -> None:
    plan = _plan(goal)
    texts = _texts(plan)
    assert any(t.startswith(sentence) for t in texts), texts
    assert not any(f"provisioned by the {thing}" in t for t in texts)
    assert not any(f"{thing} to " in t and "deployed" not in t for t in texts)


@pytest.mark.parametrize(
    "goal",
    [
        "A family chore chart app where parents assign chores and kids earn points",
        "A reading log app where children record books and parents approve entries",
    ],
)
def test_no_actor_the_goal_does_not_name(goal: str) -> None:
    texts = _texts(_plan(goal))
    assert not any(re.search(r"\bstaff\b|without training", t) for t in texts), texts


@pytest.mark.parametrize(
    ("goal", "task", "technology"),
    [
        (
            "Add SSO login with Okta to our Django admin, falling back to passwords when "
            "Okta is down",
            "Fall back to passwords when Okta is down",
            "Okta",
        ),
        (
            "Add SSO login with Auth0 to our Rails admin, falling back to magic links when "
            "Auth0 is unreachable",
            "Fall back to magic links when Auth0 is unreachable",
            "Auth0",
        ),
    ],
)
def test_a_participle_is_an_action_and_a_named_provider_a_constraint(
    goal: str, task: str, technology: str
) -> None:
    plan = _plan(goal)
    assert task in [t.title for t in plan.tasks]
    texts = _texts(plan)
    assert not any(t.startswith("Constraint: ") for t in texts)
    assert not any("the falling" in t.lower() for t in texts)
    uses = [r for r in plan.requirements if r.text == f"Uses {technology}."]
    assert uses and uses[0].kind == "constraint"
