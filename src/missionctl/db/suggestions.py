"""ORM class of the workflow suggestions people applied (ADR 0120, revision 0047)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from missionctl.db.base import Base, created_column, id_column


class AppliedSuggestion(Base):
    """A suggestion someone applied: the version it edited, the one it made, what it expected.

    Open suggestions are not stored: they are derived from the history whenever they are read.
    What an applied one did is read from the runs of the two versions (``measured``).
    """

    __tablename__ = "applied_suggestions"

    id: Mapped[uuid.UUID] = id_column()
    workflow: Mapped[str] = mapped_column(String(200), index=True)
    key: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    step_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(Text)
    why: Mapped[str] = mapped_column(Text)
    predicted: Mapped[dict[str, Any]] = mapped_column(default=dict)
    base_workflow_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflows.id"))
    applied_workflow_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workflows.id"))
    applied_by: Mapped[str] = mapped_column(String(200))
    applied_at: Mapped[datetime] = created_column()
