"""Governance: run inputs, held steps, approval details (immutable once decided), controls.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import missionctl.db.types

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DECIDED_MESSAGE = "approvals are immutable once decided and are never deleted"


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inputs", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("step_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hold_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mission_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("step_id", sa.String(length=100), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("attempt", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(
            sa.Column("agent", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("risk_tier", sa.String(length=20), nullable=False, server_default="read")
        )
        batch_op.add_column(sa.Column("inputs", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(
            sa.Column("estimate_micros", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.create_index(batch_op.f("ix_approvals_mission_id"), ["mission_id"], unique=False)
        batch_op.create_index("ix_approvals_decision_requested_at", ["decision", "requested_at"])
    op.create_table(
        "controls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("emergency_stop", sa.Boolean(), nullable=False),
        sa.Column("stopped_by", sa.String(length=200), nullable=True),
        sa.Column("stopped_at", missionctl.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", missionctl.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_controls")),
    )
    op.execute(
        "INSERT INTO controls (id, emergency_stop, version, updated_at) "
        "VALUES (1, false, 0, CURRENT_TIMESTAMP)"
    )
    _create_approval_triggers()


def downgrade() -> None:
    _drop_approval_triggers()
    op.drop_table("controls")
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.drop_index("ix_approvals_decision_requested_at")
        batch_op.drop_index(batch_op.f("ix_approvals_mission_id"))
        for column in (
            "estimate_micros",
            "inputs",
            "risk_tier",
            "agent",
            "attempt",
            "step_id",
            "mission_id",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("step_runs", schema=None) as batch_op:
        batch_op.drop_column("hold_reason")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("inputs")


def _create_approval_triggers() -> None:
    """Make the database refuse to rewrite a decision or delete an approval, whoever connects."""
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION approvals_decided_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'DELETE' OR OLD.decision IS NOT NULL THEN
                    RAISE EXCEPTION '{DECIDED_MESSAGE}' USING ERRCODE = 'insufficient_privilege';
                END IF;
                RETURN NEW;
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER approvals_immutable BEFORE UPDATE OR DELETE ON approvals "
            "FOR EACH ROW EXECUTE FUNCTION approvals_decided_immutable()"
        )
    else:
        op.execute(
            "CREATE TRIGGER approvals_no_update_decided BEFORE UPDATE ON approvals "
            f"WHEN OLD.decision IS NOT NULL BEGIN SELECT RAISE(ABORT, '{DECIDED_MESSAGE}'); END"
        )
        op.execute(
            "CREATE TRIGGER approvals_no_delete BEFORE DELETE ON approvals "
            f"BEGIN SELECT RAISE(ABORT, '{DECIDED_MESSAGE}'); END"
        )


def _drop_approval_triggers() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS approvals_immutable ON approvals")
        op.execute("DROP FUNCTION IF EXISTS approvals_decided_immutable()")
    else:
        op.execute("DROP TRIGGER IF EXISTS approvals_no_update_decided")
        op.execute("DROP TRIGGER IF EXISTS approvals_no_delete")
