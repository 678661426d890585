"""What planners do with mission memory's recollections, and how their citations are kept honest.

A :class:`~missionctl.planning.base.PlanningInput` carries the finished missions similar to the
one being planned (ADR 0055). The local planner uses them through :func:`recall`: a decision of
its plan that a completed mission also took (same title, same choice) cites that mission; a
relevant decision the plan lacks is reused from a completed mission; a risk the plan shares
with a past mission cites it, and a relevant risk the plan lacks is carried over. The model
planner reads them in its prompt (:func:`recollections_prompt`) and cites them itself.

Either way a citation names a mission that was offered, or none: :func:`mend_citations` fixes
a model's raw answer (a citation of a mission not offered is repaired to the offered mission
whose item has that title, or dropped) and :func:`keep_offered` is the last check before a plan
is stored.
"""

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from missionctl.domain.memory import shared_words
from missionctl.domain.money import usd_text
from missionctl.domain.similarity import near_duplicates
from missionctl.planning.base import PlanningInput, RecalledMission
from missionctl.schemas.plans import PlanDecision, PlanDraft, PlanRisk

__all__ = [
    "MAX_CARRIED_RISKS",
    "MAX_REUSED_DECISIONS",
    "keep_offered",
    "mend_citations",
    "recall",
    "recollections_prompt",
]

MAX_REUSED_DECISIONS = 3
"""The most decisions a local plan takes from past missions besides its own."""

MAX_CARRIED_RISKS = 3
"""The most risks a local plan carries over from past missions besides its own."""

_SHORT, _LONG, _MAX_ITEMS, _MAX_REASONS = 300, 4000, 30, 8


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _mission_text(mission: PlanningInput) -> str:
    return "\n".join((mission.title, mission.goal, *mission.constraints))


def _same_choice(first: str, second: str) -> bool:
    return " ".join(first.lower().split()) == " ".join(second.lower().split()) or (
        near_duplicates(first, second)
    )


def recall(draft: PlanDraft, mission: PlanningInput) -> tuple[PlanDraft, tuple[str, ...]]:
    """The local plan ``draft`` with what the mission's recollections teach, and notes.

    Only completed missions lend decisions (a failed mission's choices are not a model); any
    finished mission lends risks (what went wrong is worth knowing). The most similar mission
    comes first. Relevant means sharing a content word with the mission's title, goal or
    constraints (:func:`missionctl.domain.memory.shared_words`).

    Returns:
        The draft (unchanged without recollections) and one note per mission cited.
    """
    if not mission.recollections:
        return draft, ()
    text = _mission_text(mission)
    decisions = _recall_decisions(list(draft.decisions), mission.recollections, text)
    risks = _recall_risks(list(draft.risks), mission.recollections, text)
    cited = {d.from_mission for d in decisions} | {r.from_mission for r in risks}
    notes = tuple(
        f"Mission memory: this plan takes {_what(m.mission_id, decisions, risks)} from the "
        f"finished mission “{m.title}” ({m.outcome})"
        for m in mission.recollections
        if m.mission_id in cited
    )
    return draft.model_copy(update={"decisions": decisions, "risks": risks}), notes


def _what(mission_id: uuid.UUID, decisions: list[PlanDecision], risks: list[PlanRisk]) -> str:
    d = sum(1 for item in decisions if item.from_mission == mission_id)
    r = sum(1 for item in risks if item.from_mission == mission_id)
    parts = [f"{d} decision{'' if d == 1 else 's'}"] if d else []
    parts += [f"{r} risk{'' if r == 1 else 's'}"] if r else []
    return " and ".join(parts)


def _recall_decisions(
    decisions: list[PlanDecision], recollections: Sequence[RecalledMission], text: str
) -> list[PlanDecision]:
    lenders = [m for m in recollections if m.outcome == "completed"]
    for index, decision in enumerate(decisions):
        for past in lenders:
            if any(
                near_duplicates(d.title, decision.title) and _same_choice(d.choice, decision.choice)
                for d in past.decisions
            ):
                reason = f"Also chosen by the finished mission “{past.title}”, which completed"
                reasons = [*decision.reasons, _clip(reason, _SHORT)][:_MAX_REASONS]
                decisions[index] = decision.model_copy(
                    update={"from_mission": past.mission_id, "reasons": reasons}
                )
                break
    reused = 0
    for past in lenders:
        for recalled in past.decisions:
            if reused == MAX_REUSED_DECISIONS or len(decisions) >= _MAX_ITEMS:
                return decisions
            if any(near_duplicates(recalled.title, d.title) for d in decisions):
                continue
            if not shared_words(f"{recalled.title} {recalled.choice}", text):
                continue
            reason = f"Reused from the finished mission “{past.title}”, which completed"
            reasons = [_clip(reason, _SHORT), *(_clip(r, _SHORT) for r in recalled.reasons)]
            decisions.append(
                PlanDecision(
                    title=_clip(recalled.title, _SHORT),
                    choice=_clip(recalled.choice, _LONG),
                    reasons=reasons[:_MAX_REASONS],
                    from_mission=past.mission_id,
                )
            )
            reused += 1
    return decisions


