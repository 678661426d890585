"""Users and passwords on both databases: argon2id only, verify/reject, roles, disabling."""

import pytest
from argon2 import PasswordHasher
from pydantic import SecretStr, ValidationError
from sqlalchemy import update

from missionctl.db.accounts import User
from missionctl.domain.access import Role
from missionctl.errors import Conflict, NotFound, ValidationFailed
from missionctl.schemas.identity import UserCreate
from missionctl.services import ServiceContext
from missionctl.services.usecases import identity
from tests.identity.helpers import ADMIN, PASSWORD, add_user, events, raw_rows


async def test_create_list_and_read(ctx: ServiceContext) -> None:
    ada = await add_user(ctx, "ada", Role.APPROVER)
    await add_user(ctx, "bob", Role.VIEWER, password=None)
    assert ada.role is Role.APPROVER and ada.has_password and not ada.disabled
    users = await identity.list_users(ctx)
    assert [(u.name, u.role, u.has_password) for u in users] == [
        ("ada", Role.APPROVER, True),
        ("bob", Role.VIEWER, False),
    ]
    assert (await identity.read_user(ctx, name="ada")).id == ada.id
    assert not {"password", "password_hash"} & set(ada.model_dump())
    created = [e for e in await events(ctx) if e.type == "user.created"]
    assert [(e.actor, e.payload["name"], e.payload["role"]) for e in created] == [
        (ADMIN, "ada", "approver"),
        (ADMIN, "bob", "viewer"),
    ]


async def test_passwords_are_stored_as_argon2id_only(ctx: ServiceContext) -> None:
    await add_user(ctx, "ada")
    [row] = await raw_rows(ctx, "users")
    assert row["password_hash"].startswith("$argon2id$")
    assert all(PASSWORD not in str(value) for value in row.values())


async def test_duplicate_name_is_a_conflict_naming_the_field(ctx: ServiceContext) -> None:
    await add_user(ctx, "ada")
    with pytest.raises(Conflict) as caught:
        await add_user(ctx, "ada", Role.ADMIN)
    assert caught.value.field == "name"
    assert len(await identity.list_users(ctx)) == 1


@pytest.mark.parametrize("password", ["short", "x" * 1025])
async def test_password_length_is_checked(ctx: ServiceContext, password: str) -> None:
    with pytest.raises(ValidationError) as caught:  # by the contract, as its schema says
        await add_user(ctx, "ada", password=password)
    assert caught.value.errors()[0]["loc"] == ("password",)
    assert caught.value.errors()[0]["msg"] == "must be 12 to 1024 characters long"
    assert await identity.list_users(ctx) == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "Ada Lovelace"}, "name"),
        ({"name": ""}, "name"),
        ({"name": "ada", "role": "root"}, "role"),
        ({"name": "ada", "is_admin": True}, "is_admin"),
    ],
)
def test_user_input_errors_name_the_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        UserCreate.model_validate(fields)
    assert caught.value.errors()[0]["loc"] == (field,)


async def test_verify_password(ctx: ServiceContext) -> None:
    await add_user(ctx, "ada")
    assert await identity.verify_password(ctx, name="ada", password="wrong password!") is None
    assert await identity.verify_password(ctx, name="nobody", password=PASSWORD) is None
    user = await identity.verify_password(ctx, name=" Ada ", password=PASSWORD)
    assert user is not None and user.name == "ada" and user.last_sign_in_at is not None
    [signed_in] = [e for e in await events(ctx) if e.type == "user.signed_in"]
    assert signed_in.actor == "user:ada" and signed_in.payload == {
        "name": "ada",
        "method": "password",
    }


async def test_unknown_and_passwordless_users_still_cost_a_verification(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    await add_user(ctx, "bob", password=None)
    calls: list[str] = []
    real = identity._password_matches

    def counting(stored: str, password: str) -> bool:
        calls.append(stored)
        return real(stored, password)

    monkeypatch.setattr(identity, "_password_matches", counting)
    assert await identity.verify_password(ctx, name="nobody", password=PASSWORD) is None
    assert await identity.verify_password(ctx, name="bob", password=PASSWORD) is None
    assert len(calls) == 2 and all(c.startswith("$argon2id$") for c in calls)


async def test_disabled_users_never_verify(ctx: ServiceContext) -> None:
    await add_user(ctx, "ada")
    await add_user(ctx, "root", Role.ADMIN)
    disabled = await identity.disable_user(ctx, name="ada", actor=ADMIN)
    assert disabled.disabled
    assert await identity.verify_password(ctx, name="ada", password=PASSWORD) is None
    # Disabling twice changes nothing and records nothing more.
    await identity.disable_user(ctx, name="ada", actor=ADMIN)
    assert [e.type for e in await events(ctx)].count("user.disabled") == 1


async def test_a_hash_with_old_parameters_is_replaced_on_sign_in(ctx: ServiceContext) -> None:
    user = await add_user(ctx, "ada")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    async with ctx.write() as session:
        await session.execute(update(User).where(User.id == user.id).values(password_hash=weak))
    assert await identity.verify_password(ctx, name="ada", password=PASSWORD) is not None
    [row] = await raw_rows(ctx, "users")
    assert row["password_hash"] != weak
    assert not PasswordHasher().check_needs_rehash(row["password_hash"])
    assert await identity.verify_password(ctx, name="ada", password=PASSWORD) is not None


async def test_set_password(ctx: ServiceContext) -> None:
    await add_user(ctx, "ada", password=None)
    new = "a new and long password"
    updated = await identity.set_password(ctx, name="ada", password=SecretStr(new), actor=ADMIN)
    assert updated.has_password
    assert await identity.verify_password(ctx, name="ada", password=new) is not None
    with pytest.raises(ValidationFailed) as caught:
        await identity.set_password(ctx, name="ada", password=SecretStr("short"), actor=ADMIN)
    assert caught.value.field == "password"
    with pytest.raises(NotFound):
        await identity.set_password(ctx, name="nobody", password=SecretStr(new), actor=ADMIN)


async def test_set_role(ctx: ServiceContext) -> None:
    await add_user(ctx, "ada", Role.VIEWER)
    user = await identity.set_role(ctx, name="ada", role=Role.APPROVER, actor=ADMIN)
    assert user.role is Role.APPROVER
    [changed] = [e for e in await events(ctx) if e.type == "user.role_changed"]
    assert changed.payload == {
        "name": "ada",
        "from": "viewer",
        "to": "approver",
        "sessions_ended": 0,
    }
    with pytest.raises(NotFound) as caught:
        await identity.set_role(ctx, name="nobody", role=Role.ADMIN, actor=ADMIN)
    assert caught.value.field == "name"


async def test_the_last_enabled_admin_cannot_be_demoted_or_disabled(ctx: ServiceContext) -> None:
    await add_user(ctx, "root", Role.ADMIN)
    with pytest.raises(Conflict) as demote:
        await identity.set_role(ctx, name="root", role=Role.OPERATOR, actor=ADMIN)
    assert demote.value.field == "role"
    with pytest.raises(Conflict) as disable:
        await identity.disable_user(ctx, name="root", actor=ADMIN)
    assert disable.value.field == "name"
    await add_user(ctx, "second", Role.ADMIN)
    await identity.set_role(ctx, name="root", role=Role.OPERATOR, actor=ADMIN)
    assert (await identity.read_user(ctx, name="root")).role is Role.OPERATOR
