"""Browser sessions: a signed cookie holding a server-side session's secret and a CSRF token.

The cookie is signed (HMAC, itsdangerous) with the server's key and carries its issue time, so
it cannot be forged or kept beyond ``max_age_s``. Once someone signs in it holds the secret of
a server-side session (``services.usecases.sessions``, ADR 0077), which every request checks:
signing out, signing out everywhere, a new password or role, or disabling the user ends it on the
server, so a copy of the cookie stops working too. It holds no user name and no role: those are
read with the session at each request. Every visitor gets a session (anonymous until they sign
in) the first time a page needs its CSRF token, so that the sign-in form itself is protected.

A second, long-lived cookie (``DEVICE_COOKIE``, signed with another salt) names the user who
last signed in on this browser: past the per-account limit of failed sign-ins, the right
password is still accepted from such a known browser (``web/routes/auth.py``), so that
someone guessing at an account cannot lock its owner out.

``SessionMiddleware`` decodes both cookies into ``request.state.session`` and writes them back
when they changed: ``HttpOnly``, ``SameSite=Lax``, and ``Secure`` when the request came over
HTTPS.
"""

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from missionctl.eventlog.private_files import write_new
from missionctl.services.usecases.keys import new_session_key, read_session_key, session_key_path
from missionctl.settings import Settings

SESSION_COOKIE = "missionctl_session"
DEVICE_COOKIE = "missionctl_device"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
# v2 holds a server-side session's secret; a v1 cookie (the user's name) no longer verifies, so
# the sessions signed before server-side sessions existed all ended with the upgrade.
_SALT = "missionctl.session.v2"
_DEVICE_SALT = "missionctl.device.v1"
# How long a browser stays known after its last sign-in (each sign-in renews it).
KNOWN_DEVICE_MAX_AGE_S = 180 * 86_400


def _new_csrf() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class KnownDevice:
    """A browser on which ``user`` signed in before (the device cookie); ``device_id`` is random."""

    user: str
    device_id: str


@dataclass
class Session:
    """One browser's session. ``secret`` is ``None`` until someone signs in.

    ``secret`` names a server-side session; whether it still lets anyone in is asked at each
    request (``security.guard``). ``device`` is what the device cookie says, if anything.
    """

    secret: str | None = None
    csrf: str = field(default_factory=_new_csrf)
    is_new: bool = True
    changed: bool = False
    device: KnownDevice | None = None
    device_changed: bool = False

    def sign_in(self, secret: str, *, user_name: str) -> None:
        """Hold the server-side session ``secret``, with a fresh CSRF token (no fixation).

        The browser becomes a known device of ``user_name``.
        """
        self.secret = secret
        self.csrf = _new_csrf()
        self.changed = True
        device_id = self.device.device_id if self.device else secrets.token_urlsafe(16)
        self.device = KnownDevice(user=user_name, device_id=device_id)
        self.device_changed = True

    def sign_out(self) -> None:
        """Forget the session; the browser keeps an anonymous one with a new CSRF token."""
        self.secret = None
        self.csrf = _new_csrf()
        self.changed = True

    def known_device(self, user_name: str) -> KnownDevice | None:
        """The device cookie when it names ``user_name``, else ``None``."""
        return self.device if self.device is not None and self.device.user == user_name else None

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

    Raises:
        TooLarge: the key file holds more than ``keys.SESSION_KEY_MAX_BYTES`` (it is not read
            further).
    """
    if settings.server.secret_key is not None:
        return settings.server.secret_key.get_secret_value()
    path = session_key_path(settings)
    try:
        return read_session_key(path)
    except FileNotFoundError:
        pass
    # The data directory itself private (mode 0700) when this is what creates it.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = new_session_key()
    try:  # O_EXCL: of two processes starting at once, one writes and both read its key
        write_new(path, key.encode("ascii"), mode=0o600)
    except FileExistsError:
        return read_session_key(path)
    return key


class SessionCodec:
    """Signs sessions into cookie values and reads them back (``None`` if forged or expired).

    ``key`` is the signing key, or a function asked for it at each use (a rotated key file
    takes effect without a restart: ``security.session_key.SessionKeySource``).
    """

    def __init__(self, key: str | Callable[[], str], *, max_age_s: int) -> None:
        self._key = key if callable(key) else lambda: key
        self._signer: tuple[str, URLSafeTimedSerializer] | None = None
        self._device_signer: tuple[str, URLSafeTimedSerializer] | None = None
        self.max_age_s = max_age_s

    @property
    def _serializer(self) -> URLSafeTimedSerializer:
        key = self._key()
        if self._signer is None or self._signer[0] != key:
            self._signer = (key, URLSafeTimedSerializer(key, salt=_SALT))
        return self._signer[1]

    @property
    def _device_serializer(self) -> URLSafeTimedSerializer:
        key = self._key()
        if self._device_signer is None or self._device_signer[0] != key:
            self._device_signer = (key, URLSafeTimedSerializer(key, salt=_DEVICE_SALT))
        return self._device_signer[1]

    def dump(self, session: Session) -> str:
        """The cookie value of ``session``."""
        value: str = self._serializer.dumps({"s": session.secret, "c": session.csrf})
        return value

    def load(self, value: str | None) -> Session | None:
        """The session in a cookie value, or ``None`` if it is missing, forged or too old."""
        data = _verified(self._serializer, value, max_age_s=self.max_age_s)
        if data is None:
            return None
        secret, csrf = data.get("s"), data.get("c")
        if not isinstance(csrf, str) or not (secret is None or isinstance(secret, str)):
            return None
        return Session(secret=secret, csrf=csrf, is_new=False)

    def dump_device(self, device: KnownDevice) -> str:
        """The device cookie's value for ``device``."""
        value: str = self._device_serializer.dumps({"u": device.user, "d": device.device_id})
        return value

    def load_device(self, value: str | None) -> KnownDevice | None:
        """The known device in a device cookie's value, or ``None`` (missing, forged, too old)."""
        data = _verified(self._device_serializer, value, max_age_s=KNOWN_DEVICE_MAX_AGE_S)
        if data is None:
            return None
        user, device_id = data.get("u"), data.get("d")
        if not isinstance(user, str) or not isinstance(device_id, str):
            return None
        return KnownDevice(user=user, device_id=device_id)


