"""Artifact contracts: outputs kept in the blob store, and where they came from."""

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class ArtifactRead(BaseModel):
    """An artifact as clients see it (its content is fetched separately)."""

    id: uuid.UUID
    mission_id: uuid.UUID | None
    run_id: uuid.UUID | None
    step_id: str | None = Field(description="The step that produced it; null for run reports.")
    kind: str = Field(description="markdown, json, diff, file, link, log or report.")
    name: str = Field(description="File name, e.g. api-contract.md.")
    asked_name: str | None = Field(
        default=None,
        description="The name its producer gave it, when an earlier artifact of the run had "
        "that name and this one was stored as `name` (e.g. `answer.md` stored as "
        "`review-answer.md`); null when it kept its name.",
    )
    media_type: str
    sha256: str = Field(description="Digest of the content (the blob's name).")
    size: int = Field(description="Content length in bytes.")
    created_at: datetime
