"""What a new mission recalls of finished ones: its page's similar missions, its planners' input.

A finished mission is similar to a new one when the database ranks its summary high for the
new mission's significant words (title, goal, constraints) and the two texts share at least
``domain.memory.MIN_SHARED_WORDS`` content words; with the local embedder, the cosine
similarity of the two texts is blended in (ADR 0055).
"""

import uuid
from collections.abc import Sequence
from dataclasses import replace

from missionctl.domain.memory import (
    FINISHED,
    MemoryKind,
    is_similar,
    shared_words,
    significant_words,
)
from missionctl.domain.similarity import content_words
from missionctl.errors import NotFound
from missionctl.llm.embedding import load_embedder, similarities
from missionctl.planning.base import (
    PlanningInput,
    RecalledDecision,
    RecalledMission,
    RecalledRisk,
)
from missionctl.repositories import memory as repo
from missionctl.repositories import missions as mission_repo
from missionctl.schemas.memory import SimilarMission
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.memory import SEMANTIC_MIN, read_remembered

MAX_SIMILAR = 3
"""The most similar missions a page shows and a planner recalls."""

CANDIDATES = 20
"""The summaries the database ranks before the similarity rule keeps the best."""


def _text(title: str, goal: str, constraints: Sequence[str]) -> str:
    return "\n".join((title, goal, *constraints))


async def _ranked(
    ctx: ServiceContext, *, mission_id: uuid.UUID | None, text: str, fresh: bool
) -> list[tuple[uuid.UUID, str]]:
    """The most similar finished missions to ``text``, best first: (id, summary).

    ``fresh``: catch memory up with the log first (a write turn when it is behind); otherwise
    read what the server's indexer has remembered, at most a few seconds behind.
    """
    if fresh:
        await ctx.catch_up("memory")
    async with ctx.read() as session:
        found = await repo.similar_summaries(
            session, words=significant_words([text]), exclude=mission_id, limit=CANDIDATES
        )
        vectors = await repo.summary_embeddings(session) if load_embedder() else []
    best = max((score for _, score, _ in found), default=0.0) or 1.0
    scores = {m: score / best for m, score, body in found if is_similar(text, body)}
    bodies = {m: body for m, _, body in found}
    embedder = load_embedder()
    if embedder is not None and vectors:
        wanted = embedder.embed([text])[0]
        meanings = similarities(wanted, [vector for _, vector, _ in vectors])
        for (other, _, body), meaning in zip(vectors, meanings, strict=True):
            if other == mission_id:
                continue
            if other in scores or meaning >= SEMANTIC_MIN:
                scores[other] = (scores.get(other, 0.0) + meaning) / 2
                bodies[other] = body
    order = sorted(scores, key=lambda m: (-scores[m], m))
    return [(m, bodies[m]) for m in order[:MAX_SIMILAR]]


def _shared_words(text: str, body: str) -> list[str]:
    """The words of ``text`` (as written, lower case) whose stems ``body`` shares, at most 8."""
    stems = shared_words(text, body)
    return [w for w in significant_words([text]) if content_words(w) & stems][:8]


async def similar_missions(
    ctx: ServiceContext, *, mission_id: uuid.UUID, fresh: bool = True
) -> list[SimilarMission]:
    """The finished missions most like ``mission_id``, for its page (none once it is finished).

    ``fresh``: catch memory up with the log first; the mission page passes ``False`` and reads
    what the server's indexer has remembered (a write turn per page view would compete with
    the engine's ticks).

    Raises:
        NotFound: no such mission.
    """
    async with ctx.read() as session:
        mission = await mission_repo.read_mission(session, mission_id=mission_id)
    if mission is None:
        raise NotFound(f"no mission with id {mission_id}", field="mission_id")
    if mission.status in FINISHED:
        return []
    text = _text(mission.title, mission.goal, mission.constraints)
    ranked = await _ranked(ctx, mission_id=mission_id, text=text, fresh=fresh)
    async with ctx.read() as session:
        known = await read_remembered(session, [m for m, _ in ranked])
    return [
        SimilarMission(**known[m].model_dump(), shared=_shared_words(text, body))
        for m, body in ranked
        if m in known
    ]


async def with_recollections(
    ctx: ServiceContext, *, mission_id: uuid.UUID, planning_input: PlanningInput
) -> PlanningInput:
    """``planning_input`` with the decisions and risks of the most similar finished missions."""
    text = _text(planning_input.title, planning_input.goal, planning_input.constraints)
    ranked = await _ranked(ctx, mission_id=mission_id, text=text, fresh=True)
    if not ranked:
        return planning_input
    ids = [m for m, _ in ranked]
    async with ctx.read() as session:
        known = await read_remembered(session, ids)
        entries = await repo.read_entries(
            session, mission_ids=ids, kinds=(MemoryKind.decision, MemoryKind.risk)
        )
        decisions = await repo.read_decision_rows(
            session, ids=[ref for _, kind, _, _, ref in entries if kind == "decision" and ref]
        )
        risks = await repo.read_risk_rows(
            session, ids=[ref for _, kind, _, _, ref in entries if kind == "risk" and ref]
        )
    recalled = [
        RecalledMission(
            mission_id=m,
            title=known[m].title,
            outcome=known[m].outcome,
            cost_usd=known[m].cost_usd,
            lessons=tuple(known[m].lessons),
            decisions=tuple(
                RecalledDecision(d.title, d.choice, tuple(d.reasons))
                for d in decisions
                if d.mission_id == m and d.status != "superseded"
            ),
            risks=tuple(
                RecalledRisk(r.title, r.description, r.severity, r.likelihood, r.mitigation)
                for r in risks
                if r.mission_id == m
            ),
        )
        for m in ids
        if m in known
    ]
    return replace(planning_input, recollections=tuple(recalled))
