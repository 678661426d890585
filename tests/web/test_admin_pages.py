"""The Users, API tokens and Settings pages: admins only, every change through the use cases.

Each form is tried as every role and anonymously, with hostile input (a 10 KB name, markup in
a display name, a role not in the list), without its CSRF token, and twice at once; a refused
form answers with the field at fault and changes nothing. Secrets (a new token, a sign-in
link) are shown once, in the answer that made them, and are in no event.
"""

import asyncio
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from missionctl.domain.access import Role
from missionctl.services.usecases import identity, sign_in_links
from missionctl.settings import LLMSettings, ServerSettings, Settings
from tests.identity.helpers import PASSWORD, add_user
from tests.web.admin_support import (
    ROLES_BELOW_ADMIN,
    Site,
    all_event_text,
    events_of,
    running_site,
)


@pytest.fixture
async def site(settings: Settings) -> AsyncIterator[Site]:
    async with running_site(settings) as running:
        yield running


async def test_an_admin_adds_a_user_changes_role_sets_password_makes_a_link_and_disables(
    site: Site,
) -> None:
    async with await site.as_role(Role.ADMIN, "root") as admin:
        page = await admin.get("/users")
        assert page.status_code == 200
        assert 'href="/users"' in page.text and 'href="/account"' in page.text  # the sidebar
        hostile = "<script>alert(1)</script>"
        form = {"name": "olga", "display_name": hostile, "role": "operator"}
        added = await admin.post("/users", data=form)
        assert (added.status_code, added.headers["location"]) == (303, "/users")
        page = await admin.get("/users")
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and hostile not in page.text
        assert 'data-user="olga" data-role="operator"' in page.text

        moved = await admin.post("/users/olga/role", data={"role": "approver"})
        assert moved.status_code == 303
        assert (await identity.read_user(site.ctx, name="olga")).role is Role.APPROVER

        set_pw = await admin.post("/users/olga/password", data={"password": PASSWORD})
        assert set_pw.status_code == 303
        assert (await identity.read_user(site.ctx, name="olga")).has_password

        made = await admin.post("/users/olga/sign-in-link")
        assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
        assert "http://testserver/sign-in?token=mcl_" in made.text
        assert "It works once, for 15 minutes." in made.text
        secret = made.text.split("/sign-in?token=")[1].split("<")[0]
        assert secret not in (await admin.get("/users")).text  # shown once, only once
        assert await sign_in_links.peek_sign_in_link(site.ctx, secret=secret) == "olga"

        off = await admin.post("/users/olga/disable")
        assert off.status_code == 303
        assert (await identity.read_user(site.ctx, name="olga")).disabled
    [link_event] = await events_of(site.ctx, "sign_in_link.created")
    assert link_event.actor.startswith("token:root")
    log = await all_event_text(site.ctx)
    assert secret not in log and PASSWORD not in log


async def test_refused_user_forms_name_the_field_and_change_nothing(site: Site) -> None:
    async with await site.as_role(Role.ADMIN, "root") as admin:
        await admin.post("/users", data={"name": "olga", "role": "operator"})
        before = await identity.list_users(site.ctx)
        for form, field, message, status in (
            ({"name": "a" * 10_000, "role": "viewer"}, "name", "Too long", 422),
            ({"name": "Olga Smith", "role": "viewer"}, "name", "Give a sign-in name", 422),
            ({"name": "pat", "role": "superuser"}, "role", "Choose one of viewer", 422),
            ({"name": "pat", "role": "viewer", "password": "short"}, "password", "Use 12", 422),
            ({"name": "pat", "role": "viewer", "password": "password1234"}, "password", "", 422),
            ({"name": "pat", "display_name": "x" * 300}, "display_name", "Too long", 422),
            ({"name": "olga", "role": "viewer"}, "name", "already exists", 409),
        ):
            refused = await admin.post("/users", data=form)
            assert refused.status_code == status, form
            text = refused.text
            assert f'data-field="{field}"' in text and "field--invalid" in text, form
            assert message in text and "Nothing was saved" in text, form
        assert await identity.list_users(site.ctx) == before

        for path, data, field, status in (
            ("/users/olga/role", {"role": "root"}, "role", 422),
            ("/users/root/role", {"role": "viewer"}, "role", 409),  # the only enabled admin
            ("/users/root/disable", {}, "name", 409),
            ("/users/olga/password", {"password": "password1234"}, "password", 422),
            ("/users/nobody/role", {"role": "viewer"}, "role", 404),
            ("/users/nobody/sign-in-link", {}, "name", 404),
        ):
            refused = await admin.post(path, data=data)
            assert refused.status_code == status, path
            assert 'data-testid="row-error"' in refused.text, path
            assert f"<code>{field}</code>" in refused.text and "Nothing was changed" in refused.text
            assert "mcl_" not in refused.text
        assert await identity.list_users(site.ctx) == before
        huge = await admin.post("/users/" + "a" * 10_000 + "/disable")
        assert huge.status_code in (404, 422) and huge.status_code < 500


