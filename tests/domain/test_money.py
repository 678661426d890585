"""Dollars as text: one writer for pages, reports, messages and the CLI."""

from decimal import Decimal

import pytest

from missionctl.domain.money import micros_text, usd_text
from missionctl.web.templating import usd


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (0, "$0.00"),
        (0.0029, "$0.0029"),  # a model call: never "$0.00"
        (Decimal("0.015"), "$0.015"),
        (0.25, "$0.25"),
        (0.1, "$0.10"),
        (0.00004, "<$0.0001"),  # too small for four decimals, but not nothing
        (0.99996, "$1.00"),
        (1, "$1.00"),
        (2.5, "$2.50"),
        (1.2345, "$1.23"),  # cents from a dollar up
        (1_234_567.891, "$1,234,567.89"),
        (-0.5, "-$0.50"),
    ],
)
def test_an_amount_reads_true_at_every_scale(amount: float | Decimal, text: str) -> None:
    assert usd_text(amount) == text


def test_micro_dollars_and_pages_say_the_same_as_the_cli() -> None:
    assert micros_text(2_900) == usd_text(0.0029) == usd(0.0029) == "$0.0029"
    assert micros_text(None) == "$0.00"
    assert usd(None) == "—"
