"""API tokens and one-time sign-in links on both databases: hashes only, and no way back in."""

import asyncio
import hashlib
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import update

from missionctl.db.accounts import ApiToken, SignInLink
from missionctl.db.types import utcnow
from missionctl.domain.access import Identity, Role
from missionctl.errors import Conflict, NotFound, ValidationFailed
from missionctl.services import ServiceContext
from missionctl.services.usecases import identity, sign_in_links
from tests.identity.helpers import ADMIN, PASSWORD, add_user, events, raw_rows


async def test_a_token_is_shown_once_and_stored_only_as_its_sha256(ctx: ServiceContext) -> None:
    await add_user(ctx, "ada", Role.APPROVER)
    token, secret = await identity.create_token(
        ctx, user_name="ada", name="ci", role_ceiling=Role.OPERATOR, actor=ADMIN
    )
    assert secret.startswith("mc_") and len(secret) >= 43
    assert token.prefix == secret[:8] and token.role_ceiling is Role.OPERATOR
    [row] = await raw_rows(ctx, "api_tokens")
    assert row["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    # No column holds the secret (or the part of it after the listed prefix).
    for value in row.values():
        assert secret not in str(value) and secret[8:] not in str(value)
    listed = await identity.list_tokens(ctx)
    assert [t.name for t in listed] == ["ci"]
    assert (
        "hash" not in " ".join(listed[0].model_dump()) and secret not in listed[0].model_dump_json()
    )


async def test_authenticate_gives_the_lower_of_owner_role_and_ceiling(ctx: ServiceContext) -> None:
    await add_user(ctx, "ada", Role.APPROVER)
    _, capped = await identity.create_token(
        ctx, user_name="ada", name="ci", role_ceiling=Role.VIEWER, actor=ADMIN
    )
    _, full = await identity.create_token(ctx, user_name="ada", name="laptop", actor=ADMIN)
    assert await identity.authenticate_token(ctx, secret=capped) == Identity(
        actor="token:ci", user_name="ada", role=Role.VIEWER
    )
    assert await identity.authenticate_token(ctx, secret=full) == Identity(
        actor="token:laptop", user_name="ada", role=Role.APPROVER
    )
    # Demoting the owner demotes every token at once.
    await add_user(ctx, "root", Role.ADMIN)
    await identity.set_role(ctx, name="ada", role=Role.OPERATOR, actor=ADMIN)
    identity_now = await identity.authenticate_token(ctx, secret=full)
    assert identity_now is not None and identity_now.role is Role.OPERATOR


async def test_authenticate_records_the_last_use(ctx: ServiceContext) -> None:
    await add_user(ctx, "ada")
    _, secret = await identity.create_token(ctx, user_name="ada", name="ci", actor=ADMIN)
    assert (await identity.list_tokens(ctx))[0].last_used_at is None
    before = len(await events(ctx))
    assert await identity.authenticate_token(ctx, secret=secret) is not None
    used = (await identity.list_tokens(ctx, user_name="ada"))[0].last_used_at
    assert used is not None
    # Within the resolution the timestamp is not rewritten, and use is not an event.
    assert await identity.authenticate_token(ctx, secret=secret) is not None
    assert (await identity.list_tokens(ctx))[0].last_used_at == used
    assert len(await events(ctx)) == before


async def test_a_revoked_token_stops_at_once(ctx: ServiceContext) -> None:
    await add_user(ctx, "ada")
    _, secret = await identity.create_token(ctx, user_name="ada", name="ci", actor=ADMIN)
    assert await identity.authenticate_token(ctx, secret=secret) is not None
    revoked = await identity.revoke_token(ctx, name="ci", actor=ADMIN)
    assert revoked.revoked_at is not None
    assert await identity.authenticate_token(ctx, secret=secret) is None
    again = await identity.revoke_token(ctx, name="ci", actor=ADMIN)
    assert again.revoked_at == revoked.revoked_at
    assert [e.type for e in await events(ctx)].count("token.revoked") == 1
    # Names are never reused, so `token:ci` keeps meaning this token in the log.
    with pytest.raises(Conflict) as caught:
        await identity.create_token(ctx, user_name="ada", name="ci", actor=ADMIN)
    assert caught.value.field == "name"


async def test_an_expired_token_stops(ctx: ServiceContext) -> None:
    await add_user(ctx, "ada")
    token, secret = await identity.create_token(
        ctx, user_name="ada", name="ci", expires_in=timedelta(hours=1), actor=ADMIN
    )
    assert token.expires_at is not None
    assert await identity.authenticate_token(ctx, secret=secret) is not None
    async with ctx.write() as session:
        await session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert await identity.authenticate_token(ctx, secret=secret) is None


async def test_a_disabled_owners_token_stops(ctx: ServiceContext) -> None:
    await add_user(ctx, "ada")
    _, secret = await identity.create_token(ctx, user_name="ada", name="ci", actor=ADMIN)
    await identity.disable_user(ctx, name="ada", actor=ADMIN)
    assert await identity.authenticate_token(ctx, secret=secret) is None
    with pytest.raises(Conflict) as caught:
        await identity.create_token(ctx, user_name="ada", name="ci2", actor=ADMIN)
    assert caught.value.field == "user_name"


@pytest.mark.parametrize(
    "secret", ["", "mc_", "mc_unknown", "mcl_x", "Bearer mc_x", "mc_" + "a" * 500, "mc_\x00"]
)
async def test_unknown_or_malformed_secrets_do_not_authenticate(
    ctx: ServiceContext, secret: str
) -> None:
    await add_user(ctx, "ada")
    await identity.create_token(ctx, user_name="ada", name="ci", actor=ADMIN)
    assert await identity.authenticate_token(ctx, secret=secret) is None
    assert await sign_in_links.redeem_sign_in_link(ctx, secret=secret) is None


async def test_token_input_errors_name_the_field(ctx: ServiceContext) -> None:
    await add_user(ctx, "ada", Role.OPERATOR)
    with pytest.raises(ValidationFailed) as both:
        await identity.create_token(
            ctx, user_name="ada", name="Not A Slug", expires_in=timedelta(0), actor=ADMIN
        )
    assert [p.field for p in both.value.problems] == ["name", "expires_in"]
    with pytest.raises(ValidationFailed) as above:
        await identity.create_token(
            ctx, user_name="ada", name="ci", role_ceiling=Role.ADMIN, actor=ADMIN
        )
    assert above.value.field == "role_ceiling"
    with pytest.raises(NotFound) as missing:
        await identity.create_token(ctx, user_name="nobody", name="ci", actor=ADMIN)
    assert missing.value.field == "user_name"
    with pytest.raises(NotFound):
        await identity.revoke_token(ctx, name="nope", actor=ADMIN)
    with pytest.raises(NotFound):
        await identity.list_tokens(ctx, user_name="nobody")
    assert await identity.list_tokens(ctx) == []


async def test_a_sign_in_link_works_once(ctx: ServiceContext) -> None:
    await add_user(ctx, "ada", Role.APPROVER, password=None)
    secret = await sign_in_links.create_sign_in_link(ctx, user_name="ada")
    assert secret.startswith("mcl_")
    [row] = await raw_rows(ctx, "sign_in_links")
    assert row["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert all(secret not in str(value) for value in row.values())
    assert await sign_in_links.redeem_sign_in_link(ctx, secret=secret) == Identity(
        actor="user:ada", user_name="ada", role=Role.APPROVER
    )
    assert await sign_in_links.redeem_sign_in_link(ctx, secret=secret) is None
    assert (await identity.read_user(ctx, name="ada")).last_sign_in_at is not None
    [signed_in] = [e for e in await events(ctx) if e.type == "user.signed_in"]
    assert signed_in.actor == "user:ada" and signed_in.payload["method"] == "link"


async def test_concurrent_redemptions_let_exactly_one_in(ctx: ServiceContext) -> None:
    await add_user(ctx, "ada")
    secret = await sign_in_links.create_sign_in_link(ctx, user_name="ada")
    results = await asyncio.gather(
        *(sign_in_links.redeem_sign_in_link(ctx, secret=secret) for _ in range(4))
    )
    assert sum(r is not None for r in results) == 1


async def test_an_expired_link_does_not_work(ctx: ServiceContext) -> None:
    await add_user(ctx, "ada")
    secret = await sign_in_links.create_sign_in_link(ctx, user_name="ada", ttl_s=60)
    async with ctx.write() as session:
        await session.execute(
            update(SignInLink).values(expires_at=utcnow() - timedelta(milliseconds=1))
        )
    assert await sign_in_links.redeem_sign_in_link(ctx, secret=secret) is None


async def test_a_disabled_users_link_does_not_work(ctx: ServiceContext) -> None:
    await add_user(ctx, "ada")
    secret = await sign_in_links.create_sign_in_link(ctx, user_name="ada")
    await identity.disable_user(ctx, name="ada", actor=ADMIN)
    assert await sign_in_links.redeem_sign_in_link(ctx, secret=secret) is None
    with pytest.raises(Conflict) as caught:
        await sign_in_links.create_sign_in_link(ctx, user_name="ada")
    assert caught.value.field == "user_name"


@pytest.mark.parametrize("ttl_s", [0, -5, 86_401])
async def test_link_lifetime_is_checked(ctx: ServiceContext, ttl_s: int) -> None:
    await add_user(ctx, "ada")
    with pytest.raises(ValidationFailed) as caught:
        await sign_in_links.create_sign_in_link(ctx, user_name="ada", ttl_s=ttl_s)
    assert caught.value.field == "ttl_s"


async def test_no_event_carries_a_password_hash_or_secret(ctx: ServiceContext) -> None:
    """Every change of this area, then a search of every event for every secret and hash."""
    await add_user(ctx, "root", Role.ADMIN)
    await add_user(ctx, "ada", Role.APPROVER)
    new_password = "another long passphrase"
    await identity.set_password(ctx, name="ada", password=SecretStr(new_password), actor=ADMIN)
    assert await identity.verify_password(ctx, name="ada", password=new_password) is not None
    await identity.set_role(ctx, name="ada", role=Role.OPERATOR, actor=ADMIN)
    _, token_secret = await identity.create_token(
        ctx, user_name="ada", name="ci", expires_in=timedelta(days=1), actor="user:root"
    )
    assert await identity.authenticate_token(ctx, secret=token_secret) is not None
    await identity.revoke_token(ctx, name="ci", actor="user:root")
    link_secret = await sign_in_links.create_sign_in_link(ctx, user_name="ada")
    assert await sign_in_links.redeem_sign_in_link(ctx, secret=link_secret) is not None
    await identity.disable_user(ctx, name="ada", actor="user:root")

    stored = [
        *(r["password_hash"] for r in await raw_rows(ctx, "users")),
        *(r["token_hash"] for r in await raw_rows(ctx, "api_tokens")),
        *(r["token_hash"] for r in await raw_rows(ctx, "sign_in_links")),
    ]
    forbidden = [PASSWORD, new_password, token_secret, token_secret[8:], link_secret, *stored]
    logged = await events(ctx)
    assert {e.type for e in logged} >= {
        "user.created",
        "user.password_set",
        "user.signed_in",
        "user.role_changed",
        "token.created",
        "token.revoked",
        "sign_in_link.created",
        "user.disabled",
    }
    for event in logged:
        text = f"{event.actor} {event.type} {event.payload}"
        for value in forbidden:
            assert value not in text, f"{event.type} leaks a secret"
