"""Persistence: ORM classes, the database handle, and the one Alembic migration chain."""

from missionctl.db.database import Database

__all__ = ["Database"]
