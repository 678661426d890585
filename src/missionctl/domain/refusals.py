"""What an operation refuses beyond its schemas: the rules a JSON Schema cannot state (ADR 0099).

A JSON Schema judges each value alone and by its shape. Some refusals need more: two
parameters together (``since`` before ``until``), a grammar (a workflow's YAML), a count (a
password's different characters), a parse no pattern matches exactly (a URL's host), or a
decimal's places, which a binary number in JSON does not keep. An operation with such rules
lists them in its OpenAPI entry under :data:`EXTENSION`, one ``{"field", "rule"}`` each
(``api.refusals``). A client reads there which schema-valid requests may still be refused, and
why; ``bench/fuzz.py`` accepts such a 422 only when every field it names is
listed (:func:`covers`).
"""

from collections.abc import Iterable

EXTENSION = "x-refusals"
"""The OpenAPI extension of an operation that lists its refusals, field → rule."""

ORDER = {
    "since": "must not come after until (a missing until is now)",
    "until": "must not come before since",
}
"""A time range of two query parameters."""
WINDOW = {
    "since": "must come before until (a missing until is now), at most 366 days before it",
    "until": "must come after since",
}
"""A time window of two query parameters that spans at most a year."""

DECIMAL_PLACES = "at most 6 decimal places (a micro-dollar)"
"""Money in US dollars, kept to the micro-dollar."""
SEARCH_RULE = (
    "must hold a word (letters or digits); a prefix (conn*) needs 3 letters before its *; "
    "a limited number of words, phrases and prefixes"
)
"""A full-text query."""
MISSION_RULES = {
    "budget_usd": DECIMAL_PLACES,
    "repository": "source: an absolute path or a clone URL without a password; base: a git "
    "branch name; agent: a coding agent (coding:codex, coding:claude, coding:aider), which "
    "review needs; model.base_url: an http or https URL with a host",
}
"""A new mission's body."""
DEFINITION_RULES = {
    "definition": "JSON or YAML text that reads as a mapping with `name` and `steps`",
    "budget_usd": DECIMAL_PLACES,
    "inputs": "each input named by 1-63 letters, digits or '_', not starting with a digit",
    "steps": "a graph without cycles whose steps have unique ids, name known agents and "
    "steps, and whose templates and conditions parse",
}
"""A workflow definition."""
EPIC_OWNER = "a user who exists and is not disabled (left out: the person who makes it)"
"""An epic's owner, which only the users table can vouch for."""


def covers(listed: Iterable[str], field: str) -> bool:
    """Whether a refusal of ``field`` is one the operation lists: that field or one it holds.

    ``steps`` covers ``steps.0.agent``; ``repository.agent`` covers itself alone.
    """
    return any(field == name or field.startswith(f"{name}.") for name in listed)
