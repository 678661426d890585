"""Alembic environment: runs on the connection handed over by ``missionctl.db.migrate``."""

from alembic import context

from missionctl.db.base import Base
from missionctl.db.models import UNMAPPED_TABLES

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `missionctl db upgrade` (it supplies the connection)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
    render_as_batch=True,
    compare_type=True,
    # The search index has no model (ADR 0041): autogenerate must not drop it.
    include_name=lambda name, kind, _parents: kind != "table" or name not in UNMAPPED_TABLES,
)
with context.begin_transaction():
    context.run_migrations()
