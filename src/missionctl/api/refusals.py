"""The OpenAPI listing of an operation's refusals (``missionctl.domain.refusals``, ADR 0099)."""

from collections.abc import Mapping
from typing import Any

from missionctl.domain.refusals import EXTENSION


def refusals(rules: Mapping[str, str]) -> dict[str, Any]:
    """A route's ``openapi_extra`` listing ``rules`` (field → rule) under :data:`EXTENSION`."""
    return {EXTENSION: [{"field": name, "rule": rule} for name, rule in rules.items()]}
