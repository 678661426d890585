"""Browser sessions: a signed cookie holding the signed-in user's name and a CSRF token.

The cookie is signed (HMAC, itsdangerous) with the server's key and carries its issue time, so
it cannot be forged or kept beyond ``max_age_s``. It holds no secret beyond the CSRF token and
no role: the user's current role and whether they are still enabled are read at each request.
Every visitor gets a session (anonymous until they sign in) the first time a page needs its
CSRF token, so that the sign-in form itself is protected.

``SessionMiddleware`` decodes the cookie into ``request.state.session`` and writes it back when
it changed: ``HttpOnly``, ``SameSite=Lax``, and ``Secure`` when the request came over HTTPS.
"""

import hmac
import os
import secrets
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from missionctl.settings import Settings

SESSION_COOKIE = "missionctl_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
_SALT = "missionctl.session.v1"
_KEY_FILE = "secret_key"


def _new_csrf() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class Session:
    """One browser's session. ``user`` is ``None`` until someone signs in."""

    user: str | None = None
    csrf: str = field(default_factory=_new_csrf)
    is_new: bool = True
    changed: bool = False

    def sign_in(self, user_name: str) -> None:
        """Bind the session to ``user_name`` with a fresh CSRF token (no fixation)."""
        self.user = user_name
        self.csrf = _new_csrf()
        self.changed = True

    def sign_out(self) -> None:
        """Forget the user; the browser keeps an anonymous session with a new CSRF token."""
        self.user = None
        self.csrf = _new_csrf()
        self.changed = True

    def csrf_token(self) -> str:
        """The token forms and htmx send back; a new session is persisted when first asked."""
        if self.is_new:
            self.changed = True
        return self.csrf

    def csrf_matches(self, candidate: str | None) -> bool:
        """Whether ``candidate`` is this session's token (constant-time comparison)."""
        if not candidate or self.is_new:
            return False
        return hmac.compare_digest(candidate.encode(), self.csrf.encode())


def load_secret_key(settings: Settings) -> str:
    """The session-signing key: the setting, else ``HOME/secret_key`` (made, mode 0600, once).

    A missing data directory is created with mode 0700.
    """
    if settings.server.secret_key is not None:
        return settings.server.secret_key.get_secret_value()
    path = Path(settings.home) / _KEY_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    # The data directory itself private (mode 0700) when this is what creates it.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:  # O_EXCL: of two processes starting at once, one writes and both read its key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


class SessionCodec:
    """Signs sessions into cookie values and reads them back (``None`` if forged or expired)."""

    def __init__(self, key: str, *, max_age_s: int) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt=_SALT)
        self.max_age_s = max_age_s

    def dump(self, session: Session) -> str:
        """The cookie value of ``session``."""
        value: str = self._serializer.dumps({"u": session.user, "c": session.csrf})
        return value

    def load(self, value: str | None) -> Session | None:
        """The session in a cookie value, or ``None`` if it is missing, forged or too old."""
        if not value:
            return None
        try:
            data: Any = self._serializer.loads(value, max_age=self.max_age_s)
        except BadSignature:  # SignatureExpired is a BadSignature
            return None
        if not isinstance(data, dict):
            return None
        user, csrf = data.get("u"), data.get("c")
        if not isinstance(csrf, str) or not (user is None or isinstance(user, str)):
            return None
        return Session(user=user, csrf=csrf, is_new=False)


def session_of(request: Request) -> Session:
    """The request's session (the middleware always sets one)."""
    session: Session = request.state.session
    return session


class SessionMiddleware:
    """Puts ``Session`` in ``scope["state"]["session"]``; writes the cookie when it changed."""

    def __init__(self, app: ASGIApp, *, codec: SessionCodec) -> None:
        self.app = app
        self.codec = codec

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Decode the session before the app runs; write the cookie if the app changed it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session = self.codec.load(_cookie(scope)) or Session()
        scope.setdefault("state", {})["session"] = session
        secure = scope.get("scheme") == "https"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and session.changed:
                headers = MutableHeaders(scope=message)
                headers.append("set-cookie", self._cookie_header(session, secure=secure))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie_header(self, session: Session, *, secure: bool) -> str:
        parts = [
            f"{SESSION_COOKIE}={self.codec.dump(session)}",
            "Path=/",
            f"Max-Age={self.codec.max_age_s}",
            "HttpOnly",
            "SameSite=Lax",
        ]
        if secure:
            parts.append("Secure")
        return "; ".join(parts)


def _cookie(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed Cookie header is the same as none
                return None
            morsel = jar.get(SESSION_COOKIE)
            return None if morsel is None else morsel.value
    return None
