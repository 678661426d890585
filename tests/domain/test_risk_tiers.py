"""A stored risk tier is read as one of the domain's tiers, or refused by name."""

import pytest

from missionctl.domain.workflows import RISK_TIERS, as_risk_tier


@pytest.mark.parametrize("tier", RISK_TIERS)
def test_each_tier_reads_as_itself(tier: str) -> None:
    assert as_risk_tier(tier) == tier


@pytest.mark.parametrize("value", ["", "READ", "admin", "read "])
def test_anything_else_is_refused_naming_the_tiers(value: str) -> None:
    with pytest.raises(ValueError, match="read, write, irreversible"):
        as_risk_tier(value)
