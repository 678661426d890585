"""Plans for goals a new user tried: task names, stack choices, retention and platforms."""

from missionctl.planning.base import PlanningInput
from missionctl.planning.local import build_local_plan
from missionctl.schemas.plans import PlanDraft


def _plan(goal: str) -> PlanDraft:
    return build_local_plan(PlanningInput(title=goal[:60], goal=goal))


def _feature_tasks(plan: PlanDraft) -> dict[str, str]:
    return {t.key: t.title for t in plan.tasks if t.key not in {"scope", "ui", "release"}}


def test_actors_and_bare_verbs_never_name_a_task() -> None:
    tasks = _feature_tasks(
        _plan("A bike repair app where a cyclist books repairs and gets a weekly service summary")
    )
    assert tasks["repair-booking"] == "Let the cyclist book repairs"
    assert tasks["service-summary"] == "Let the cyclist get a weekly service summary"
    assert not any("cyclist" in key or key in {"gets", "books"} for key in tasks)


def test_a_pronoun_object_is_what_the_clause_before_acted_on() -> None:
    tasks = _feature_tasks(
        _plan("A tool library where members borrow drills and volunteers check them out")
    )
    assert tasks["drill-check-out"] == "Let volunteers check drills out"
    assert "checks" not in tasks


def test_a_pronoun_names_people_when_the_verb_is_done_to_people() -> None:
    tasks = _feature_tasks(
        _plan("A clinic app where patients book visits and nurses check them in at the desk")
    )
    assert tasks["patient-check-in"] == "Let nurses check patients in at the desk"


def test_a_goal_that_opens_with_people_doing_something_is_all_features() -> None:
    plan = _plan(
        "Volunteers at the food bank log donations, and volunteers swap them between pantries "
        "when one runs low."
    )
    tasks = _feature_tasks(plan)
    assert tasks["donation-log"] == "Let volunteers at the food bank log donations"
    assert tasks["donation-swap"] == (
        "Let volunteers swap donations between pantries when one runs low"
    )
    # The software is not named after the people's sentence.
    assert not any("delivered in the Volunteers" in r.text for r in plan.requirements)


def test_values_and_technologies_after_with_make_no_tasks() -> None:
    repairs = _feature_tasks(
        _plan("A vineyard app where growers record harvests with weight and price")
    )
    assert not {"weight", "price"} & set(repairs)
    stack = _plan("A florist shop site with Stripe and PostgreSQL")
    assert not {"stripe", "postgresql"} & {t.key for t in stack.tasks}
    assert any(
        "Stripe and PostgreSQL" in r.text and r.kind == "constraint" for r in stack.requirements
    )
    tasks = _feature_tasks(_plan("A tutoring site with Stripe subscriptions"))
    assert tasks["subscriptions"].startswith("Build subscriptions with Stripe")


def test_a_retention_period_is_checked_with_the_users_figure() -> None:
    plan = _plan("A clinic portal that purges old messages after 90 days, HIPAA compliant")
    (retention,) = [r for r in plan.requirements if r.text.startswith("Retention period (90 days)")]
    assert retention.kind == "constraint" and "purges old messages after 90 days" in retention.text
    checks = [a for t in plan.tasks if retention.key in t.traces for a in t.acceptance]
    assert any("moves the clock 90 days past" in a for a in checks)


def test_a_helm_chart_for_kubernetes_is_planned_as_infrastructure() -> None:
    plan = _plan(
        "Package our Flask service as a Helm chart for Kubernetes with zero-downtime rollouts"
    )
    keys = {t.key for t in plan.tasks}
    assert {"ui", "ux-design", "foundation", "api-contract"}.isdisjoint(keys)
    assert {t.role for t in plan.tasks if t.key == "helm-chart"} == {"infrastructure"}
    assert any(
        "zero-downtime rollouts" in r.text and r.kind == "constraint" for r in plan.requirements
    )


def test_the_people_an_action_is_shared_with_are_part_of_it_not_a_feature() -> None:
    plan = _plan(
        "Beekeepers at the co-op log hive inspections, and beekeepers share them with the "
        "regional inspector."
    )
    features = [r.text for r in plan.requirements if r.kind == "feature"]
    assert any(text.startswith("Beekeepers share hive inspections with") for text in features)
    assert not any(text.startswith("Regional inspector") for text in features)
    assert "regional-inspector" not in _feature_tasks(plan)