async def test_two_creates_of_one_user_at_once_one_wins_one_gets_a_conflict(site: Site) -> None:
    async with await site.as_role(Role.ADMIN, "root") as admin:
        form = {"name": "twin", "role": "operator"}
        answers = await asyncio.gather(
            admin.post("/users", data=form), admin.post("/users", data=form)
        )
    assert sorted(a.status_code for a in answers) == [303, 409]
    [lost] = [a for a in answers if a.status_code == 409]
    assert "A user called &#39;twin&#39; already exists." in lost.text
    assert [u.name for u in await identity.list_users(site.ctx)].count("twin") == 1


@pytest.mark.parametrize("role", ROLES_BELOW_ADMIN)
async def test_roles_below_admin_see_no_admin_page_and_are_refused(site: Site, role: Role) -> None:
    async with await site.as_role(Role.ADMIN, "root") as admin:
        await admin.post("/users", data={"name": "olga", "role": "operator"})
        await admin.post("/tokens", data={"name": "olga-ci", "user_name": "olga"})
    async with await site.as_role(role) as someone:
        home = await someone.get("/missions")
        assert 'href="/users"' not in home.text and 'href="/account"' in home.text
        for path in ("/users", "/tokens", "/settings"):
            assert (await someone.get(path)).status_code == 403, path
        for path, data in (
            ("/users", {"name": "mallory", "role": "admin"}),
            ("/users/olga/role", {"role": "admin"}),
            ("/users/olga/password", {"password": PASSWORD}),
            ("/users/olga/sign-in-link", {}),
            ("/users/olga/disable", {}),
            ("/tokens", {"name": "stolen", "user_name": "root"}),
            ("/tokens/olga-ci/revoke", {}),
        ):
            refused = await someone.post(path, data=data)
            assert refused.status_code == 403, path
            assert "mcl_" not in refused.text and "mc_" not in refused.text
    names = {u.name: u for u in await identity.list_users(site.ctx)}
    assert "mallory" not in names and names["olga"].role is Role.OPERATOR
    assert not names["olga"].disabled and not names["olga"].has_password
    tokens = {t.name: t for t in await identity.list_tokens(site.ctx)}
    assert "stolen" not in tokens and tokens["olga-ci"].revoked_at is None


async def test_anonymous_callers_go_to_sign_in_and_change_nothing(site: Site) -> None:
    async with site.client({"accept": "text/html"}) as anonymous:
        for path in ("/users", "/tokens", "/settings", "/account"):
            answer = await anonymous.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/sign-in?next="), path
        for path in ("/users", "/tokens", "/account/password", "/account/tokens"):
            assert (await anonymous.post(path, data={"name": "x"})).status_code == 401, path
    assert await identity.list_users(site.ctx) == []


async def test_a_form_without_the_csrf_token_is_refused(site: Site) -> None:
    await add_user(site.ctx, "root", Role.ADMIN)
    async with site.browser() as browser:
        assert (await browser.sign_in("root")).status_code == 303
        page = await browser.http.get("/users")
        assert page.status_code == 200 and 'name="csrf_token"' in page.text
        for path, data in (
            ("/users", {"name": "olga", "role": "operator"}),
            ("/users/root/sign-in-link", {}),
            ("/tokens", {"name": "t1", "user_name": "root"}),
        ):
            refused = await browser.http.post(path, data=data)
            assert refused.status_code == 403, path
            assert "mcl_" not in refused.text and "mc_" not in refused.text
            wrong = await browser.http.post(path, data={**data, "csrf_token": "forged"})
            assert wrong.status_code == 403, path
        assert [u.name for u in await identity.list_users(site.ctx)] == ["root"]
        assert await identity.list_tokens(site.ctx) == []
        csrf = await browser.csrf("/users")
        done = await browser.http.post(
            "/users", data={"name": "olga", "role": "operator", "csrf_token": csrf}
        )
        assert done.status_code == 303


