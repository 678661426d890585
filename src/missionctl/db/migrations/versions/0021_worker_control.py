"""The control plane steers workers through their rows, and a worker that goes offline is told once.

New columns of ``workers`` (ADR 0058):

- what the engine reports at each heartbeat: ``capabilities`` (the agent names and kinds it
  serves, at registration), ``state`` (``running`` or ``draining``), the steps it holds
  (``held_steps``, ``held_count``) and its utilisation over the last 5 minutes and hour
  (``utilisation_5m``, ``utilisation_1h``, percent of its slot-seconds);
- what the control plane asks of it, read back by the heartbeat: ``desired_state`` (``run``,
  ``drain``, ``stop``), ``desired_concurrency`` (null: keep its own), and who asked last and
  when (``commanded_by``, ``commanded_at``);
- ``offline_reported_at``: set, only while null, in the transaction that appends the worker's
  ``worker.offline`` event, so that event is appended once however many processes notice.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-24 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import missionctl.db.types

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEW = (
    "capabilities",
    "state",
    "held_steps",
    "held_count",
    "utilisation_5m",
    "utilisation_1h",
    "desired_state",
    "desired_concurrency",
    "commanded_by",
    "commanded_at",
    "offline_reported_at",
)


def upgrade() -> None:
    moment = missionctl.db.types.UTCDateTime(timezone=True)
    with op.batch_alter_table("workers") as batch:
        batch.add_column(sa.Column("capabilities", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(
            sa.Column("state", sa.String(length=20), nullable=False, server_default="running")
        )
        batch.add_column(sa.Column("held_steps", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("held_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("utilisation_5m", sa.Float(), nullable=True))
        batch.add_column(sa.Column("utilisation_1h", sa.Float(), nullable=True))
        batch.add_column(
            sa.Column("desired_state", sa.String(length=20), nullable=False, server_default="run")
        )
        batch.add_column(sa.Column("desired_concurrency", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("commanded_by", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("commanded_at", moment, nullable=True))
        batch.add_column(sa.Column("offline_reported_at", moment, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workers") as batch:
        for column in reversed(_NEW):
            batch.drop_column(column)