def test_what_people_act_with_is_part_of_their_action_and_them_is_what_they_acted_on() -> None:
    plan = _plan("Cyclists record rides with a GPS track and share them with their club")
    features = [r.text for r in plan.requirements if r.kind == "feature"]
    assert [f.split(":")[0] for f in features] == [
        "Cyclists record rides with a GPS track",  # the user's words, article and all
        "Cyclists share rides with their club",
    ]
    # A goal that names no software is about the kind's: the mobile app, not "the software".
    assert all("in the mobile app" in f for f in features), features
    assert set(_feature_tasks(plan)) >= {"rides", "ride-sharing"}
    assert not {"gps-track", "share", "club"} & set(_feature_tasks(plan))


def test_a_thing_acted_with_keeps_its_article_and_a_record_value_has_none_added() -> None:
    plan = _plan("Farmers weigh their harvest with a scale every morning and the co-op pays them")
    features = [r.text.split(":")[0] for r in plan.requirements if r.kind == "feature"]
    assert features[0] == "Farmers weigh their harvest with a scale every morning"
    repairs = _plan("Mechanics log repairs with mileage and the cost, and customers book services")
    features = [r.text.split(":")[0] for r in repairs.requirements if r.kind == "feature"]
    assert features[0] == "Mechanics log repairs with mileage and the cost"


def test_each_thing_is_them_and_an_organisation_acts_as_one() -> None:
    runs = _feature_tasks(
        _plan("Runners log each run with a GPS track, and coaches review them every week")
    )
    assert runs["run-review"] == "Let coaches review runs every week"
    harvests = _feature_tasks(
        _plan(
            "A cooperative of farmers records harvests, and the co-op reviews them before each "
            "market day"
        )
    )
    assert harvests["harvests"] == "Let the cooperative of farmers record harvests"
    assert harvests["harvest-review"] == "Let the co-op review harvests before each market day"


def test_a_tool_for_a_purpose_is_a_stack_choice_and_the_subjects_purpose() -> None:
    plan = _plan("Provision a GKE cluster with Terraform for the Django API")
    features = [r.text for r in plan.requirements if r.kind == "feature"]
    assert len(features) == 1 and features[0].startswith("The GKE cluster for the Django API:")
    assert any(r.text == "Uses Terraform." for r in plan.requirements if r.kind == "constraint")
    assert not any("Terraform for" in t.title for t in plan.tasks)


def _constraints(plan: PlanDraft) -> list[str]:
    return [r.text for r in plan.requirements if r.kind == "constraint"]


def test_bounds_said_as_participles_or_bare_figures_are_constraints_not_features() -> None:
    cases = {
        "Write STM32 firmware in C that reads a soil moisture probe every 10 minutes, running "
        "two years on two AA batteries": "two years on two AA batteries",
        "Build an Android app in Kotlin where nurses scan wristbands, working offline on the "
        "ward": "working offline on the ward",
        "A Go CLI that diffs two Postgres schemas, in under a second for 500 tables": (
            "under a second for 500 tables"
        ),
        "Train a model in PyTorch that flags fraudulent card transactions with precision above "
        "0.9 at 1% recall loss": "precision above 0.9 at 1% recall loss",
        "Port our Objective-C iPad app to SwiftUI without losing users' saved drafts": (
            "without losing users' saved drafts"
        ),
    }
    for goal, bound in cases.items():
        plan = _plan(goal)
        features = [r.text for r in plan.requirements if r.kind == "feature"]
        assert any(bound.lower() in c.lower() for c in _constraints(plan)), (goal, plan)
        assert not any(bound.lower() in f.lower() for f in features), (goal, features)


