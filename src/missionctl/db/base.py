"""The declarative base every ORM class derives from, and the columns most tables share."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, MetaData, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from missionctl.db.types import UTCDateTime, utcnow
from missionctl.domain.ids import new_id

# Deterministic constraint names, so that migrations can name what they alter on both dialects.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base: naming convention plus the portable type for each Python annotation."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute as is
        uuid.UUID: Uuid(),
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
        list[dict[str, Any]]: JSON(),
        int: BigInteger(),
    }


def id_column() -> Mapped[uuid.UUID]:
    """A UUIDv7 primary key, made when the row is: ``ORDER BY id`` is creation order."""
    return mapped_column(primary_key=True, default=new_id)


def created_column() -> Mapped[datetime]:
    """When the row was made (UTC)."""
    return mapped_column(default=utcnow)


def updated_column() -> Mapped[datetime]:
    """When the row last changed (UTC), moved on by every ORM update."""
    return mapped_column(default=utcnow, onupdate=utcnow)
