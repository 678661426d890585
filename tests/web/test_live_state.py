"""A live page's state: rendered once per read and role for the viewers who share it, each
viewer's copy with its own CSRF token, and sent only where it changed."""

import contextlib
import re
from collections import Counter
from typing import Any

import httpx2
import pytest

from missionctl.domain.access import Identity, Role
from missionctl.services.usecases import dashboard
from missionctl.web import live_state, sse
from tests.support.auth import ensure_user, sign_in_link_secret
from tests.web.conftest import LiveApp
from tests.web.support import (
    HTMX,
    Inbox,
    Message,
    StreamingASGITransport,
    shown_parts,
    start_steps,
    wait_for_run,
)

A = '<hx-partial hx-target="#a" hx-swap="outerHTML"><p>1</p></hx-partial>\n'
B = '<hx-partial hx-target="#b" hx-swap="innerHTML"><p>x</p></hx-partial>\n'
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
SLOT = re.compile(r"csrf[0-9a-f]{32}")


def test_a_stream_sends_only_the_parts_that_changed_since_it_last_sent_them() -> None:
    sent = live_state.SentParts()
    assert sent.changed(A + B) == A + B
    assert sent.changed(A + B) == ""
    newer = A.replace("1", "2")
    assert sent.changed(newer + B) == newer
    assert sent.changed(A + B) == A  # back as it was: the page shows the newer one, so send it
    assert live_state.SentParts().changed(A + B) == A + B  # each stream remembers its own
    assert sent.changed("<p>no parts</p>") == "<p>no parts</p>"


def test_one_render_serves_every_viewer_of_a_role_each_with_its_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []

    def render(page: str, block: str, context: dict[str, Any]) -> str:
        calls.append(context["current_identity"].role)
        return (
            f'<form data-role="{context["current_identity"].role}">{context["csrf_token"]}</form>'
        )

    monkeypatch.setattr(live_state, "render_fragment", render)
    shared: dict[str, Any] = {live_state.RENDERS: {}}
    ann, bob, vic = (
        Identity(actor=f"user:{n}", user_name=n, role=r)
        for n, r in (("ann", Role.ADMIN), ("bob", Role.ADMIN), ("vic", Role.VIEWER))
    )
    page = "pages/run.html"
    for_ann = live_state.render_state(
        page, {**shared, "current_identity": ann, "csrf_token": "a&1"}
    )
    for_bob = live_state.render_state(page, {**shared, "current_identity": bob, "csrf_token": "b2"})
    for_vic = live_state.render_state(page, {**shared, "current_identity": vic, "csrf_token": "v3"})
    assert for_ann == '<form data-role="admin">a&amp;1</form>'  # escaped as the template would
    assert for_bob == '<form data-role="admin">b2</form>'
    assert for_vic == '<form data-role="viewer">v3</form>'
    assert calls == [Role.ADMIN, Role.VIEWER]
    # A state no one shares (no RENDERS) is rendered for its viewer alone.
    live_state.render_state(page, {"current_identity": ann, "csrf_token": "a"})
    assert calls == [Role.ADMIN, Role.VIEWER, Role.ADMIN]


async def _sign_in(live_app: LiveApp, http: httpx2.AsyncClient, name: str, role: Role) -> None:
    """Sign ``http`` in as ``name`` (a session cookie, so a CSRF token)."""
    await ensure_user(live_app.ctx, name, role)
    secret = await sign_in_link_secret(live_app.ctx, name)
    assert (await http.get(f"/sign-in?token={secret}")).status_code == 303


async def _received(inbox: Inbox) -> list[Message]:
    received = []
    while (message := await inbox.next(2)) is not None:
        received.append(message)
    return received


async def test_viewers_of_one_role_share_each_render_with_their_own_csrf_token(
    live_app: LiveApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three admins and a viewer watch one run page while its steps change it."""
    asked: Counter[Role] = Counter()  # a stream's state for its viewer
    rendered: Counter[Role] = Counter()  # the block actually rendered
    reads = 0  # of the run page's state, shared by the streams that ask together
    render_state, render_fragment = sse.render_state, live_state.render_fragment
    read_run_view = dashboard.read_run_view

    async def reading(*args: Any, **kwargs: Any) -> Any:
        nonlocal reads
        reads += 1
        return await read_run_view(*args, **kwargs)

    def asking(page: str, state: dict[str, Any]) -> str:
        asked[state["current_identity"].role] += 1
        return render_state(page, state)

    def rendering(page: str, block: str, context: dict[str, Any]) -> str:
        rendered[context["current_identity"].role] += 1
        return render_fragment(page, block, context)

    monkeypatch.setattr(dashboard, "read_run_view", reading)
    monkeypatch.setattr(sse, "render_state", asking)
    monkeypatch.setattr(live_state, "render_fragment", rendering)
    steps: list[dict[str, Any]] = [
        {"id": f"s{i}", "agent": "builtin:sleep", "inputs": {"seconds": 0.3}} for i in range(6)
    ]
    for i in range(1, 6):
        steps[i]["depends_on"] = [f"s{i - 1}"]
    run = await start_steps(live_app.ctx, None, steps)
    people = [("ann", Role.ADMIN), ("bob", Role.ADMIN), ("cy", Role.ADMIN), ("vic", Role.VIEWER)]
    async with contextlib.AsyncExitStack() as stack:
        tokens, inboxes = [], []
        for name, role in people:
            http = await stack.enter_async_context(
                httpx2.AsyncClient(
                    transport=StreamingASGITransport(live_app.app), base_url="http://testserver"
                )
            )
            await _sign_in(live_app, http, name, role)
            page = await http.get(f"/runs/{run.id}")
            tokens.append(CSRF_META.search(page.text).group(1))  # type: ignore[union-attr]
            response = await stack.enter_async_context(
                http.stream("GET", f"/runs/{run.id}/stream", headers=HTMX)
            )
            inboxes.append(await stack.enter_async_context(Inbox(response)))
        await wait_for_run(live_app.ctx, run.id)
        received = [await _received(inbox) for inbox in inboxes]

    texts = ["\n".join(m.text for m in messages) for messages in received]
    for i, text in enumerate(texts):
        others = [t for j, t in enumerate(tokens) if j != i]
        assert not SLOT.search(text), "a render's token placeholder reached a page"
        assert not [t for t in others if t in text], f"{people[i][0]} got another's token"
        assert "badge--completed" in shown_parts(received[i])["#run-status"]
    for i in range(3):  # an admin's controls (the stop's form) carry their own token
        assert tokens[i] in texts[i]
    assert "/cancel" in texts[0] and "/cancel" not in texts[3]  # a viewer has no controls
    # Each read was rendered at most once for the three admins, who asked for more states.
    assert rendered[Role.ADMIN] <= reads, (reads, rendered)
    assert rendered[Role.ADMIN] < asked[Role.ADMIN], (rendered, asked)
    assert rendered[Role.VIEWER] <= asked[Role.VIEWER]
