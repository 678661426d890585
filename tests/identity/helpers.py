"""Shared helpers for the identity tests."""

from typing import Any

from pydantic import SecretStr
from sqlalchemy import select, text

from missionctl.db.models import Event
from missionctl.domain.access import Role
from missionctl.schemas.identity import UserCreate, UserRead
from missionctl.services import ServiceContext
from missionctl.services.usecases import identity

PASSWORD = "correct horse battery staple"
ADMIN = "user:root"


async def add_user(
    ctx: ServiceContext, name: str, role: Role = Role.OPERATOR, password: str | None = PASSWORD
) -> UserRead:
    data = UserCreate(
        name=name, role=role, password=None if password is None else SecretStr(password)
    )
    return await identity.create_user(ctx, data=data, actor=ADMIN)


async def raw_rows(ctx: ServiceContext, table: str) -> list[dict[str, Any]]:
    async with ctx.read() as session:
        result = await session.execute(text(f"SELECT * FROM {table}"))
        return [dict(row._mapping) for row in result]


async def events(ctx: ServiceContext) -> list[Event]:
    async with ctx.read() as session:
        return list((await session.scalars(select(Event).order_by(Event.seq))).all())
