"""Signatures of the requests Mission Control sends out (webhooks, HTTP agents) and their check.

A request carries the header ``Missionctl-Signature: t=<unix seconds>,v1=<hex>`` where ``v1`` is
HMAC-SHA256, keyed with the shared secret, over ``"<t>." + body`` (the scheme of Stripe's and
GitHub's webhooks). Binding the time stops a captured request from being replayed later than
``tolerance_s``; binding the body stops it from being altered. A receiver recomputes the MAC
with ``verify`` (or any HMAC library) and compares in constant time.
"""

import hashlib
import hmac
import time
from typing import Final

SIGNATURE_HEADER: Final = "Missionctl-Signature"
TOLERANCE_S: Final = 300.0
"""How old (or how far in the future) a signed timestamp may be by default."""


class SignatureError(ValueError):
    """A signature header is missing, malformed, stale or does not match the body."""


def sign(secret: str, body: bytes, *, at: float | None = None) -> str:
    """The ``Missionctl-Signature`` header value for ``body`` sent at ``at`` (default: now)."""
    timestamp = int(time.time() if at is None else at)
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


def verify(
    secret: str,
    body: bytes,
    header: str | None,
    *,
    now: float | None = None,
    tolerance_s: float = TOLERANCE_S,
) -> int:
    """Check ``header`` against ``body``; return its timestamp.

    Raises:
        SignatureError: the header is missing or malformed, its time is more than
            ``tolerance_s`` from ``now``, or no ``v1`` value matches.
    """
    if not header:
        raise SignatureError(f"the {SIGNATURE_HEADER} header is missing")
    timestamp, macs = _parse(header)
    moment = time.time() if now is None else now
    if abs(moment - timestamp) > tolerance_s:
        raise SignatureError(f"the signature's time is more than {tolerance_s:g} s from now")
    expected = _mac(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, mac) for mac in macs):
        raise SignatureError("the signature does not match the body")
    return timestamp


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _parse(header: str) -> tuple[int, list[str]]:
    """``t`` and every ``v1`` of a header (several ``v1`` while a secret is being rotated)."""
    timestamp: int | None = None
    macs: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == "v1" and value:
            macs.append(value)
    if timestamp is None or not macs:
        raise SignatureError(f"the {SIGNATURE_HEADER} header must read t=<seconds>,v1=<hex>")
    return timestamp, macs
