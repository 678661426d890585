"""Usage by UTC day, agent and billed model, kept by the database as steps change (ADR 0048).

The system-wide cost breakdown summed every row of ``step_runs`` on each request: at 100,000
steps that was 150 to 250 ms on SQLite, and it grows with the history. It now reads:

- ``usage_days``: the steps, tokens and spend per (UTC day, agent, model) of every step whose
  spend is dated (``coalesce(ended_at, started_at)`` is set, as ``repositories.costs`` dates
  it); ``model`` is ``''`` for steps billed at none;
- ``usage_deltas``: what changed since the last fold, one row per change, written by the
  triggers below. Readers add the deltas to the days, so the sums are exact at any moment;
  ``repositories.costs.fold_usage_deltas`` moves them into ``usage_days`` (the server does it
  every second).

Triggers on ``step_runs`` insert a delta when a row's contribution changes: on insert and
delete of a dated row, and on an update that moves it to another day or changes its agent,
model, tokens or spend (one row out, one row in). An update that changes none of these (most
of the engine's: a status, a lease, an end on the day the step started with no usage) writes
nothing. Deltas are inserted, never updated, so two engines' transactions never wait for each
other on a shared sum (on PostgreSQL a row per day and agent would be locked until commit).

Rows already in ``step_runs`` are summed into ``usage_days`` here. A later revision that
rebuilds ``step_runs`` on SQLite (``batch_alter_table``) drops these triggers with the table
and must create them again (``create_triggers``).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-23 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FIGURES = ("steps", "input_tokens", "output_tokens", "cost_micros")
_COLUMNS = "day, agent, model, steps, input_tokens, output_tokens, cost_micros"
_WATCHED = (
    "started_at, ended_at, agent, model, input_tokens, output_tokens, cost_micros, "
    "earlier_input_tokens, earlier_output_tokens, earlier_cost_micros"
)


def _figure_columns() -> list[sa.Column[int]]:
    return [sa.Column(name, sa.BigInteger(), nullable=False) for name in _FIGURES]


def upgrade() -> None:
    op.create_table(
        "usage_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("agent", sa.String(length=200), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        *_figure_columns(),
        sa.PrimaryKeyConstraint("day", "agent", "model"),
    )
    op.create_table(
        "usage_deltas",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("agent", sa.String(length=200), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        *_figure_columns(),
    )
    create_triggers(op.get_context().dialect.name)
    op.execute(
        f"INSERT INTO usage_days ({_COLUMNS}) "
        f"SELECT {_sums('step_runs', op.get_context().dialect.name)} "
        f"FROM step_runs WHERE {_dated('step_runs')} GROUP BY 1, 2, 3"
    )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER step_runs_usage_insert ON step_runs")
        op.execute("DROP TRIGGER step_runs_usage_update ON step_runs")
        op.execute("DROP TRIGGER step_runs_usage_delete ON step_runs")
        op.execute("DROP FUNCTION step_runs_usage_delta()")
    else:
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER step_runs_usage_{name}")
    op.drop_table("usage_deltas")
    op.drop_table("usage_days")


def _dated(row: str) -> str:
    return f"coalesce({row}.ended_at, {row}.started_at) IS NOT NULL"


def _day(row: str, dialect: str) -> str:
    """The UTC day a row's spend is dated in, as the ``day`` column stores it."""
    moment = f"coalesce({row}.ended_at, {row}.started_at)"
    if dialect == "postgresql":
        return f"({moment} AT TIME ZONE 'UTC')::date"
    return f"substr({moment}, 1, 10)"  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff', UTC


def _figures(row: str) -> list[str]:
    """A row's tokens in, tokens out and spend, every attempt's."""
    return [
        f"{row}.{name} + {row}.earlier_{name}"
        for name in ("input_tokens", "output_tokens", "cost_micros")
    ]


def _contribution(row: str, dialect: str, sign: int) -> str:
    """The values of the delta that adds (``sign`` 1) or takes away (-1) the row ``row``."""
    minus = "-" if sign < 0 else ""
    group = [_day(row, dialect), f"{row}.agent", f"coalesce({row}.model, '')"]
    return ", ".join([*group, str(sign), *(f"{minus}({f})" for f in _figures(row))])


def _sums(table: str, dialect: str) -> str:
    """The values of ``usage_days`` rows summing ``table``'s rows, grouped by the first three."""
    group = [_day(table, dialect), f"{table}.agent", f"coalesce({table}.model, '')"]
    return ", ".join([*group, "count(*)", *(f"sum({f})" for f in _figures(table))])


def _changed(dialect: str) -> str:
    """Whether an update moved a row's contribution (its day, group or figures)."""
    differs = "IS DISTINCT FROM" if dialect == "postgresql" else "IS NOT"
    pairs = [
        (_day("OLD", dialect), _day("NEW", dialect)),
        ("OLD.agent", "NEW.agent"),
        ("OLD.model", "NEW.model"),
        *zip(_figures("OLD"), _figures("NEW"), strict=True),
    ]
    return " OR ".join(f"({old}) {differs} ({new})" for old, new in pairs)


def create_triggers(dialect: str) -> None:
    """The triggers that write a delta for each change of a step's contribution."""
    if dialect == "postgresql":
        _create_postgresql_triggers()
        return
    into = f"INSERT INTO usage_deltas ({_COLUMNS})"
    op.execute(
        f"CREATE TRIGGER step_runs_usage_insert AFTER INSERT ON step_runs "
        f"WHEN {_dated('NEW')} BEGIN {into} VALUES ({_contribution('NEW', dialect, 1)}); END"
    )
    op.execute(
        f"CREATE TRIGGER step_runs_usage_delete AFTER DELETE ON step_runs "
        f"WHEN {_dated('OLD')} BEGIN {into} VALUES ({_contribution('OLD', dialect, -1)}); END"
    )
    op.execute(
        f"CREATE TRIGGER step_runs_usage_update AFTER UPDATE OF {_WATCHED} ON step_runs "
        f"WHEN {_changed(dialect)} BEGIN "
        f"{into} SELECT {_contribution('OLD', dialect, -1)} WHERE {_dated('OLD')}; "
        f"{into} SELECT {_contribution('NEW', dialect, 1)} WHERE {_dated('NEW')}; END"
    )


def _create_postgresql_triggers() -> None:
    into = f"INSERT INTO usage_deltas ({_COLUMNS})"
    op.execute(
        f"""
        CREATE FUNCTION step_runs_usage_delta() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' AND {_dated("OLD")} THEN
                {into} VALUES ({_contribution("OLD", "postgresql", -1)});
            END IF;
            IF TG_OP <> 'DELETE' AND {_dated("NEW")} THEN
                {into} VALUES ({_contribution("NEW", "postgresql", 1)});
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        f"CREATE TRIGGER step_runs_usage_insert AFTER INSERT ON step_runs FOR EACH ROW "
        f"WHEN ({_dated('NEW')}) EXECUTE FUNCTION step_runs_usage_delta()"
    )
    op.execute(
        f"CREATE TRIGGER step_runs_usage_delete AFTER DELETE ON step_runs FOR EACH ROW "
        f"WHEN ({_dated('OLD')}) EXECUTE FUNCTION step_runs_usage_delta()"
    )
    op.execute(
        f"CREATE TRIGGER step_runs_usage_update AFTER UPDATE OF {_WATCHED} ON step_runs "
        f"FOR EACH ROW WHEN ({_changed('postgresql')}) EXECUTE FUNCTION step_runs_usage_delta()"
    )
