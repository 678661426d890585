"""The traceability map of a mission as clients read it (``GET /api/v1/missions/{id}/trace``).

``domain.tracemap`` builds it; docs/traceability.md explains its columns, edges and gap rules.
"""

import uuid

from pydantic import BaseModel, Field

from missionctl.domain.tracemap import EdgeKind, GapKind, NodeKind


class TraceNodeRead(BaseModel):
    """One item of the map."""

    id: str = Field(description='"<kind>:<key>", unique in the map, e.g. "requirement:R2".')
    kind: NodeKind
    key: str = Field(
        description="A requirement's or task's key, an artifact's id, CN, risk-N or "
        "decision-N (the clause's or item's position in the goal or plan, from 1), or goal."
    )
    label: str = Field(
        description="The goal, a clause as the user wrote it, a requirement's text, a task's "
        "or item's title."
    )
    status: str = Field(
        description="goal; covered or dropped (clause); traced or untraced (requirement); "
        "the step's status or not_run "
        "(task); the kind (artifact); the severity (risk); recorded (decision)."
    )
    detail: str = Field(
        description="A clause's kind (feature or constraint), a requirement's priority, a "
        "task's phase, a risk's description, a decision's choice, an artifact's task key; "
        "empty otherwise."
    )
    gap: bool = Field(description="Whether a gap names this item.")


class TraceEdgeRead(BaseModel):
    """A link from ``source`` to ``target`` (node ids)."""

    kind: EdgeKind = Field(
        description="states (goal → clause), covers (clause → the requirement that quotes it, "
        "or the task whose acceptance criterion does), traces (goal → requirement no clause "
        "leads to, requirement → task), depends_on (dependency → task), "
        "produced (task → artifact), mitigates (risk → its mitigation task), concerns (risk "
        "or decision → a task it is relevant to)."
    )
    source: str
    target: str


class TraceGapRead(BaseModel):
    """Something the map is missing, and the fix."""

    kind: GapKind
    item: str = Field(description="The id of the node at fault.")
    message: str = Field(description="What is missing and what to do about it.")


class TraceMapRead(BaseModel):
    """A mission's traceability map for one plan version."""

    mission_id: uuid.UUID
    plan_version: int
    requirement: str | None = Field(
        description="The requirement the map was narrowed to (its path only), or null."
    )
    runs: int = Field(description="Runs compiled from this plan version.")
    nodes: list[TraceNodeRead]
    edges: list[TraceEdgeRead]
    gaps: list[TraceGapRead]
