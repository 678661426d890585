"""The document studio's contract: a generation request, a stored version, a comparison."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from missionctl.schemas.diagrams import MissionDiagramsRead

DocumentKind = Literal[
    "prd",
    "technical_design",
    "engineering_plan",
    "execution_pack",
    "executive_brief",
    "risk_register",
    "decision_log",
]
"""The kinds of document the studio writes (``documents/kinds.yaml``)."""
DOCUMENT_KINDS: tuple[DocumentKind, ...] = DocumentKind.__args__  # type: ignore[attr-defined]

ExportFormat = Literal["md", "html", "pdf"]
MAX_DOCUMENT_VERSION = 2**31 - 1
"""The largest version a query may name (an INTEGER column); larger is a 422, not a 500."""


class DocumentCreate(BaseModel):
    """``POST /api/v1/missions/{id}/documents``: which document to (re)generate."""

    model_config = ConfigDict(extra="forbid")

    kind: DocumentKind = Field(
        description="The kind of document: " + ", ".join(f"`{k}`" for k in DOCUMENT_KINDS)
    )


class DocumentRead(BaseModel):
    """One version of one kind of a mission's documents (versions are never edited)."""

    id: uuid.UUID
    mission_id: uuid.UUID
    kind: DocumentKind
    version: int = Field(description="1, 2, …: each generation of a kind adds one.")
    title: str
    body: str = Field(description="The document as Markdown.")
    plan_version: int = Field(description="The plan version it was written from.")
    writer: str = Field(description='"local" (the local writer) or the model name.')
    notes: list[str] = Field(description="Why the local writer stood in for the model, if so.")
    author: str = Field(description="Who asked for it.")
    input_tokens: int
    output_tokens: int
    diagrams: MissionDiagramsRead | None = Field(
        default=None,
        description="A technical design's architecture and deployment diagrams, as drawn when "
        "it was written (by the model that wrote it, or the local rules).",
    )
    created_at: datetime


class DocumentVersionRead(BaseModel):
    """A version as the list shows it: everything but the body."""

    version: int
    title: str
    plan_version: int
    writer: str
    notes: list[str]
    author: str
    created_at: datetime


class DocumentKindRead(BaseModel):
    """One kind of document, what it is for, and the mission's versions of it, newest first."""

    kind: DocumentKind
    title: str
    purpose: str
    versions: list[DocumentVersionRead]


class DocumentDiffLine(BaseModel):
    """One line of a comparison: ``same``, ``added`` (in target only) or ``removed``."""

    op: Literal["same", "added", "removed"]
    text: str


class DocumentCompareRead(BaseModel):
    """Two versions of one kind compared line by line (``difflib``)."""

    kind: DocumentKind
    base: int
    target: int
    same: bool
    added: int
    removed: int
    lines: list[DocumentDiffLine]