def test_what_the_goal_makes_decides_its_kind_and_an_interval_its_cadence() -> None:
    cli = _plan("A Go CLI that diffs two Postgres schemas and prints the migration SQL")
    assert {"cli-spec", "migration-sql"} <= {t.key for t in cli.tasks}
    assert "cutover" not in {t.key for t in cli.tasks}
    dbt = _plan(
        "Build a dbt project on Snowflake that turns raw Stripe events into daily revenue "
        "tables, refreshed every hour"
    )
    assert any(r.text.startswith("Data is refreshed every hour") for r in dbt.requirements)


def test_people_who_sign_others_up_are_a_feature_not_the_products_name() -> None:
    plan = _plan(
        "Parents sign their kids up for swim lessons, and instructors mark attendance after "
        "each class"
    )
    features = [r.text.split(":")[0] for r in plan.requirements if r.kind == "feature"]
    assert features == [
        "Parents sign their kids up for swim lessons",
        "Instructors mark attendance after each class",
    ]


def test_a_device_goal_that_names_no_software_reads_as_the_firmware_once() -> None:
    plan = _plan(
        "Beekeepers weigh each hive with a scale every morning and share the readings with "
        "the county association, running a year on one battery"
    )
    assert plan.summary.startswith(
        "Local planner (rule-based, no model): this mission reads as a firmware / embedded device. "
    )
    features = [r.text for r in plan.requirements if r.kind == "feature"]
    assert len(features) == 2 and all("implemented in the firmware," in f for f in features)
    assert _constraints(plan) == ["Runs a year on one battery."]


def test_it_and_them_of_what_the_software_does_are_what_it_acted_on() -> None:
    sensor = _feature_tasks(
        _plan(
            "Firmware for a soil moisture sensor that measures moisture every hour and sends it "
            "over LoRaWAN to the farm dashboard"
        )
    )
    assert sensor["moisture-measurement"] == "Measure moisture every hour"
    assert "Send moisture over LoRaWAN to the farm dashboard" in sensor.values()
    expenses = _feature_tasks(_plan("Build an app that tracks expenses and exports them to CSV"))
    assert expenses["expense-export"] == "Export expenses to CSV"
    # "it" is not "them": a plural thing is no "it", and what "it" stands for stays unsaid.
    invoices = _feature_tasks(
        _plan("A tool that scans invoices and files them by supplier, and backs it up nightly")
    )
    assert invoices["invoice-filing"] == "File invoices by supplier"
    assert "Back it up nightly" in invoices.values()


def test_the_software_named_as_a_doer_is_what_it_does_and_them_may_be_people() -> None:
    lessons = _feature_tasks(
        _plan(
            "A mobile app where parents book swim lessons and the app reminds them the day before"
        )
    )
    assert lessons["parent-reminders"] == "Remind parents the day before"
    workouts = _feature_tasks(
        _plan("A web app where members log workouts and the app charts them weekly")
    )
    assert workouts["workout-charts"] == "Chart workouts weekly"
    assert not [key for key in workouts if key.startswith("app-")]


def test_people_named_by_their_trade_are_doers_even_when_no_list_names_them() -> None:
    memos = _feature_tasks(
        _plan(
            "A mobile app where journalists record interviews and the app transcribes the "
            "voice memo overnight"
        )
    )
    assert "Let journalists record interviews" in memos.values()
    assert "Transcribe the voice memo overnight" in memos.values()
    assert not [title for title in memos.values() if "journalists record interviews flow" in title]
    clinic = _feature_tasks(
        _plan("A web app where physiotherapists assign exercises and patients log their sessions")
    )
    assert "Let physiotherapists assign exercises" in clinic.values()


def test_a_quoted_constraint_says_whether_the_goal_or_the_constraints_said_it() -> None:
    plan = build_local_plan(
        PlanningInput(
            title="Lifeguards",
            goal=(
                "Build a Kotlin Wear OS app for lifeguards to log rescues and alert the beach "
                "office, working offline for 12 hours"
            ),
            constraints=["GDPR applies to the casualty details"],
        )
    )
    said = [r.text for r in plan.requirements if r.kind == "constraint"]
    assert any(t.endswith("From the goal: “working offline for 12 hours”.") for t in said), said
    assert any(
        t.endswith("From the constraints: “GDPR applies to the casualty details”.") for t in said
    ), said
    assert "reads as a mobile app" in plan.summary
