"""The people a mission's software serves: named ones, an organisation's, and its entities'."""

import re
from collections.abc import Sequence
from functools import cache

from missionctl.reading.vocabulary import vocabulary
from missionctl.reading.words import singular, strip_articles

__all__ = ["find_actors"]

MAX_ACTORS = 6


@cache
def _for_people() -> re.Pattern[str]:
    people = "|".join(vocabulary().people)
    return re.compile(
        rf"\b(?:for|lets|let|helps|allows|enables)\s+((?:[\w-]+\s+){{0,3}}?(?:{people}))\b",
        re.IGNORECASE,
    )


def find_actors(goal: str, *, purpose: str | None, entity_names: Sequence[str]) -> tuple[str, ...]:
    """Who the software serves, in order: the organisation's people, named people, entities'.

    Args:
        goal: The goal as written ("… for product leaders", "lets warehouse staff …").
        purpose: What the software is for ("small bakery": the bakery's staff).
        entity_names: The entities read; some stand for people it serves (a supplier).
    """
    words = vocabulary()
    found: list[str] = []
    if purpose:
        last = purpose.split()[-1].lower()
        found.extend(words.organisations.get(last) or words.organisations.get(singular(last), ()))
    found.extend(strip_articles(m.group(1).strip()) for m in _for_people().finditer(goal))
    by_name = {spec.name: spec for spec in words.entities}
    found.extend(
        actor for name in entity_names if (actor := getattr(by_name.get(name), "actor", None))
    )
    return tuple(dict.fromkeys(found))[:MAX_ACTORS]
