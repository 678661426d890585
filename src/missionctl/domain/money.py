"""Dollars as text: the one way every page, report, message and command writes an amount.

A model call costs fractions of a cent, a month of them hundreds of dollars: both must read
true. From a dollar up an amount shows cents ("$1,250.00"); below a dollar it shows up to four
decimals, at least two ("$0.25", "$0.015", "$0.0029"), so a sub-cent cost never reads as
"$0.00"; an amount too small for four decimals is "<$0.0001", never nothing.
"""

from decimal import ROUND_HALF_UP, Decimal

_SMALLEST = Decimal("0.0001")


def usd_text(amount: float | Decimal | int) -> str:
    """``amount`` US dollars as text (see the module); a negative amount keeps its sign first."""
    value = Decimal(str(amount))
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value == 0:
        return "$0.00"
    if value < _SMALLEST:
        return f"{sign}<$0.0001"
    rounded = value.quantize(_SMALLEST, rounding=ROUND_HALF_UP)
    if rounded >= 1:
        return f"{sign}${rounded:,.2f}"
    whole, _, decimals = f"{rounded:.4f}".partition(".")
    return f"{sign}${whole}.{decimals.rstrip('0').ljust(2, '0')}"


def micros_text(micros: int | None) -> str:
    """Stored micro-dollars as text (``None`` reads as nothing spent)."""
    return usd_text(Decimal(micros or 0) / 1_000_000)
