"""The Account page: every signed-in person's own password and API tokens, and nobody else's.

A password change asks for the current password when there is one (a wrong one counts as a
failed sign-in), keeps this browser signed in and signs every other one out; a person with
no password yet (signed in by one-time link) sets one. Tokens made here are the person's own
and never above the role they act with; another person's token cannot be revoked from here.
"""

from collections.abc import AsyncIterator

import pytest

from missionctl.domain.access import Role
from missionctl.services.usecases import identity, sign_in_links
from missionctl.settings import Settings
from tests.identity.helpers import PASSWORD, add_user
from tests.web.admin_support import Site, all_event_text, events_of, running_site

NEW_PASSWORD = "violet tractor umbrella 42"


@pytest.fixture
async def site(settings: Settings) -> AsyncIterator[Site]:
    async with running_site(settings) as running:
        yield running


@pytest.mark.parametrize("role", list(Role))
async def test_every_role_has_an_account_page(site: Site, role: Role) -> None:
    async with await site.as_role(role, "pat") as pat:
        page = await pat.get("/account")
    assert page.status_code == 200
    assert "Signed in as pat" in page.text and f", {role.value} (through an API token)" in page.text
    assert 'href="/account" data-nav="account" aria-current="page"' in page.text
    assert ('href="/users"' in page.text) is (role is Role.ADMIN)
    # The ceilings offered stop at the role one acts with.
    assert f'<option value="{role.value}"' in page.text
    assert ('<option value="admin"' in page.text) is (role is Role.ADMIN)


