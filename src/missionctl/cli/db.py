"""``missionctl db …``: schema migrations."""

from typing import TYPE_CHECKING, Annotated

import typer

from missionctl.cli._runtime import console, load_settings

if TYPE_CHECKING:
    from missionctl.db import Database

app = typer.Typer(help="Manage the database schema.", no_args_is_help=True)


def _database(*, create_home: bool = False) -> "Database":
    """The database of the data directory (see ``load_settings``): only ``upgrade`` creates one."""
    from missionctl.db import Database
    from missionctl.services.runtime.context import make_home

    settings = load_settings(create_home=create_home)
    make_home(settings.home)  # a MISSIONCTL_HOME not made yet, and its stop signal
    return Database(settings.database_url, busy_timeout_ms=settings.database.busy_timeout_ms)


@app.command()
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Upgrade the schema (the server also does this on start).

    Data: MISSIONCTL_HOME, else the nearest .missionctl in this directory or its parents, else
    a new ./.missionctl (the command says where it created it).
    """
    import asyncio

    from missionctl.db.migrate import current_revision, upgrade_database

    async def go() -> str | None:
        db = _database(create_home=True)
        try:
            await upgrade_database(db, revision)
            return await current_revision(db)
        finally:
            await db.dispose()

    console.print(f"database at revision {asyncio.run(go())}")


@app.command()
def downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision; `base` removes every table.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Downgrade the schema. Data in dropped tables is lost."""
    if not yes:
        typer.confirm(f"Downgrade the database to {revision}? Data may be lost.", abort=True)
    import asyncio

    from missionctl.db.migrate import current_revision, downgrade_database

    async def go() -> str | None:
        db = _database()
        try:
            await downgrade_database(db, revision)
            return await current_revision(db)
        finally:
            await db.dispose()

    console.print(f"database at revision {asyncio.run(go()) or 'base (empty)'}")


@app.command()
def current() -> None:
    """Show the database's revision and the code's."""
    import asyncio

    from missionctl.db.migrate import current_revision, head_revision

    async def go() -> str | None:
        db = _database()
        try:
            return await current_revision(db)
        finally:
            await db.dispose()

    console.print(f"database: {asyncio.run(go()) or 'empty'}   code: {head_revision()}")
