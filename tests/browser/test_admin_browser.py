"""Administration in a real browser: an admin adds an operator and hands them a one-time link;
the operator signs in with it, sets a password, makes an API token and sees its secret once;
a viewer finds no administration page, in the sidebar or at its address.

Screenshots of each new page (light theme, 1440 px wide) go to ``test-results/screenshots/``
and, when ``MISSIONCTL_ADMIN_SHOTS`` names a directory, there too.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from missionctl.domain.access import Role
from missionctl.schemas.identity import UserCreate
from missionctl.services import ServiceContext
from missionctl.services.usecases import identity, sign_in_links
from tests.browser.conftest import SCREENSHOT_DIR, seed
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

PASSWORD = "saffron kettle moonlight 7"


def _shot(page: Page, name: str) -> None:
    """Save the whole page under ``name``, and a copy where MISSIONCTL_ADMIN_SHOTS says."""
    page.evaluate("window.scrollTo(0, 0)")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / f"admin-{name}.png"), full_page=True)
    extra = os.environ.get("MISSIONCTL_ADMIN_SHOTS")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(extra) / f"{name}.png"), full_page=True)


def _person(browser: Browser) -> Page:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, color_scheme="light")
    return context.new_page()


def test_an_admin_onboards_an_operator_who_makes_a_token_and_a_viewer_sees_no_admin_page(
    live_server: LiveServer,
    page: Page,
    browser: Browser,
    allowed_console_errors: list[re.Pattern[str]],
) -> None:
    # A refused form answers 422 with the page, which Chromium logs.
    allowed_console_errors.append(re.compile(r"Failed to load resource.*422"))
    page.emulate_media(color_scheme="light")
    base = live_server.url

    # The admin adds an operator.
    page.goto(f"{base}/users")
    page.wait_for_load_state("load")
    expect(page.locator('a.nav__link[href="/users"]')).to_be_visible()
    form = page.locator("#user-form")
    form.locator('[name="name"]').fill("olga")
    form.locator('[name="display_name"]').fill("Olga <b>Operator</b>")
    form.locator('[name="role"]').select_option("operator")
    form.locator('[data-control="add-user"]').click()
    page.wait_for_load_state("load")
    row = page.locator('tr[data-user="olga"]')
    expect(row).to_have_attribute("data-role", "operator")
    expect(row.locator("[data-display-name]")).to_have_text("Olga <b>Operator</b>")
    _shot(page, "users")

    # A name that is no slug is refused beside its field, and nothing is added.
    form.locator('[name="name"]').fill("Bad Name")
    form.locator('[data-control="add-user"]').click()
    page.wait_for_load_state("load")
    expect(page.locator('[data-field="name"] .field__error')).to_contain_text("sign-in name")
    expect(page.locator("tr[data-user]")).to_have_count(2)
    _shot(page, "users-refused")

    # ... and makes a one-time sign-in link, shown this once.
    row.locator('[data-control="sign-in-link"]').click()
    page.wait_for_load_state("load")
    link = page.locator("#sign-in-link").inner_text().strip()
    assert link.startswith(f"{base}/sign-in?token=mcl_")
    expect(page.get_by_test_id("sign-in-link")).to_contain_text("for 15 minutes")
    _shot(page, "users-sign-in-link")
    page.goto(f"{base}/users")
    assert link not in page.content()

    page.goto(f"{base}/tokens")
    page.wait_for_load_state("load")
    _shot(page, "tokens")
    page.goto(f"{base}/settings")
    page.wait_for_load_state("load")
    expect(page.get_by_test_id("settings")).to_contain_text("MISSIONCTL_SERVER_HOST")
    _shot(page, "settings")

    # The operator signs in with the link, sets a password and makes a token.
    olga = _person(browser)
    olga.goto(link)
    expect(olga).to_have_url(f"{base}/missions")
    expect(olga.locator('a.nav__link[href="/users"]')).to_have_count(0)
    olga.locator('a.nav__link[href="/account"]').click()
    olga.wait_for_load_state("load")
    expect(olga.get_by_role("heading", name="Set a password")).to_be_visible()
    olga.locator('#password-form [name="password"]').fill(PASSWORD)
    olga.locator('#password-form [name="confirm"]').fill(PASSWORD)
    olga.locator('[data-control="change-password"]').click()
    olga.wait_for_load_state("load")
    expect(olga.get_by_test_id("notice")).to_contain_text("Password changed")
    expect(olga.get_by_role("heading", name="Change your password")).to_be_visible()

    token_form = olga.locator("#token-form")
    token_form.locator('[name="name"]').fill("olga-cli")
    token_form.locator('[name="role_ceiling"]').select_option("viewer")
    token_form.locator('[name="expires_in_days"]').fill("30")
    token_form.locator('[data-control="create-token"]').click()
    olga.wait_for_load_state("load")
    secret = olga.locator("#token-secret").inner_text().strip()
    assert secret.startswith("mc_")
    olga.locator('[data-control="copy-secret"]').click()
    expect(olga.locator('[data-control="copy-secret"]')).to_have_attribute("data-copied", "true")
    _shot(olga, "account-token-secret")
    olga.goto(f"{base}/account")
    assert secret not in olga.content()
    expect(olga.locator('tr[data-token="olga-cli"]')).to_contain_text("viewer")
    _shot(olga, "account")

    # The operator can sign in with the new password from now on.
    assert seed(
        live_server.settings,
        lambda ctx: identity.verify_password(ctx, name="olga", password=PASSWORD),
    )
    olga.context.close()

    # The admin sees the operator's token listed, never its secret.
    page.goto(f"{base}/tokens")
    page.wait_for_load_state("load")
    expect(page.locator('tr[data-token="olga-cli"]')).to_contain_text("olga")
    assert secret not in page.content()
    _shot(page, "tokens-listed")

    # A viewer sees no administration entry, and the address answers 403.
    async def add_viewer(ctx: ServiceContext) -> str:
        await identity.create_user(
            ctx, data=UserCreate(name="vera", role=Role.VIEWER), actor="system"
        )
        return await sign_in_links.create_sign_in_link(ctx, user_name="vera")

    vera_link = seed(live_server.settings, add_viewer)
    vera = _person(browser)
    vera.goto(f"{base}/sign-in?token={vera_link}")
    expect(vera).to_have_url(f"{base}/missions")
    expect(vera.locator('a.nav__link[href="/users"]')).to_have_count(0)
    expect(vera.locator('a.nav__link[href="/account"]')).to_be_visible()
    for path in ("/users", "/tokens", "/settings"):
        answer = vera.goto(f"{base}{path}")
        assert answer is not None and answer.status == 403, path
    expect(vera.locator("h1")).to_have_text("Not allowed")
    _shot(vera, "viewer-403")
    vera.context.close()
