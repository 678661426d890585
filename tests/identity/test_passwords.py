"""Passwords are checked against the common-password list, repetition and the user's name."""

import httpx2
import pytest
from pydantic import SecretStr

from missionctl.domain.access import Role
from missionctl.errors import ValidationFailed
from missionctl.services import ServiceContext
from missionctl.services.usecases import identity
from missionctl.services.usecases.passwords import common_passwords, password_problem
from tests.identity.helpers import PASSWORD, add_user, events

REFUSED = [
    ("aaaaaaaaaaaa", "fewer than 5 different characters"),
    ("password1234", "10,000 most common"),
    ("PassWord1234", "10,000 most common"),
    ("iloveyou2024!!", "common password with digits or symbols added"),
    ("ada-lovelace-1815", "contains the user's name"),
    ("xX_ADA_Xx-rocks", "contains the user's name"),
]


def test_the_bundled_list_holds_the_ten_thousand_most_common() -> None:
    listed = common_passwords()
    assert len(listed) == 10_000
    assert {"123456", "password", "qwerty", "password1234"} <= listed
    assert PASSWORD not in listed


@pytest.mark.parametrize(("password", "reason"), REFUSED)
async def test_a_weak_password_is_refused_with_its_reason(
    ctx: ServiceContext, password: str, reason: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await add_user(ctx, "ada", password=password)
    assert caught.value.field == "password" and reason in caught.value.message
    assert await identity.list_users(ctx) == []  # nothing changed


async def test_set_password_refuses_a_weak_one_and_keeps_the_old(ctx: ServiceContext) -> None:
    await add_user(ctx, "ada")
    for password, reason in REFUSED:
        with pytest.raises(ValidationFailed) as caught:
            await identity.set_password(
                ctx, name="ada", password=SecretStr(password), actor="system"
            )
        assert caught.value.field == "password" and reason in caught.value.message
    assert await identity.verify_password(ctx, name="ada", password=PASSWORD) is not None
    assert not [e for e in await events(ctx) if e.type == "user.password_set"]


def test_unusual_phrases_pass() -> None:
    for password in (PASSWORD, "trombone-alpha-sunset-91", "Zq8#mW2!pL0v"):
        assert password_problem(password, user_name="ada") is None
    # A name too short to be worth refusing inside a password.
    assert password_problem("a quiet harbour at dusk", user_name="al") is None


async def test_the_api_answers_422_naming_the_password(client: httpx2.AsyncClient) -> None:
    for password, reason in REFUSED:
        answer = await client.post(
            "/api/v1/users", json={"name": "ada", "role": "viewer", "password": password}
        )
        assert answer.status_code == 422, password
        error = answer.json()["error"]
        assert error["code"] == "validation_failed"
        assert error["details"][0]["field"] == "password"
        assert reason in error["details"][0]["message"]
        assert password not in answer.text
    listed = (await client.get("/api/v1/users")).json()
    assert "ada" not in {u["name"] for u in listed}


async def test_a_strong_password_is_accepted(ctx: ServiceContext) -> None:
    user = await add_user(ctx, "ada", Role.VIEWER, password="trombone-alpha-sunset-91")
    assert user.has_password
