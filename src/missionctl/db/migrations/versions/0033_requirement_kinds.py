"""Requirements say what they are: ``feature``, ``constraint`` or ``quality``.

A plan shows the goal's constraints apart from its features (the plan page, the CLI, the
documents), so each requirement row carries its kind (``schemas.plans.RequirementKind``).

Rows stored before are filled in from what their text shows: the local planner wrote the
goal's unrecognised constraints as ``Constraint: …`` or ``Further constraints: …``; every other
row becomes ``feature``, the only kind a plan had until now. A plain ``ADD COLUMN`` with a
default, on both databases.

Revision ID: 0033
Revises: 0032
Create Date: 2026-11-27 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033"
down_revision: str | Sequence[str] | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REQUIREMENTS = sa.table(
    "requirements", sa.column("text", sa.Text()), sa.column("kind", sa.String())
)


def upgrade() -> None:
    op.add_column(
        "requirements",
        sa.Column("kind", sa.String(length=20), nullable=False, server_default="feature"),
    )
    text = _REQUIREMENTS.c.text
    op.get_bind().execute(
        sa.update(_REQUIREMENTS)
        .where(sa.or_(text.like("Constraint: %"), text.like("Further constraints: %")))
        .values(kind="constraint")
    )


def downgrade() -> None:
    op.drop_column("requirements", "kind")
