"""The start of an id as a person types it: a unique prefix stands for the whole id, as in git.

Ids are UUIDs, and a terminal that is 80 columns wide may show only their start. Whatever
takes an id also takes its first digits: dashes may be kept or left out, letters in either
case. Because ids sort as their hexadecimal digits do (as UUIDs on PostgreSQL, as 32-digit
strings on SQLite), the ids a prefix stands for are one range, ``lowest`` to ``highest``.
"""

import uuid
from dataclasses import dataclass

__all__ = ["MIN_PREFIX_DIGITS", "IdPrefix", "id_or_prefix"]

MIN_PREFIX_DIGITS = 4
"""Fewer digits than this would name most of a busy installation's ids at once."""
_DIGITS = 32
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class IdPrefix:
    """The first ``digits`` (lower-case hexadecimal, no dashes) of the ids it stands for."""

    digits: str

    @classmethod
    def parse(cls, text: str) -> "IdPrefix":
        """The prefix ``text`` spells.

        Raises:
            ValueError: ``text`` is not the start of an id (another character than a hex digit
                or a dash, fewer than ``MIN_PREFIX_DIGITS`` digits, more than 32); the message
                says which and what to type.
        """
        digits = text.strip().replace("-", "").lower()
        if not digits or not set(digits) <= _HEX:
            raise ValueError(
                f"{text[:60]!r} is not an id or the start of one: an id is 32 hexadecimal "
                "digits (0-9, a-f), with or without dashes"
            )
        if len(digits) < MIN_PREFIX_DIGITS:
            raise ValueError(
                f"{text!r} is too short to name one id: type at least "
                f"{MIN_PREFIX_DIGITS} of its digits"
            )
        if len(digits) > _DIGITS:
            raise ValueError(f"{text[:60]!r} is longer than an id ({_DIGITS} digits)")
        return cls(digits)

    @property
    def lowest(self) -> uuid.UUID:
        """The least id that starts with this prefix."""
        return uuid.UUID(self.digits.ljust(_DIGITS, "0"))

    @property
    def highest(self) -> uuid.UUID:
        """The greatest id that starts with this prefix."""
        return uuid.UUID(self.digits.ljust(_DIGITS, "f"))


def id_or_prefix(text: str) -> uuid.UUID | IdPrefix:
    """The whole id ``text`` spells, else the prefix it is (``IdPrefix.parse``'s errors)."""
    prefix = IdPrefix.parse(text)
    if len(prefix.digits) == _DIGITS:
        return uuid.UUID(prefix.digits)
    return prefix
