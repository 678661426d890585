"""Rules of a mission's decision log and risk register: statuses, supersession, changes.

A decision is ``proposed``, ``accepted`` or ``superseded``; a risk is ``open``, ``mitigating``
or ``closed``. A decision that supersedes another marks it ``superseded``, and ``superseded``
means exactly that: a decision is ``superseded`` while, and only while, another decision of
its mission supersedes it (ADR 0051). Supersession links form chains, never cycles.

Edits are optimistic: each item carries a ``version`` that every change increments, and an
edit names the version it was based on (``stale_version``).
"""

import uuid
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, Final

from missionctl.domain.plans import unknown_reference
from missionctl.errors import Problem


class DecisionStatus(StrEnum):
    """Where a decision stands, as an ADR's status line says it."""

    proposed = "proposed"
    accepted = "accepted"
    superseded = "superseded"


class RiskStatus(StrEnum):
    """Where a risk stands."""

    open = "open"
    mitigating = "mitigating"
    closed = "closed"


SEVERITIES: Final = ("low", "medium", "high", "critical")
"""A risk's severities, least first (the plan schema's ``Severity``)."""
LIKELIHOODS: Final = ("low", "medium", "high")
"""A risk's likelihoods, least first (the plan schema's ``Likelihood``)."""
LIVE_RISK_STATUSES: Final = frozenset({RiskStatus.open, RiskStatus.mitigating})
"""The statuses the heat map counts: a closed risk no longer threatens the mission."""

Links = Mapping[uuid.UUID, uuid.UUID | None]
"""Each decision of a mission → the decision it supersedes (or ``None``)."""


def supersede_problem(decision_id: uuid.UUID, target_id: uuid.UUID, links: Links) -> str | None:
    """Why ``decision_id`` may not supersede ``target_id``, or ``None`` when it may.

    ``links`` holds the mission's decisions as they are before the change; a target that is not
    among them belongs to another mission (or to none). The link is refused when it points at
    the decision itself or when following the chain from the target leads back to the decision
    (a cycle: the decision would end up superseding itself).
    """
    if target_id == decision_id:
        return "a decision cannot supersede itself"
    if target_id not in links:
        return f"decision {target_id} is not a decision of this mission"
    seen: set[uuid.UUID] = set()
    current: uuid.UUID | None = target_id
    while current is not None and current not in seen:
        if current == decision_id:
            return (
                f"decision {target_id} already supersedes this one (directly or through "
                "others): superseding it back would make a cycle"
            )
        seen.add(current)
        current = links.get(current)
    return None


def superseded_ids(links: Links) -> frozenset[uuid.UUID]:
    """The decisions some other decision supersedes: exactly those whose status is superseded."""
    return frozenset(target for target in links.values() if target is not None)


def status_after(superseded: bool, requested: DecisionStatus) -> DecisionStatus:
    """A decision's status given whether another supersedes it; superseded wins."""
    if superseded:
        return DecisionStatus.superseded
    return requested if requested != DecisionStatus.superseded else DecisionStatus.accepted


def stale_version(field_name: str, current: int, based_on: int) -> str | None:
    """The message of a stale edit (based on ``based_on``, stored is ``current``), or ``None``."""
    if current == based_on:
        return None
    return (
        f"this {field_name} was changed since version {based_on} (it is at version {current}): "
        "read it again and apply your edit to the current version"
    )


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields whose value differs, each as ``{"old": …, "new": …}`` (for an event)."""
    return {
        name: {"old": before.get(name), "new": value}
        for name, value in after.items()
        if before.get(name) != value
    }


def unknown_task_problems(field: str, keys: Sequence[str], known: Sequence[str]) -> list[Problem]:
    """One problem per key of ``keys`` that is not a task of the plan (``known``).

    The problem names the position (``mitigation_tasks.1``) and a close match when one exists.
    With no plan at all every key is unknown, and the message says to plan the mission first.
    """
    problems: list[Problem] = []
    for position, key in enumerate(keys):
        if key in known:
            continue
        if not known:
            message = f"task '{key}' does not exist: the mission has no plan yet"
        else:
            subject = f"the risk names task '{key}' of the newest plan"
            message = unknown_reference(subject, key, known)
        problems.append(Problem(f"{field}.{position}", message))
    return problems


def heat_map(cells: Sequence[tuple[str, str]]) -> list[list[int]]:
    """Counts per (severity, likelihood), rows by severity worst first, columns least first.

    ``cells`` holds one ``(severity, likelihood)`` per live risk; values outside the scales
    are not counted (they cannot be stored through the register).
    """
    grid = [[0] * len(LIKELIHOODS) for _ in SEVERITIES]
    rows = {severity: i for i, severity in enumerate(reversed(SEVERITIES))}
    columns = {likelihood: i for i, likelihood in enumerate(LIKELIHOODS)}
    for severity, likelihood in cells:
        if severity in rows and likelihood in columns:
            grid[rows[severity]][columns[likelihood]] += 1
    return grid
