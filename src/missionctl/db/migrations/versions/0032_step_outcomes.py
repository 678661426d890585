"""Step runs keep their outcome: what the step produced, derived from facts (``domain.outcomes``).

A step's status says whether it ran to the end; ``step_runs.outcome`` says what that produced
(``built``, ``changed``, ``no_change``, ``merged``, ``documented``, ``ran``, ``failed``,
``skipped``, ``canceled``), or ``NULL`` while the step has not ended. The engine writes it with
the status that ends a step and clears it when a step is queued again.

Rows that already ended are filled in here by the same rule (``domain.outcomes.step_outcome``):
a status that decides alone in one ``UPDATE`` per status, succeeded steps by their agent in SQL,
and coding steps, whose outcome depends on their outputs (the diff's ``files_changed`` and the
test command's ``tests_exit_code``), read and written in batches in Python.

A plain ``ADD COLUMN`` on both databases: rebuilding ``step_runs`` on SQLite would drop the
usage triggers of revision 0016.

Revision ID: 0032
Revises: 0031
Create Date: 2026-11-26 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from missionctl.domain.outcomes import step_outcome

revision: str = "0032"
down_revision: str | Sequence[str] | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 500
_STEPS = sa.table(
    "step_runs",
    sa.column("id", sa.Uuid()),
    sa.column("status", sa.String()),
    sa.column("agent", sa.String()),
    sa.column("outputs", sa.JSON()),
    sa.column("outcome", sa.String()),
)


def upgrade() -> None:
    op.add_column("step_runs", sa.Column("outcome", sa.String(length=20), nullable=True))
    _backfill(op.get_bind())


def _backfill(bind: sa.Connection) -> None:
    """Fill in the outcome of every step that ended, as ``step_outcome`` decides it."""
    steps = _STEPS.c
    for status in ("failed", "skipped", "canceled"):
        bind.execute(sa.update(_STEPS).where(steps.status == status).values(outcome=status))
    succeeded = steps.status == "succeeded"
    bind.execute(
        sa.update(_STEPS).where(succeeded, steps.agent == "git:merge").values(outcome="merged")
    )
    for kind in ("builtin", "llm"):
        of_kind = sa.or_(steps.agent == kind, steps.agent.like(f"{kind}:%"))
        bind.execute(sa.update(_STEPS).where(succeeded, of_kind).values(outcome="documented"))
    _backfill_coding(bind)
    # Every other step that succeeded (a command, a webhook, a tool call, a gate) ran.
    bind.execute(sa.update(_STEPS).where(succeeded, steps.outcome.is_(None)).values(outcome="ran"))


def _backfill_coding(bind: sa.Connection) -> None:
    """Coding steps that succeeded, a batch at a time in id order: their outputs decide."""
    steps = _STEPS.c
    coding = sa.and_(steps.status == "succeeded", steps.agent.like("coding:%"))
    write = (
        sa.update(_STEPS)
        .where(steps.id == sa.bindparam("row_id"))
        .values(outcome=sa.bindparam("value"))
    )
    after = None
    while True:
        batch = sa.select(steps.id, steps.agent, steps.status, steps.outputs).where(coding)
        if after is not None:
            batch = batch.where(steps.id > after)
        rows = bind.execute(batch.order_by(steps.id).limit(_BATCH)).all()
        if not rows:
            return
        values = [
            {"row_id": row.id, "value": step_outcome(row.agent, row.status, row.outputs or {})}
            for row in rows
        ]
        bind.execute(write, values)
        after = rows[-1].id


def downgrade() -> None:
    op.drop_column("step_runs", "outcome")
