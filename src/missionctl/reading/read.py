"""One reading of a mission: :func:`read_goal` puts every part of the reading together."""

from collections.abc import Sequence
from functools import lru_cache

from missionctl.reading.actors import find_actors
from missionctl.reading.clauses import DEPLOYMENT_CLAUSE, parse_goal
from missionctl.reading.context import (
    find_existing,
    find_records_today,
    host_component,
    is_brownfield,
)
from missionctl.reading.entities import find_entities
from missionctl.reading.kinds import find_kind
from missionctl.reading.language import ENGLISH, find_language, is_vague
from missionctl.reading.model import Feature, GoalReading
from missionctl.reading.signals import find_cadence, find_scale, find_signals
from missionctl.reading.technologies import find_technologies, technology_names
from missionctl.reading.vocabulary import vocabulary
from missionctl.reading.words import normalise

__all__ = ["read_goal"]


def read_goal(
    *,
    goal: str,
    title: str = "",
    constraints: Sequence[str] = (),
    repo_context: str = "",
) -> GoalReading:
    """Read a mission once, for every part of the product that needs to understand it.

    Pure and deterministic: the same mission always gives the same (shared, immutable)
    reading, and any text gives a reading, however odd.

    Args:
        goal: What the user wants, as written.
        title: The mission's title (the subject when the goal names none).
        constraints: The mission's constraints, one statement each.
        repo_context: What the user says about the repository or system it starts from.
    """
    unique = tuple(dict.fromkeys(c.strip() for c in constraints if c.strip()))
    return _read(goal, title, unique, repo_context)


@lru_cache(maxsize=256)
def _read(goal: str, title: str, constraints: tuple[str, ...], repo_context: str) -> GoalReading:
    raw = "\n".join((title, goal, *constraints, repo_context))
    everything = normalise(raw)
    language = find_language(goal or title)
    english = language == ENGLISH
    parsed = parse_goal(goal, title=title, english=english, tech_names=technology_names())
    # The goal's own constraint clauses ("HIPAA applies") count as constraints, after the
    # mission's: the plan quotes them among its constraints, not as features.
    lowered = {c.lower() for c in constraints}
    given = constraints
    constraints += tuple(c for c in parsed.constraints if c.lower() not in lowered)
    technologies = find_technologies(raw)
    signals = find_signals(everything, constraints)
    existing = find_existing(". ".join(part for part in (goal, repo_context) if part))
    # The existing system the work goes into is what the software is ("our booking app" is
    # the React Native app the context names), so its name counts as the goal's own words.
    host = host_component(parsed.host, existing) or ""
    # Where the software is deployed ("deployed with Helm on Kubernetes") weighs as a
    # constraint, not as what the software is: a Flask app on Kubernetes is a web app.
    deployment = tuple(c for c in parsed.constraints if DEPLOYMENT_CLAUSE.search(c))
    said = f"{title}\n{goal}"
    for clause in deployment:
        said = said.replace(clause, " ")
    # What a new goal makes weighs most: "A Go CLI that … prints the migration SQL" is a CLI.
    # A change to a host ("Add rate limiting to our payments API") makes a part of the host,
    # which is what the software is; a move ("Migrate an AngularJS portal to React") is one.
    moved = parsed.verb in vocabulary().moving_verbs
    found = find_kind(
        normalise(f"{said}\n{host}"),
        normalise("\n".join((*given, *deployment, repo_context))),
        "" if parsed.host or moved else normalise(parsed.subject_phrase),
    )
    kind = found.key
    entities, derived = (
        find_entities(
            nouns=_without(normalise(goal), parsed.verb_phrases),
            domain=normalise(f"{title}\n{goal}"),
            # What people act with ("with photos") is kept too, though not a feature.
            phrases=[*_entity_phrases(parsed.features, kind), *parsed.parts],
            kind=kind,
            personal_data=any(signal.key == "regulated-data" for signal in signals),
            # An action's verb is the software's ("manages reservations for members").
            clauses=[f.phrase if f.action else f.text for f in parsed.features],
            links=parsed.links,
            subject=parsed.subject,
        )
        if english
        else ((), ())
    )
    scale, scale_phrase = find_scale(everything)
    return GoalReading(
        verb=parsed.verb,
        subject=parsed.subject,
        purpose=parsed.purpose,
        subject_phrase=parsed.subject_phrase,
        host=parsed.host,
        features=parsed.features,
        actors=find_actors(
            goal, purpose=parsed.purpose, entity_names=[entity.name for entity in entities]
        ),
        entities=entities,
        derived=derived,
        kind=kind,
        kind_score=found.score,
        kind_words=found.words,
        technologies=technologies,
        signals=signals,
        scale=scale,
        scale_phrase=scale_phrase,
        cadence=find_cadence(everything),
        constraints=constraints,
        existing=existing,
        brownfield=is_brownfield(everything, host=parsed.host, existing=existing),
        records_today=parsed.replaced or find_records_today(everything),
        language=language,
        vague=is_vague(goal or title),
        descriptor=parsed.descriptor,
        deployment=deployment,
    )


def _entity_phrases(features: Sequence[Feature], kind: str) -> list[str]:
    """The noun phrases of ``features`` that may name records of their own.

    A device's actions name what it measures or whom it tells ("weighs the hive", "alerts the
    keeper"), not records: it keeps readings and events, which its nouns and domain bring in.
    """
    return [
        f.phrase for f in features if not (f.action and (f.phrase == f.text or kind == "firmware"))
    ]


def _without(text: str, phrases: Sequence[str]) -> str:
    """``text`` with the first occurrence of each phrase blanked (same length, spaces)."""
    lower = text.lower()
    for phrase in phrases:
        start = lower.find(phrase.lower()) if phrase else -1
        if start >= 0:
            text = text[:start] + " " * len(phrase) + text[start + len(phrase) :]
            lower = text.lower()
    return text
