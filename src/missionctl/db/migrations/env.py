"""Alembic environment: runs on the connection handed over by ``missionctl.db.migrate``."""

from alembic import context

import missionctl.db.models  # noqa: F401 - registers every table on the metadata
from missionctl.db.base import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `missionctl db upgrade` (it supplies the connection)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
