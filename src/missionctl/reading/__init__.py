"""One reading of a mission, shared by the local planner and the builtin specialists.

:func:`read_goal` turns a mission's title, goal, constraints and repository context into one
typed, immutable :class:`GoalReading`: the subject and what it is for, the verb, the features
as the user named them, the people served, the records the software keeps (with attributes
and relations), the kind of software, the named technologies, the plan-changing constraints,
the scale, what exists already, the goal's language and whether it is too vague to plan.
The language and the vagueness are the one judgement of them in the product: the local
planner asks its questions from them (ADR 0035).

The package sits below ``planning`` and ``agents`` (ADR 0033); its vocabularies are YAML
files in ``data/``, validated by Pydantic and loaded once.
"""

from missionctl.reading.clauses import FALLBACK_SUBJECT
from missionctl.reading.doers import let_title, place_lengths
from missionctl.reading.kinds import GENERIC_KIND, kind_keys
from missionctl.reading.language import ENGLISH, UNDETERMINED, language_name
from missionctl.reading.model import (
    Attribute,
    Derivation,
    Entity,
    Feature,
    GoalReading,
    NamedTechnology,
    Scale,
    Signal,
)
from missionctl.reading.radios import RadioProfile, radio_for
from missionctl.reading.read import read_goal
from missionctl.reading.technologies import find_technologies, technology
from missionctl.reading.vocabulary import SignalSpec, TechnologySpec, vocabulary
from missionctl.reading.words import (
    capitalise,
    clip,
    is_adverb,
    normalise,
    plural,
    singular,
    third_person,
    third_person_verbs,
)

__all__ = [
    "ENGLISH",
    "FALLBACK_SUBJECT",
    "GENERIC_KIND",
    "UNDETERMINED",
    "Attribute",
    "Derivation",
    "Entity",
    "Feature",
    "GoalReading",
    "NamedTechnology",
    "RadioProfile",
    "Scale",
    "Signal",
    "SignalSpec",
    "TechnologySpec",
    "capitalise",
    "clip",
    "find_technologies",
    "is_adverb",
    "kind_keys",
    "language_name",
    "let_title",
    "normalise",
    "place_lengths",
    "plural",
    "radio_for",
    "read_goal",
    "singular",
    "technology",
    "third_person",
    "third_person_verbs",
    "vocabulary",
]
