"""Artifact names are unique within a run.

Two artifacts of one run could share a name (two tasks of a plan both wrote ``test-plan.md``;
a run that ended twice had two ``report.md``), so a list of a run's artifacts could not tell
them apart. New names are made unique when they are stored (``domain.artifact_names``); this
revision renames the duplicates already stored by the same rule, keeping the first (oldest) of
each name, and adds a unique index on ``(run_id, name)``. Their ``artifact.created`` events
keep the name they had: the event log is never rewritten.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ARTIFACTS = sa.table(
    "artifacts",
    sa.column("id", sa.Uuid()),
    sa.column("run_id", sa.Uuid()),
    sa.column("step_run_id", sa.Uuid()),
    sa.column("name", sa.String(300)),
    sa.column("created_at", sa.DateTime()),
)
_STEP_RUNS = sa.table("step_runs", sa.column("id", sa.Uuid()), sa.column("step_id", sa.String()))


def _distinct(name: str, taken: set[str], owner: str | None) -> str:
    """The rule of ``domain.artifact_names.distinct_name``, frozen as of this revision."""
    folder, slash, base = name.rpartition("/")
    stem, dot, extension = base.rpartition(".")
    if not dot or not stem or not extension.isalnum() or len(extension) > 8:
        stem, extension = base, ""
    else:
        extension = "." + extension
    folder += slash

    def join(head: str, tail: str) -> str:
        prefix, room = folder, 300 - len(folder) - len(tail) - len(extension)
        if room < 1:
            prefix, room = "", 300 - len(tail) - len(extension)
        return prefix + head[:room] + tail + extension

    if owner:
        candidate = join(owner, f"-{stem}" if stem else "")
        if candidate not in taken:
            return candidate
        stem = f"{owner}-{stem}" if stem else owner
    counter = 2
    while (candidate := join(stem, f"-{counter}" if stem else str(counter))) in taken:
        counter += 1
    return candidate


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_ARTIFACTS.c.id, _ARTIFACTS.c.run_id, _ARTIFACTS.c.name, _STEP_RUNS.c.step_id)
        .select_from(_ARTIFACTS.outerjoin(_STEP_RUNS, _STEP_RUNS.c.id == _ARTIFACTS.c.step_run_id))
        .where(_ARTIFACTS.c.run_id.is_not(None))
        .order_by(_ARTIFACTS.c.run_id, _ARTIFACTS.c.created_at, _ARTIFACTS.c.id)
    ).all()
    names: dict[object, set[str]] = {}
    for row in rows:
        names.setdefault(row.run_id, set()).add(row.name)
    kept: dict[object, set[str]] = {}
    for row in rows:
        seen = kept.setdefault(row.run_id, set())
        if row.name not in seen:
            seen.add(row.name)
            continue
        # Free in the run: neither kept so far nor the name of any other stored artifact.
        new = _distinct(row.name, names[row.run_id] | seen, row.step_id)
        seen.add(new)
        names[row.run_id].add(new)
        connection.execute(sa.update(_ARTIFACTS).where(_ARTIFACTS.c.id == row.id).values(name=new))
    op.create_index("uq_artifacts_run_id_name", "artifacts", ["run_id", "name"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_artifacts_run_id_name", table_name="artifacts")