async def test_a_password_change_needs_the_current_one_and_keeps_only_this_browser(
    site: Site,
) -> None:
    await add_user(site.ctx, "olga", Role.OPERATOR)
    async with site.browser() as here, site.browser() as elsewhere:
        assert (await here.sign_in("olga")).status_code == 303
        assert (await elsewhere.sign_in("olga")).status_code == 303
        csrf = await here.csrf("/account")
        base = {"csrf_token": csrf, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        for form, field, message, status in (
            ({**base, "current_password": "not it at all"}, "current_password", "not your", 422),
            ({**base}, "current_password", "not your current password", 422),
            ({**base, "current_password": PASSWORD, "confirm": "x"}, "confirm", "differ", 422),
            (
                {
                    **base,
                    "current_password": PASSWORD,
                    "password": "olga-olga-olga",
                    "confirm": "olga-olga-olga",
                },
                "password",
                "",
                422,
            ),
            (
                {
                    **base,
                    "current_password": PASSWORD,
                    "password": "a" * 2000,
                    "confirm": "a" * 2000,
                },
                "password",
                "",
                422,
            ),
        ):
            refused = await here.http.post("/account/password", data=form)
            assert refused.status_code == status, form
            assert f'data-field="{field}"' in refused.text and message in refused.text, form
            assert "Your password was not changed" in refused.text or status == 422
        assert await identity.verify_password(site.ctx, name="olga", password=PASSWORD)
        failures = await events_of(site.ctx, "user.sign_in_failed")
        assert len(failures) == 2 and failures[0].payload["name"] == "olga"

        no_csrf = {k: v for k, v in base.items() if k != "csrf_token"}
        missing = await here.http.post(
            "/account/password", data={**no_csrf, "current_password": PASSWORD}
        )
        assert missing.status_code == 403
        assert await identity.verify_password(site.ctx, name="olga", password=PASSWORD)

        changed = await here.http.post(
            "/account/password", data={**base, "current_password": PASSWORD}
        )
        assert (changed.status_code, changed.headers["location"]) == (
            303,
            "/account?changed=true",
        )
        page = await here.http.get("/account?changed=true")
        assert page.status_code == 200 and "Password changed" in page.text
        gone = await elsewhere.http.get("/account", headers={"accept": "text/html"})
        assert gone.status_code == 303 and gone.headers["location"].startswith("/sign-in")
    assert await identity.verify_password(site.ctx, name="olga", password=NEW_PASSWORD)
    log = await all_event_text(site.ctx)
    assert NEW_PASSWORD not in log and PASSWORD not in log


async def test_someone_without_a_password_sets_one_without_a_current_one(site: Site) -> None:
    await add_user(site.ctx, "first", Role.ADMIN, password=None)
    secret = await sign_in_links.create_sign_in_link(site.ctx, user_name="first")
    async with site.browser() as browser:
        assert (await browser.http.get(f"/sign-in?token={secret}")).status_code == 303
        page = await browser.http.get("/account")
        assert "Set a password" in page.text and 'name="current_password"' not in page.text
        csrf = await browser.csrf("/account")
        form = {"csrf_token": csrf, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        done = await browser.http.post("/account/password", data=form)
        assert done.status_code == 303
        page = await browser.http.get("/account")
        assert page.status_code == 200 and 'name="current_password"' in page.text
    assert await identity.verify_password(site.ctx, name="first", password=NEW_PASSWORD)


async def test_own_tokens_are_made_below_ones_role_and_only_ones_own_are_revoked(
    site: Site,
) -> None:
    await add_user(site.ctx, "root", Role.ADMIN)
    theirs, _ = await identity.create_token(
        site.ctx, user_name="root", name="root-ci", actor="system"
    )
    async with await site.as_role(Role.OPERATOR, "olga") as olga:
        above = await olga.post("/account/tokens", data={"name": "mine", "role_ceiling": "admin"})
        assert above.status_code == 422
        assert 'data-field="role_ceiling"' in above.text and "above your role" in above.text
        for bad, field in (
            ({"name": "<b>x</b>"}, "name"),
            ({"name": "mine", "role_ceiling": "emperor"}, "role_ceiling"),
            ({"name": "mine", "expires_in_days": "99999"}, "expires_in_days"),
            ({"name": "mine", "expires_in_days": "-1"}, "expires_in_days"),
        ):
            refused = await olga.post("/account/tokens", data=bad)
            assert refused.status_code == 422 and f'data-field="{field}"' in refused.text, bad
            assert "<b>x</b>" not in refused.text
        made = await olga.post(
            "/account/tokens",
            data={"name": "mine", "role_ceiling": "viewer", "expires_in_days": "7"},
        )
        assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
        secret = made.text.split('id="token-secret" data-secret>')[1].split("<")[0]
        page = (await olga.get("/account")).text
        assert secret not in page and 'data-token="mine"' in page
        assert 'data-token="root-ci"' not in page  # someone else's tokens are not listed

        other = await olga.post("/account/tokens/root-ci/revoke")
        assert other.status_code == 404 and "You have no token called" in other.text
        assert (await identity.list_tokens(site.ctx, user_name="root"))[0].revoked_at is None
        own = await olga.post("/account/tokens/mine/revoke")
        assert (own.status_code, own.headers["location"]) == (303, "/account")
    [mine] = [t for t in await identity.list_tokens(site.ctx, user_name="olga") if t.name == "mine"]
    assert mine.revoked_at is not None and mine.role_ceiling is Role.VIEWER
    assert theirs.revoked_at is None
    [created] = [
        e for e in await events_of(site.ctx, "token.created") if e.payload["name"] == "mine"
    ]
    assert created.actor.startswith("token:olga") and secret not in await all_event_text(site.ctx)


async def test_a_token_with_a_low_ceiling_cannot_mint_a_higher_one(site: Site) -> None:
    await add_user(site.ctx, "root", Role.ADMIN)
    _, secret = await identity.create_token(
        site.ctx, user_name="root", name="root-view", role_ceiling=Role.VIEWER, actor="system"
    )
    async with site.client({"Authorization": f"Bearer {secret}"}) as limited:
        refused = await limited.post(
            "/account/tokens", data={"name": "escalate", "role_ceiling": "admin"}
        )
        assert refused.status_code == 422 and "above your role (viewer)" in refused.text
        made = await limited.post("/account/tokens", data={"name": "plain"})
        assert made.status_code == 200
    [plain] = [t for t in await identity.list_tokens(site.ctx) if t.name == "plain"]
    assert plain.role_ceiling is Role.VIEWER
