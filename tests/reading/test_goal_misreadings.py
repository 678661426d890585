"""Misreadings a new user met, each with a goal of its own: who does what, values and stacks."""

from missionctl.reading import let_title, read_goal


def test_a_verb_and_adds_after_a_singular_actor_keeps_the_actor_and_its_object() -> None:
    reading = read_goal(
        goal="A bike repair app where a cyclist books repairs and gets a weekly service summary"
    )
    texts = [f.text for f in reading.features]
    assert texts == ["cyclist books repairs", "cyclist gets a weekly service summary"]
    assert all(f.doers == "cyclist" for f in reading.features)
    assert let_title(reading.features[1]) == "Let the cyclist get a weekly service summary"


def test_a_verb_that_does_not_agree_with_the_people_is_not_theirs() -> None:
    reading = read_goal(goal="A tracker where mechanics log repairs and sends weekly reminders")
    assert reading.features[1].doers is None


def test_values_a_with_gives_a_record_clause_are_part_of_that_feature() -> None:
    reading = read_goal(goal="A vineyard app where growers record harvests with weight and price")
    assert [f.text for f in reading.features] == ["growers record harvests"]
    assert reading.features[0].title == "Growers record harvests with weight and price"


def test_a_feature_after_with_on_the_subject_stays_a_feature() -> None:
    reading = read_goal(goal="A tutoring planner with lesson notes")
    assert [f.text for f in reading.features] == ["lesson notes"]


def test_technologies_after_with_are_a_stack_choice_not_features() -> None:
    reading = read_goal(goal="A florist shop site with Stripe and PostgreSQL")
    assert reading.features == ()
    assert "Uses Stripe and PostgreSQL" in reading.constraints
    provided = read_goal(goal="A tutoring site with Stripe subscriptions").features[0]
    assert (provided.technology, provided.phrase) == ("Stripe", "subscriptions")


def test_a_retention_period_is_a_constraint_with_its_figure() -> None:
    reading = read_goal(
        goal="A clinic portal that purges old messages after 90 days, HIPAA compliant"
    )
    assert "purges old messages after 90 days" in reading.constraints
    assert reading.features == ()
    retention = reading.signal("retention")
    assert retention is not None and retention.value == "90 days"


def test_a_downtime_clause_is_a_constraint_kept_as_written() -> None:
    reading = read_goal(
        goal="Package our Flask service as a Helm chart with zero-downtime rollouts"
    )
    assert "zero-downtime rollouts" in reading.constraints
    assert reading.verb == "package" and reading.subject == "Flask service"


def test_where_the_software_is_deployed_is_a_constraint_not_its_kind() -> None:
    reading = read_goal(
        goal="A Flask app for a clinic's appointment booking, deployed with Helm on Kubernetes"
    )
    assert reading.kind != "infrastructure"
    assert reading.deployment == ("deployed with Helm on Kubernetes",)
    assert "deployed with Helm on Kubernetes" in reading.constraints
    assert not any("deployed" in f.text.lower() for f in reading.features)


def test_a_deploy_goals_subject_is_what_it_deploys() -> None:
    reading = read_goal(goal="Deploy our Rails API to Kubernetes with a Helm chart")
    assert reading.subject == "Rails API"
    assert "The Rails API is deployed to Kubernetes with a Helm chart" in reading.constraints
