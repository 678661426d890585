"""ORM class of the model catalogue that routing chooses from (ADR 0119, revision 0046)."""

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from missionctl.db.base import Base, updated_column


class CatalogueEntry(Base):
    """An admin's settings for one model: whether routing may choose it, and what it can do.

    A ``None`` figure is one nobody set: the context then comes from the price table, and an
    unknown tier leaves the model to earn roles by its record (``domain.routing``).
    """

    __tablename__ = "model_catalogue"

    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    routable: Mapped[bool] = mapped_column(Boolean, default=False)
    tier: Mapped[int | None] = mapped_column(Integer)
    context_tokens: Mapped[int | None] = mapped_column(Integer)
    tool_use: Mapped[bool | None] = mapped_column(Boolean)
    # Whether the endpoint listed the model when its models were last synced (``None``: never
    # synced); routing never chooses a model the endpoint did not list (migration 0048).
    offered: Mapped[bool | None] = mapped_column(Boolean)
    listed_at: Mapped[datetime | None]
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = updated_column()
