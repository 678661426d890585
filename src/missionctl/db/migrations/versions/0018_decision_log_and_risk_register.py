"""Decisions become an editable ADR-style log and risks an editable register.

Until now only the planner wrote decisions and risks. People now add and edit them (ADR 0051),
so a decision gains what an ADR states: a number within its mission (its ADR file's), a
status (``proposed``, ``accepted``, ``superseded``), a date, its deciders, its context and
consequences, and the decision it supersedes. A risk gains an owner and the keys of the plan's
tasks that carry its mitigation. Both gain ``version`` (every edit states the version it read,
so a stale edit is refused) and ``updated_at``.

Existing rows are the planner's: their decisions were taken when the plan was stored, so they
are ``accepted``, dated on the day they were created and numbered per mission in creation
order (ids are UUIDv7); risks keep their status, and one that is not a register status is
``open``.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-24 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import missionctl.db.types

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DECISIONS = sa.table(
    "decisions",
    sa.column("id", sa.Uuid()),
    sa.column("mission_id", sa.Uuid()),
    sa.column("created_at", missionctl.db.types.UTCDateTime(timezone=True)),
    sa.column("number", sa.Integer()),
    sa.column("decided_on", sa.Date()),
)


def _decision_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False, server_default="accepted"),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("deciders", sa.JSON(), nullable=False, server_default="[]"),
        sa.Column("context", sa.Text(), nullable=False, server_default=""),
        sa.Column("consequences", sa.Text(), nullable=False, server_default=""),
        sa.Column("supersedes_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("updated_at", missionctl.db.types.UTCDateTime(timezone=True), nullable=True),
    ]


def _number_decisions() -> None:
    """Number each mission's decisions in creation order and date them on their creation day."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_DECISIONS.c.id, _DECISIONS.c.mission_id, _DECISIONS.c.created_at).order_by(
            _DECISIONS.c.mission_id, _DECISIONS.c.id
        )
    ).all()
    numbers: dict[object, int] = {}
    for decision_id, mission_id, created_at in rows:
        numbers[mission_id] = numbers.get(mission_id, 0) + 1
        bind.execute(
            sa.update(_DECISIONS)
            .where(_DECISIONS.c.id == decision_id)
            .values(number=numbers[mission_id], decided_on=created_at.date())
        )


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        for column in _decision_columns():
            batch.add_column(column)
    _number_decisions()
    op.execute("UPDATE decisions SET updated_at = created_at")
    with op.batch_alter_table("decisions") as batch:
        batch.alter_column("number", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("decided_on", existing_type=sa.Date(), nullable=False)
        batch.alter_column(
            "updated_at",
            existing_type=missionctl.db.types.UTCDateTime(timezone=True),
            nullable=False,
        )
        batch.create_unique_constraint("uq_decisions_mission_id_number", ["mission_id", "number"])
        batch.create_foreign_key(
            "fk_decisions_supersedes_id_decisions", "decisions", ["supersedes_id"], ["id"]
        )

    with op.batch_alter_table("risks") as batch:
        batch.add_column(sa.Column("owner", sa.String(200), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("mitigation_tasks", sa.JSON(), nullable=False, server_default="[]")
        )
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(
            sa.Column("updated_at", missionctl.db.types.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute("UPDATE risks SET updated_at = created_at")
    op.execute(
        "UPDATE risks SET status = 'open' WHERE status NOT IN ('open', 'mitigating', 'closed')"
    )
    with op.batch_alter_table("risks") as batch:
        batch.alter_column(
            "updated_at",
            existing_type=missionctl.db.types.UTCDateTime(timezone=True),
            nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("risks") as batch:
        for name in ("updated_at", "version", "mitigation_tasks", "owner"):
            batch.drop_column(name)
    with op.batch_alter_table("decisions") as batch:
        batch.drop_constraint("fk_decisions_supersedes_id_decisions", type_="foreignkey")
        batch.drop_constraint("uq_decisions_mission_id_number", type_="unique")
        for column in reversed(_decision_columns()):
            batch.drop_column(column.name)
