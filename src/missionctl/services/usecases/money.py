"""Conversions between API dollars and stored micro-dollars."""

from decimal import Decimal

_MICROS_PER_USD = Decimal(1_000_000)


def usd_to_micros(usd: Decimal) -> int:
    """Whole micro-dollars in ``usd`` (inputs carry at most six decimals, so this is exact)."""
    return int(usd * _MICROS_PER_USD)


def micros_to_usd(micros: int) -> float:
    """US dollars for display and JSON."""
    return micros / 1_000_000