def _verified(
    serializer: URLSafeTimedSerializer, value: str | None, *, max_age_s: int
) -> dict[str, Any] | None:
    """The mapping signed into ``value``, or ``None`` if it is missing, forged or too old."""
    if not value:
        return None
    try:
        data: Any = serializer.loads(value, max_age=max_age_s)
    except BadSignature:  # SignatureExpired is a BadSignature
        return None
    return data if isinstance(data, dict) else None


def session_of(request: Request) -> Session:
    """The request's session (the middleware always sets one)."""
    session: Session = request.state.session
    return session


class SessionMiddleware:
    """Puts ``Session`` in ``scope["state"]["session"]``; writes the cookies when they changed."""

    def __init__(self, app: ASGIApp, *, codec: SessionCodec) -> None:
        self.app = app
        self.codec = codec

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Decode the cookies before the app runs; write them if the app changed them."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        jar = _cookies(scope)
        session = self.codec.load(jar.get(SESSION_COOKIE)) or Session()
        session.device = self.codec.load_device(jar.get(DEVICE_COOKIE))
        scope.setdefault("state", {})["session"] = session
        secure = scope.get("scheme") == "https"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if session.changed:
                    value = self.codec.dump(session)
                    age = self.codec.max_age_s
                    headers.append("set-cookie", _header(SESSION_COOKIE, value, age, secure))
                if session.device_changed and session.device is not None:
                    value = self.codec.dump_device(session.device)
                    age = KNOWN_DEVICE_MAX_AGE_S
                    headers.append("set-cookie", _header(DEVICE_COOKIE, value, age, secure))
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _header(name: str, value: str, max_age_s: int, secure: bool) -> str:
    """A ``Set-Cookie`` value: ``HttpOnly``, ``SameSite=Lax``, ``Secure`` over HTTPS."""
    parts = [f"{name}={value}", "Path=/", f"Max-Age={max_age_s}", "HttpOnly", "SameSite=Lax"]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def _cookies(scope: Scope) -> dict[str, str]:
    """The cookies of the request's first ``Cookie`` header (none if it is malformed)."""
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed Cookie header is the same as none
                return {}
            return {key: morsel.value for key, morsel in jar.items()}
    return {}
