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


def test_a_pronoun_object_names_the_phrasal_verbs_work() -> None:
    tasks = _feature_tasks(
        _plan("A tool library where members borrow drills and volunteers check them out")
    )
    assert tasks["check-out"] == "Let volunteers check them out"
    assert "checks" not in tasks


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