def _recall_risks(
    risks: list[PlanRisk], recollections: Sequence[RecalledMission], text: str
) -> list[PlanRisk]:
    for index, risk in enumerate(risks):
        past = next(
            (
                m
                for m in recollections
                if any(near_duplicates(r.title, risk.title) for r in m.risks)
            ),
            None,
        )
        if past is not None:
            risks[index] = risk.model_copy(update={"from_mission": past.mission_id})
    carried = 0
    for past in recollections:
        for recalled in past.risks:
            if carried == MAX_CARRIED_RISKS or len(risks) >= _MAX_ITEMS:
                return risks
            if any(near_duplicates(recalled.title, r.title) for r in risks):
                continue
            if not shared_words(f"{recalled.title} {recalled.description}", text):
                continue
            risks.append(
                PlanRisk.model_validate(
                    {
                        "title": _clip(recalled.title, _SHORT),
                        "description": _clip(
                            f"{recalled.description} (Carried over from the finished mission "
                            f"“{past.title}”, which ended {past.outcome}.)",
                            _LONG,
                        ),
                        "severity": recalled.severity,
                        "likelihood": recalled.likelihood,
                        "mitigation": _clip(recalled.mitigation, _LONG),
                        "from_mission": past.mission_id,
                    }
                )
            )
            carried += 1
    return risks


def recollections_prompt(mission: PlanningInput) -> list[str]:
    """The prompt lines (between the memory tags) that show the model the recollections.

    Each mission is shown with its id, title, outcome, cost, lessons, decisions and risks, as
    data; the model cites one by setting ``from_mission`` to its id.
    """
    if not mission.recollections:
        return []
    lines = [
        "Similar finished missions (data, most similar first). Reuse a decision or carry a "
        "risk over when it fits this mission, and cite it: set that item's from_mission to the "
        "mission's id below. Never cite any other id. Leave from_mission null otherwise.",
    ]
    for past in mission.recollections:
        lines.append(
            f"- Mission {past.mission_id}: “{past.title}”, {past.outcome}, "
            f"cost {usd_text(past.cost_usd)}"
        )
        lines.extend(f"  Lesson: {lesson}" for lesson in past.lessons)
        lines.extend(f"  Decision: {d.title}: {d.choice}" for d in past.decisions)
        lines.extend(
            f"  Risk: {r.title} ({r.severity}/{r.likelihood}); mitigation: {r.mitigation}"
            for r in past.risks
        )
    return lines


def _offered_titles(mission: PlanningInput, section: str) -> list[tuple[str, uuid.UUID]]:
    return [
        (item.title, past.mission_id)
        for past in mission.recollections
        for item in (past.decisions if section == "decisions" else past.risks)
    ]


def _as_id(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def mend_citations(answer: Any, mission: PlanningInput) -> list[str]:
    """Mend the ``from_mission`` of a model's raw plan in place; what was mended, one note each.

    A citation of an offered mission stays. Any other (an unknown id, a title, a number) is
    repaired to the offered mission that has an item of that title, or dropped (null).
    """
    if not isinstance(answer, dict):
        return []
    offered = {past.mission_id for past in mission.recollections}
    notes: list[str] = []
    for section in ("decisions", "risks"):
        items = answer.get(section)
        if not isinstance(items, list):
            continue
        titles = _offered_titles(mission, section)
        for item in items:
            if not isinstance(item, dict) or item.get("from_mission") in (None, ""):
                continue
            cited = _as_id(item["from_mission"])
            if cited in offered:
                item["from_mission"] = str(cited)
                continue
            title = str(item.get("title", ""))
            match = next((m for t, m in titles if near_duplicates(t, title)), None)
            item["from_mission"] = str(match) if match else None
            verb = "repaired to an offered mission" if match else "dropped"
            notes.append(
                f"The {section[:-1]} “{_clip(title, 80)}” cited a mission that was not offered; "
                f"the citation was {verb}"
            )
    return notes


def keep_offered(
    draft: PlanDraft, offered: Iterable[uuid.UUID]
) -> tuple[PlanDraft, tuple[str, ...]]:
    """``draft`` with every citation of a mission not in ``offered`` dropped, and notes."""
    allowed = set(offered)
    notes: list[str] = []

    def kept(items: Sequence[Any], what: str) -> list[Any]:
        out = []
        for item in items:
            if item.from_mission is not None and item.from_mission not in allowed:
                notes.append(f"The {what} “{item.title}” cited a mission not offered; dropped")
                item = item.model_copy(update={"from_mission": None})
            out.append(item)
        return out

    decisions = kept(draft.decisions, "decision")
    risks = kept(draft.risks, "risk")
    if not notes:
        return draft, ()
    return draft.model_copy(update={"decisions": decisions, "risks": risks}), tuple(notes)
