"""Routing's choice on hand-built catalogues and records whose answers are known (pure)."""

import pytest

from missionctl.domain.budget import Price
from missionctl.domain.routing import CatalogueModel, Record, Routing, step_needs
from missionctl.schemas.routing import load_rules

RULES = load_rules()


def price(model: str, input_usd: float, output_usd: float) -> Price:
    micros = (round(input_usd * 1e6), round(input_usd * 1e6), round(output_usd * 1e6))
    return Price(model, *micros, source="test")


BIG = price("big", 2.5, 10.0)
SMALL = price("small", 0.15, 0.6)
TINY = price("tiny", 0.05, 0.2)


def routing(
    *models: CatalogueModel, records: dict[tuple[str, str], Record] | None = None
) -> Routing:
    return Routing(RULES, "big", BIG, tuple(models), records or {})


def small(**fields: object) -> CatalogueModel:
    return CatalogueModel(**{"model": "small", "routable": True, "price": SMALL, **fields})  # type: ignore[arg-type]


def test_an_admins_tier_lets_a_cheaper_model_do_the_roles_it_reaches_and_no_others() -> None:
    r = routing(small(tier=2))
    assert r.route(step_needs(RULES, "writer", 10_000)).model == "small"  # writer needs 1
    assert r.route(step_needs(RULES, "backend", 10_000)).model == "small"  # backend needs 2
    architect = r.route(step_needs(RULES, "architect", 10_000))  # architect needs 3
    assert architect.model == "big"
    assert architect.reason == "the only model that may do architect steps"
    verdicts = {c.model: c.verdict for c in architect.considered}
    assert verdicts == {
        "big": "chosen",
        "small": "tier 2 (standard), below architect's 3 (frontier)",
    }


def test_the_cheapest_of_several_that_may_do_the_role_wins_and_says_how_much_cheaper() -> None:
    tiny = CatalogueModel("tiny", True, TINY, tier=1)
    route = routing(small(tier=2), tiny).route(step_needs(RULES, "docs", 40_000))
    assert route.model == "tiny"
    assert route.reason.startswith("the cheapest of 3 that may do docs steps")
    assert route.reason.endswith("expected 98% cheaper")
    # 40,000 tokens, 3/4 input: 30,000 x $0.05 + 10,000 x $0.20 per million = $0.0035.
    assert route.estimate_micros == 3500 and route.default_estimate_micros == 175_000
    assert route.saves_micros == 171_500


def test_a_sure_record_earns_a_role_without_a_tier_and_bars_one_whatever_the_tier() -> None:
    records = {
        ("big", "architect"): Record(100, 95),
        ("small", "architect"): Record(40, 38),  # 95 %: as good
        ("big", "backend"): Record(100, 95),
        ("small", "backend"): Record(40, 28),  # 70 %: worse
    }
    untiered = routing(small(), records=records)
    architect = untiered.route(step_needs(RULES, "architect", 10_000))
    assert architect.model == "small"
    assert "its record: 95% of 40 architect steps succeeded, big 95%" in architect.reason
    tiered = routing(small(tier=3), records=records)
    backend = tiered.route(step_needs(RULES, "backend", 10_000))
    assert backend.model == "big"
    verdict = next(c.verdict for c in backend.considered if c.model == "small")
    # (28 + 10 x 0.95) / (40 + 10): the record shrunk towards the default's rate.
    assert verdict == "succeeded in 75% of 40 backend steps, below big's 95%"
    assert tiered.judged_roles("small") == (["architect"], ["backend"])


def test_a_short_record_decides_nothing() -> None:
    records = {("small", "qa"): Record(RULES.min_steps - 1, RULES.min_steps - 1)}
    route = routing(small(), records=records).route(step_needs(RULES, "qa", 10_000))
    assert route.model == "big"
    verdict = next(c.verdict for c in route.considered if c.model == "small")
    short, enough = RULES.min_steps - 1, RULES.min_steps
    assert verdict == f"no tier, and {short} of the {enough} qa steps that would earn the role"


@pytest.mark.parametrize(
    ("model", "verdict"),
    [
        (small(tier=3, routable=False), "not routable (an admin has not allowed it)"),
        (small(tier=3, price=None), "no price is known"),
        (small(tier=3, context_tokens=8_000), "holds 8,000 tokens, the step needs 75,000"),
    ],
)
def test_what_keeps_a_model_off_a_step_is_named(model: CatalogueModel, verdict: str) -> None:
    route = routing(model).route(step_needs(RULES, "writer", 100_000))
    assert route.model == "big"
    assert {c.model: c.verdict for c in route.considered}["small"] == verdict


def test_within_what_is_left_of_the_budget_or_the_default_runs_and_says_why() -> None:
    r = routing(small(tier=1))
    needs = step_needs(RULES, "writer", 100_000)  # small: $0.02625, big: $0.4375
    assert r.route(needs, budget_left=30_000).model == "small"
    broke = r.route(needs, budget_left=1_000)
    assert broke.model == "big"
    assert (
        broke.reason == "no model that may do it fits what is left of the budget; the default runs"
    )


def test_a_pin_is_obeyed_even_where_routing_would_choose_otherwise() -> None:
    route = routing(small(tier=3)).route(
        step_needs(RULES, "writer", 1000), pin="big", pinned_by="its workflow"
    )
    assert (route.model, route.pinned, route.reason) == (
        "big",
        True,
        "pinned to big by its workflow",
    )


def test_inactive_until_a_model_besides_the_default_is_routable() -> None:
    assert not routing().active
    assert not routing(small(tier=3, routable=False)).active
    assert routing(small()).active


def test_a_model_whose_sure_record_beats_the_configured_one_by_ten_points_is_steadier() -> None:
    from missionctl.domain.suggestions import steadier_models

    records = {
        ("big", "writer"): Record(100, 70),  # the configured model: 70 % (72 % shrunk)
        ("small", "writer"): Record(100, 90),  # 90 % (88 % shrunk towards big's)
        ("tiny", "writer"): Record(5, 5),  # perfect, but too few steps to be sure
        ("small", "qa"): Record(100, 75),  # qa: 75 % against the prior's: not by ten points
        ("big", "qa"): Record(100, 72),
    }
    tiny = CatalogueModel("tiny", True, TINY, tier=1)
    found = steadier_models(routing(small(), tiny, records=records), ["writer", "qa"])
    assert set(found) == {"writer"}
    writer = found["writer"]
    assert (writer.model, writer.reason) == ("small", "88% of 100 writer steps succeeded, big 72%")
    # Both rates shrunk towards the prior: its failure rate over the configured model's.
    assert writer.failure_share == pytest.approx(0.413, abs=0.01)
