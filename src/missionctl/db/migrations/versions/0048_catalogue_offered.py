"""The model catalogue learns what the endpoint offers (ADR 0119).

``missionctl models sync`` asks the configured endpoint for its models (``GET /models``):
``offered`` says whether it listed the model then, ``listed_at`` when that was. Routing never
chooses a model the endpoint did not list.

Revision ID: 0048
Revises: 0047
Create Date: 2026-11-29 06:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from missionctl.db.types import UTCDateTime

revision: str = "0048"
down_revision: str | Sequence[str] | None = "0047"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("model_catalogue") as batch:
        batch.add_column(sa.Column("offered", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("listed_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("model_catalogue") as batch:
        batch.drop_column("listed_at")
        batch.drop_column("offered")
