"""Security headers on every response.

The pages load scripts, styles and images only from this origin and have no inline scripts,
handlers or style attributes (``base.html``), so the policy needs no ``'unsafe-inline'``.
``frame-ancestors 'none'`` (and ``X-Frame-Options`` for older browsers) stops clickjacking;
``same-origin`` referrers keep one-time sign-in links and ids out of other sites' logs.

Every response outside ``/static`` depends on who asks (pages, API answers, live streams,
downloads), so it carries ``Cache-Control: no-store``: no browser or proxy keeps a copy for the
next user of the machine. The vendored static files stay cacheable. A request that came over
HTTPS also gets ``Strict-Transport-Security``. "Came over HTTPS" is the request's scheme as the
server saw it: behind a reverse proxy, uvicorn takes it from ``X-Forwarded-Proto`` only when the
proxy's address is trusted (``FORWARDED_ALLOW_IPS``, by default 127.0.0.1); this middleware never
reads forwarded headers itself.
"""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
NO_STORE = "no-store"
# A year, and every subdomain: the value browsers' preload lists ask for (without "preload",
# which is a commitment an operator makes, not the software).
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"
STATIC_PREFIX = "/static/"


class SecurityHeadersMiddleware:
    """Adds ``SECURITY_HEADERS`` to every HTTP response (keeping any a route set itself).

    Also ``Cache-Control: no-store`` outside ``/static`` (replacing a route's own, which could
    only be weaker) and ``Strict-Transport-Security`` on HTTPS requests.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to the response as it starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        private = not str(scope.get("path", "")).startswith(STATIC_PREFIX)
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if private:
                    headers["cache-control"] = NO_STORE
                if https:
                    headers["strict-transport-security"] = STRICT_TRANSPORT_SECURITY
            await send(message)

        await self.app(scope, receive, send_with_headers)
