"""Every page warns while the step sandbox is off or cannot start, and says nothing otherwise."""

import httpx2

from missionctl.app import create_app
from missionctl.settings import SandboxSettings, Settings
from tests.support.auth import bearer_headers


async def _page(settings: Settings, path: str = "/missions") -> str:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        headers = await bearer_headers(app.state.ctx)
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(
            transport=transport, base_url="http://testserver", headers=headers
        ) as http:
            response = await http.get(path)
            assert response.status_code == 200
            return response.text


async def test_no_banner_while_programs_are_confined(settings: Settings) -> None:
    assert "sandbox-banner" not in await _page(settings)


async def test_a_turned_off_sandbox_is_a_warning_on_every_page(settings: Settings) -> None:
    off = settings.model_copy(update={"sandbox": SandboxSettings(mode="off")})
    for path in ("/missions", "/runs", "/workflows"):
        page = await _page(off, path)
        assert 'class="sandbox-banner"' in page
        assert "run unconfined" in page


async def test_a_sandbox_that_cannot_start_says_steps_are_refused(settings: Settings) -> None:
    broken = settings.model_copy(
        update={"sandbox": SandboxSettings(bwrap_path="/nonexistent/bwrap")}
    )
    page = await _page(broken)
    assert "Command steps are refused" in page
    assert "is not installed" in page