async def test_an_admin_creates_lists_and_revokes_tokens(site: Site) -> None:
    await add_user(site.ctx, "olga", Role.OPERATOR)
    async with await site.as_role(Role.ADMIN, "root") as admin:
        form = {
            "name": "olga-ci",
            "user_name": "olga",
            "role_ceiling": "viewer",
            "expires_in_days": "30",
        }
        made = await admin.post("/tokens", data=form)
        assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
        secret = made.text.split('id="token-secret" data-secret>')[1].split("<")[0]
        assert secret.startswith("mc_") and 'data-copy="token-secret"' in made.text
        listed = await admin.get("/tokens")
        assert secret not in listed.text and 'data-token="olga-ci"' in listed.text
        assert secret[:8] in listed.text  # the prefix, to recognise it
        async with site.client({"Authorization": f"Bearer {secret}"}) as olga:
            me = (await olga.get("/api/v1/me")).json()
            assert (me["user_name"], me["role"]) == ("olga", "viewer")

            for bad, field, message, status in (
                ({**form, "name": "other", "role_ceiling": "admin"}, "role_ceiling", "above", 422),
                ({**form, "name": "other", "role_ceiling": "root"}, "role_ceiling", "Choose", 422),
                ({**form, "name": "other", "expires_in_days": "abc"}, "expires_in_days", "", 422),
                ({**form, "name": "other", "expires_in_days": "0"}, "expires_in_days", "", 422),
                ({**form, "name": "x" * 10_000}, "name", "slug", 422),
                ({**form, "name": "other", "user_name": "nobody"}, "user_name", "nobody", 404),
                (form, "name", "exists or existed", 409),
            ):
                refused = await admin.post("/tokens", data=bad)
                assert refused.status_code == status, bad
                assert f'data-field="{field}"' in refused.text and message in refused.text, bad
                assert "Nothing was created" in refused.text and "data-secret" not in refused.text
            assert [t.name for t in await identity.list_tokens(site.ctx)][-1] != "other"

            revoked = await admin.post("/tokens/olga-ci/revoke")
            assert (revoked.status_code, revoked.headers["location"]) == (303, "/tokens")
            assert (await olga.get("/api/v1/me")).status_code == 401
        unknown = await admin.post("/tokens/nothing-here/revoke")
        assert unknown.status_code == 404 and "Nothing was revoked" in unknown.text
    assert "other" not in {t.name for t in await identity.list_tokens(site.ctx)}
    assert secret not in await all_event_text(site.ctx)


async def test_the_settings_page_shows_effective_settings_and_no_secret(
    settings: Settings,
) -> None:
    secrets = {"server": "s3rv3r-k3y-" + "q" * 32, "llm": "sk-" + "z" * 40}
    configured = settings.model_copy(
        update={
            "server": ServerSettings(secret_key=SecretStr(secrets["server"])),
            "llm": LLMSettings(api_key=SecretStr(secrets["llm"])),
        }
    )
    async with running_site(configured) as site:
        async with await site.as_role(Role.ADMIN, "root") as admin:
            page = await admin.get("/settings")
        assert page.status_code == 200
        assert "MISSIONCTL_SERVER_HOST" in page.text and "MISSIONCTL_LLM_API_KEY" in page.text
        for secret in secrets.values():
            assert secret not in page.text
        for href in ('href="/users"', 'href="/tokens"', 'href="/settings/prices"'):
            assert href in page.text


async def test_the_palette_offers_the_admin_pages_to_admins_only(site: Site) -> None:
    async with await site.as_role(Role.ADMIN, "root") as admin:
        found = (await admin.get("/api/v1/palette", params={"q": "api tokens"})).json()
        assert "/tokens" in str(found)
        found = (await admin.get("/api/v1/palette", params={"q": "users"})).json()
        assert "/users" in str(found)
    async with await site.as_role(Role.APPROVER) as approver:
        for query in ("api tokens", "users", "settings"):
            found = str((await approver.get("/api/v1/palette", params={"q": query})).json())
            assert "'/tokens'" not in found and "'/users'" not in found, query
            assert "'/settings'" not in found, query
        assert "/account" in str(
            (await approver.get("/api/v1/palette", params={"q": "account"})).json()
        )
