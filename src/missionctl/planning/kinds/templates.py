"""The parts of a kind of software: its task, requirement, risk, decision and phase templates.

They are re-exported by :mod:`missionctl.planning.kinds`, which documents the placeholders
their texts may use.
"""

from typing import Annotated

from pydantic import ConfigDict, Field
from pydantic.dataclasses import dataclass

from missionctl.schemas.plans import Likelihood, Priority, RiskTier, Severity, SpecialistRole

__all__ = [
    "STRICT",
    "DecisionTemplate",
    "PhaseTemplate",
    "Positive",
    "RequirementTemplate",
    "RiskTemplate",
    "TaskTemplate",
]

STRICT = ConfigDict(extra="forbid")
"""Data files may not carry a field their type does not define."""

Positive = Annotated[int, Field(gt=0)]
"""A file's token estimates and keyword weights are positive numbers of tokens and points."""


@dataclass(frozen=True, slots=True, config=STRICT)
class TaskTemplate:
    """A task every plan of a kind contains.

    ``greenfield_only`` marks a task that creates what an existing system already has (a
    project scaffold, a first API contract): a plan that changes an existing system leaves it
    out (see :func:`missionctl.planning.kinds.for_existing_system`). ``brownfield_title``
    is the title such a plan gives the task instead: the work is a change to that system
    ("Deploy the changes to {host} to production"), not the system itself.
    """

    key: str
    role: SpecialistRole
    title: str
    description: str
    depends_on: tuple[str, ...] = ()
    artifacts: tuple[str, ...] = ()
    acceptance: tuple[str, ...] = ()
    risk_tier: RiskTier = "read"
    estimate_tokens: Positive = 20_000
    traces: tuple[str, ...] = ()
    greenfield_only: bool = False
    brownfield_title: str | None = None


@dataclass(frozen=True, slots=True, config=STRICT)
class RequirementTemplate:
    """A non-functional requirement every plan of a kind carries; ``tag`` names it in traces."""

    tag: str
    text: str
    priority: Priority = "must"


@dataclass(frozen=True, slots=True, config=STRICT)
class RiskTemplate:
    """A risk typical of a kind.

    ``mitigated_by`` names the kind's tasks that carry out its mitigation (a trait's risk is
    mitigated by the tasks tracing the trait's requirement, which it need not name).
    """

    title: str
    description: str
    severity: Severity
    likelihood: Likelihood
    mitigation: str
    mitigated_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, config=STRICT)
class DecisionTemplate:
    """A decision typical of a kind.

    When ``slot`` names a technology slot and the mission names a technology of that slot, the
    planner records that the mission made the choice and drops it from the alternatives.
    """

    title: str
    choice: str
    reasons: tuple[str, ...]
    trade_offs: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()
    slot: str | None = None


@dataclass(frozen=True, slots=True, config=STRICT)
class PhaseTemplate:
    """A phase: a named group of task keys (:data:`FEATURES` allowed)."""

    key: str
    name: str
    goal: str
    task_keys: tuple[str, ...]
