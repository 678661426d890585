"""An approval records the person who decided it beside the actor that did.

A decision made with an API token was recorded as ``token:NAME`` alone: who owns the token
could be found only in the tokens table. ``approvals.decided_by_user`` holds the person
(the user of ``user:NAME``, the owner of ``token:NAME``; empty for Mission Control itself).

Rows decided before are filled in the same way: a ``user:NAME`` actor is that user, a
``token:NAME`` actor the token's owner (tokens are never deleted, so it is always found).
A decided approval is immutable (revision 0003's trigger): the trigger that guards updates
is set aside for this one statement, which adds who decided and changes no decision.

Revision ID: 0035
Revises: 0034
Create Date: 2026-11-27 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035"
down_revision: str | Sequence[str] | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_APPROVALS = sa.table(
    "approvals",
    sa.column("decided_by", sa.String()),
    sa.column("decided_by_user", sa.String()),
)
_TOKENS = sa.table("api_tokens", sa.column("name", sa.String()), sa.column("user_id", sa.Uuid()))
_USERS = sa.table("users", sa.column("id", sa.Uuid()), sa.column("name", sa.String()))


_POSTGRES_GUARD = (
    "CREATE TRIGGER approvals_immutable BEFORE UPDATE OR DELETE ON approvals "
    "FOR EACH ROW EXECUTE FUNCTION approvals_decided_immutable()"
)
_SQLITE_GUARD = (
    "CREATE TRIGGER approvals_no_update_decided BEFORE UPDATE ON approvals "
    "WHEN OLD.decision IS NOT NULL BEGIN SELECT RAISE(ABORT, "
    "'approvals are immutable once decided and are never deleted'); END"
)


def upgrade() -> None:
    op.add_column("approvals", sa.Column("decided_by_user", sa.String(length=200)))
    postgres = op.get_context().dialect.name == "postgresql"
    if postgres:
        op.execute("DROP TRIGGER approvals_immutable ON approvals")
    else:
        op.execute("DROP TRIGGER approvals_no_update_decided")
    _fill_in_deciders()
    op.execute(_POSTGRES_GUARD if postgres else _SQLITE_GUARD)


def _fill_in_deciders() -> None:
    decided_by = _APPROVALS.c.decided_by
    bind = op.get_bind()
    # "user:NAME" → NAME (the prefix is five characters).
    bind.execute(
        sa.update(_APPROVALS)
        .where(decided_by.like("user:%"))
        .values(decided_by_user=sa.func.substr(decided_by, 6))
    )
    owner = (
        sa.select(_USERS.c.name)
        .join(_TOKENS, _TOKENS.c.user_id == _USERS.c.id)
        .where(decided_by == sa.literal("token:") + _TOKENS.c.name)
        .scalar_subquery()
    )
    bind.execute(
        sa.update(_APPROVALS).where(decided_by.like("token:%")).values(decided_by_user=owner)
    )


def downgrade() -> None:
    op.drop_column("approvals", "decided_by_user")
