"""Mission memory follows the log: a mission that finishes is remembered (ADR 0055).

Each window of events re-indexes every mission an event in it names (a mission that finished,
a decision edited after): a finished mission is remembered afresh, as entries of its summary,
decisions, risks, lessons and documents, every text redacted; one that is not (it is planned
or run again) is forgotten until it finishes. The search side is ``services.usecases.memory``.
"""

import uuid

from sqlalchemy.orm import Session

from missionctl.domain.memory import MemoryKind, RunFact, StepFact, lessons, usd
from missionctl.llm.embedding import Embedder, load_embedder
from missionctl.llm.redaction import redact
from missionctl.reading import find_technologies
from missionctl.repositories import memory as repo
from missionctl.repositories.followers import Window
from missionctl.services.followers.follower import Follower
from missionctl.services.runtime.context import ServiceContext

GOAL_CHARS = 2_000
"""The most of a mission's goal its summary keeps."""


def _fold(session: Session, window: Window, _ctx: ServiceContext) -> None:
    embedder = load_embedder()  # loaded once per process
    for mission_id in repo.missions_named(session, after=window.after, upto=window.upto):
        facts = repo.read_facts(session, mission_id=mission_id)
        entries = _entries(facts, embedder) if facts is not None else []
        repo.replace_entries(session, mission_id=mission_id, entries=entries)


MEMORY_INDEX = Follower(name="memory", description="mission memory", fold=_fold, every_s=5.0)


def _entries(facts: repo.MissionFacts, embedder: Embedder | None) -> list[repo.NewEntry]:
    """What is remembered of a finished mission, every text redacted."""
    mission = facts.mission
    outcome = str(mission.status)
    stack = [
        tech.name for tech in find_technologies("\n".join((mission.goal, *mission.constraints)))
    ]
    # The title is the entry's own (searched, and shown above the summary): the text starts at
    # the goal, which the title is usually cut from, so a hit does not say it twice.
    summary = [mission.goal[:GOAL_CHARS]]
    if mission.constraints:
        summary.append("Constraints: " + "; ".join(mission.constraints))
    if stack:
        summary.append("Stack: " + ", ".join(stack))
    summary.append(f"Outcome: {outcome}; cost {usd(mission.spent_micros)}")
    entries = [repo.NewEntry(MemoryKind.summary, mission.title, "\n".join(summary))]
    entries += [
        repo.NewEntry(
            MemoryKind.decision,
            d.title,
            "\n".join([d.choice, *(f"Why: {r}" for r in d.reasons), d.context, d.consequences]),
            d.id,
        )
        for d in facts.decisions
    ]
    entries += [
        repo.NewEntry(
            MemoryKind.risk,
            r.title,
            f"{r.description}\nMitigation: {r.mitigation}\n{r.severity} severity, "
            f"{r.likelihood} likelihood; {r.status}",
            r.id,
        )
        for r in facts.risks
    ]
    entries += [
        repo.NewEntry(MemoryKind.lesson, lesson.split(":", 1)[0][:120], lesson)
        for lesson in lessons(outcome=outcome, spent_micros=mission.spent_micros, runs=_runs(facts))
    ]
    entries += [repo.NewEntry(MemoryKind.document, t, body) for t, body in facts.documents]
    entries = [
        repo.NewEntry(
            e.kind, redact(e.title.strip()) or e.kind.value, redact(e.body.strip()), e.ref_id
        )
        for e in entries
    ]
    if embedder is None:
        return entries
    vectors = embedder.embed([f"{e.title}\n{e.body}" for e in entries])
    return [
        repo.NewEntry(e.kind, e.title, e.body, e.ref_id, vector)
        for e, vector in zip(entries, vectors, strict=True)
    ]


def _runs(facts: repo.MissionFacts) -> list[RunFact]:
    steps: dict[uuid.UUID, list[StepFact]] = {}
    for row in facts.steps:
        fact = StepFact(row.step_id, str(row.status), row.attempt, row.cost_micros, row.error)
        steps.setdefault(row.run_id, []).append(fact)
    return [RunFact(str(run.status), tuple(steps.get(run.id, ())), run.error) for run in facts.runs]
